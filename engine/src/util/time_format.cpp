#include "util/time_format.hpp"

#include <cstdio>
#include <ctime>

namespace runbook {

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = std::time_t(ms / 1000);
  // Formatting the date is the slow part; lines come many per second.
  thread_local std::time_t cached_secs = -1;
  thread_local char cached[32];
  if (secs != cached_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_secs = secs;
  }
  int milli = int(ms % 1000);
  std::string out(cached);
  out += '.';
  out += char('0' + milli / 100);
  out += char('0' + milli / 10 % 10);
  out += char('0' + milli % 10);
  out += 'Z';
  return out;
}

std::string format_clock(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  // Local time needs the time zone rules: format once a second.
  thread_local std::time_t cached_secs = -1;
  thread_local char cached[16];
  if (secs != cached_secs) {
    std::tm tm{};
    localtime_r(&secs, &tm);
    std::strftime(cached, sizeof cached, "%H:%M:%S", &tm);
    cached_secs = secs;
  }
  return cached;
}

std::string format_elapsed(std::chrono::milliseconds d) {
  long long ms = d.count();
  char out[32];
  if (ms < 1000) {
    std::snprintf(out, sizeof out, "%lldms", ms);
  } else if (ms < 60'000) {
    std::snprintf(out, sizeof out, "%.1fs", double(ms) / 1000);
  } else if (ms < 3'600'000) {
    std::snprintf(out, sizeof out, "%lldm%02llds", ms / 60'000, (ms / 1000) % 60);
  } else {
    std::snprintf(out, sizeof out, "%lldh%02lldm", ms / 3'600'000, (ms / 60'000) % 60);
  }
  return out;
}

}  // namespace runbook
