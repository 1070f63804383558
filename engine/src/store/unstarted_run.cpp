// Runs that never started, recorded by the trigger server: one audit record
// and one history row, so that `runbook history` and `runbook audit tail`
// show a skipped schedule fire next to the runs that did happen.

#include <spdlog/spdlog.h>

#include <exception>
#include <string>

#include "runbook/store.hpp"
#include "store/history_db.hpp"
#include "util/time_format.hpp"

namespace runbook {

std::string record_unstarted_run(const std::string& state_dir, const UnstartedRun& run,
                                 Actor actor) {
  const SystemTime now = std::chrono::system_clock::now();
  {
    AuditLog log(audit_log_path(state_dir), actor);
    AuditRecord r("run.not_started", run.run_id, now);
    r.trigger(run.trigger);
    r.add("runbook", run.runbook_name);
    r.add("path", run.runbook_path);
    if (!run.runbook_sha256.empty()) r.add("sha256", run.runbook_sha256);
    if (!run.schedule.empty()) r.add("schedule", run.schedule);
    r.add_object("params", run.params_json);
    r.add("state", to_string(run.state));
    r.add("reason", run.reason);
    log.append(std::move(r));
    if (!log.flush()) return log.error();
  }
  try {
    auto db = store::open_history_for_writing(state_dir);
    const std::string ts = format_rfc3339(now);
    db->prepare(
          "INSERT INTO runs (id, runbook, path, sha256, params, trigger, user, uid, sudo_user, "
          "host, pid, started_at, ended_at, state, exit_code, message) VALUES (?1, ?2, ?3, ?4, "
          "?5, ?6, ?7, ?8, ?9, ?10, 0, ?11, ?11, ?12, NULL, ?13) ON CONFLICT (id) DO NOTHING")
        .bind(1, run.run_id)
        .bind(2, run.runbook_name)
        .bind(3, run.runbook_path)
        .bind(4, run.runbook_sha256)
        .bind(5, run.params_json)
        .bind(6, run.trigger)
        .bind(7, actor.user)
        .bind(8, (long long)actor.uid)
        .bind(9, actor.sudo_user)
        .bind(10, actor.host)
        .bind(11, ts)
        .bind(12, to_string(run.state))
        .bind(13, run.reason)
        .run();
  } catch (const std::exception& e) {
    spdlog::warn("run {} not recorded in {}: {}", run.run_id, history_db_path(state_dir), e.what());
  }
  return {};
}

}  // namespace runbook
