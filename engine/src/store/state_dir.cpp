#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>

#include "runbook/executor.hpp"

namespace runbook {

std::string default_state_dir() {
  if (const char* dir = std::getenv("RUNBOOK_STATE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/runbook";
  const char* home = std::getenv("HOME");
  if (!home || !*home) {
    if (passwd* pw = ::getpwuid(::getuid())) home = pw->pw_dir;
  }
  return std::string(home ? home : ".") + "/.local/state/runbook";
}

std::string make_run_id() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  static std::mt19937 rng{std::random_device{}()};
  char id[48];
  std::snprintf(id, sizeof id, "%s-%04x", stamp, unsigned(rng() & 0xffff));
  return id;
}

}  // namespace runbook
