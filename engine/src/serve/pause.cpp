// The kill switch: STATE/paused, made by `runbook pause` or POST /v1/pause.

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "runbook/serve.hpp"
#include "runbook/store.hpp"
#include "util/files.hpp"
#include "util/time_format.hpp"

namespace runbook {

std::string paused_file(const std::string& state_dir) {
  return state_dir + "/paused";
}

std::optional<std::string> remediation_paused(const std::string& state_dir) {
  const std::string path = paused_file(state_dir);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line.empty() ? std::string("paused (") + path + ")" : line;
}

std::string set_remediation_paused(const std::string& state_dir, bool paused,
                                   const std::string& reason, const std::string& via) {
  const std::string path = paused_file(state_dir);
  const bool was_paused = remediation_paused(state_dir).has_value();
  if (paused == was_paused) return "";
  std::string error;
  if (!make_directories(state_dir, &error, 0700)) return error;
  const Actor actor = current_actor();
  // The audit record comes first: a pause that is not recorded did not happen.
  AuditLog log(audit_log_path(state_dir), actor);
  AuditRecord record(paused ? "remediation.paused" : "remediation.resumed", "");
  record.add("via", via);
  if (!reason.empty()) record.add("reason", reason);
  log.append(std::move(record));
  if (!log.flush()) return log.error();
  if (!paused) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return "cannot remove " + path + ": " + std::strerror(errno);
    return "";
  }
  std::string text = "paused by " + actor.user + "@" + actor.host + " at " +
                     format_rfc3339(std::chrono::system_clock::now()) + " (" + via + ")";
  if (!reason.empty()) text += ": " + reason;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text << "\n";
    if (!out.flush()) return "cannot write " + tmp + ": " + std::strerror(errno);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return "cannot create " + path + ": " + std::strerror(errno);
  return "";
}

}  // namespace runbook
