// Reading the history: runs, one run in full, and pruning old runs.

#include <chrono>
#include <string>

#include "runbook/store.hpp"
#include "store/history_db.hpp"
#include "util/files.hpp"
#include "util/time_format.hpp"

namespace runbook {
namespace {

using store::Database;
using store::SqliteError;
using store::Statement;

constexpr const char* kRunColumns =
    "id, runbook, path, sha256, trigger, user, host, state, started_at, ended_at, pid, "
    "exit_code, message, params, rollback_state, rolled_back_at, pid_start";

std::optional<int> maybe_int(const Statement& s, int column) {
  if (auto v = s.maybe_integer(column)) return int(*v);
  return std::nullopt;
}

RunSummary read_run(const Statement& s) {
  RunSummary run;
  run.id = s.text(0);
  run.runbook = s.text(1);
  run.path = s.text(2);
  run.sha256 = s.text(3);
  run.trigger = s.text(4);
  run.user = s.text(5);
  run.host = s.text(6);
  run.state = s.text(7);
  run.started_at = s.text(8);
  run.ended_at = s.text(9);
  run.pid = long(s.integer(10));
  run.exit_code = maybe_int(s, 11);
  run.message = s.text(12);
  run.params_json = s.text(13);
  if (run.params_json.empty()) run.params_json = "{}";
  run.rollback_state = s.text(14);
  run.rolled_back_at = s.text(15);
  if (run.state == "running")
    run.engine_gone = store::engine_is_gone(run.host, run.pid, s.maybe_integer(16));
  return run;
}

template <class F>
auto guarded(std::string* error, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const SqliteError& e) {
    if (error) *error = e.what();
    return std::nullopt;
  }
}

}  // namespace

const StepRecord* RecordedRun::find_step(std::string_view id) const {
  for (const StepRecord& s : steps)
    if (s.id == id) return &s;
  return nullptr;
}

std::vector<std::string> RecordedRun::started_steps() const {
  std::vector<std::string> ids;
  for (const StepRecord& s : steps)
    if (s.start_order > 0) ids.push_back(s.id);
  return ids;
}

std::optional<std::vector<RunSummary>> list_runs(const std::string& state_dir,
                                                 const RunFilter& filter, std::string* error) {
  return guarded(error, [&]() -> std::optional<std::vector<RunSummary>> {
    std::vector<RunSummary> runs;
    std::unique_ptr<Database> db = store::open_history_for_reading(state_dir);
    if (!db) return runs;
    const bool gone_only = filter.state == "engine_gone";
    std::string sql = std::string("SELECT ") + kRunColumns +
                      " FROM runs WHERE (?1 IS NULL OR runbook = ?1) AND (?2 IS NULL OR state = "
                      "?2) ORDER BY started_at DESC, id DESC LIMIT ?3";
    Statement select = db->prepare(sql.c_str());
    select.bind(1, filter.runbook);
    select.bind(2, gone_only ? std::string("running") : filter.state);
    select.bind(3, (long long)(filter.limit > 0 && !gone_only ? filter.limit : -1));
    while (select.step()) {
      RunSummary run = read_run(select);
      if (gone_only && !run.engine_gone) continue;
      runs.push_back(std::move(run));
      if (filter.limit > 0 && int(runs.size()) >= filter.limit) break;
    }
    return runs;
  });
}

std::optional<RecordedRun> load_run(const std::string& state_dir, const std::string& run_id,
                                    std::string* error) {
  if (error) error->clear();
  return guarded(error, [&]() -> std::optional<RecordedRun> {
    std::unique_ptr<Database> db = store::open_history_for_reading(state_dir);
    if (!db) return std::nullopt;
    std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?";
    Statement select = db->prepare(sql.c_str());
    select.bind(1, run_id);
    if (!select.step()) return std::nullopt;
    RecordedRun run;
    static_cast<RunSummary&>(run) = read_run(select);

    Statement steps = db->prepare(
        "SELECT step_id, state, start_order, started_at, ended_at, exit_code, signal, "
        "duration_ms, log_path, message, outputs FROM steps WHERE run_id = ? "
        "ORDER BY start_order = 0, start_order, rowid");
    steps.bind(1, run_id);
    while (steps.step()) {
      StepRecord& s = run.steps.emplace_back();
      s.id = steps.text(0);
      s.state = steps.text(1);
      s.start_order = int(steps.integer(2));
      s.started_at = steps.text(3);
      s.ended_at = steps.text(4);
      s.exit_code = maybe_int(steps, 5);
      s.signal = int(steps.integer(6));
      s.duration_ms = steps.maybe_integer(7);
      s.log_path = steps.text(8);
      s.message = steps.text(9);
      s.outputs_json = steps.text(10);
    }

    Statement attempts = db->prepare(
        "SELECT step_id, attempt, state, exit_code, signal, started_at, ended_at, duration_ms, "
        "message FROM attempts WHERE run_id = ? ORDER BY step_id, attempt");
    attempts.bind(1, run_id);
    while (attempts.step()) {
      std::string step_id = attempts.text(0);
      for (StepRecord& s : run.steps) {
        if (s.id != step_id) continue;
        AttemptRecord& a = s.attempts.emplace_back();
        a.attempt = int(attempts.integer(1));
        a.state = attempts.text(2);
        a.exit_code = maybe_int(attempts, 3);
        a.signal = int(attempts.integer(4));
        a.started_at = attempts.text(5);
        a.ended_at = attempts.text(6);
        a.duration_ms = attempts.maybe_integer(7);
        a.message = attempts.text(8);
      }
    }

    Statement rollbacks = db->prepare(
        "SELECT step_id, state, exit_code, signal, started_at, ended_at, duration_ms, log_path, "
        "message FROM rollbacks WHERE run_id = ?");
    rollbacks.bind(1, run_id);
    while (rollbacks.step()) {
      std::string step_id = rollbacks.text(0);
      for (StepRecord& s : run.steps) {
        if (s.id != step_id) continue;
        RollbackRecord& r = s.rollback.emplace();
        r.state = rollbacks.text(1);
        r.exit_code = maybe_int(rollbacks, 2);
        r.signal = int(rollbacks.integer(3));
        r.started_at = rollbacks.text(4);
        r.ended_at = rollbacks.text(5);
        r.duration_ms = rollbacks.maybe_integer(6);
        r.log_path = rollbacks.text(7);
        r.message = rollbacks.text(8);
      }
    }

    Statement hooks = db->prepare(
        "SELECT hook_id, state, started_at, ended_at, log_path, message, exit_code, duration_ms "
        "FROM hooks WHERE run_id = ? ORDER BY start_order, rowid");
    hooks.bind(1, run_id);
    while (hooks.step()) {
      HookRecord& h = run.hooks.emplace_back();
      h.id = hooks.text(0);
      h.state = hooks.text(1);
      h.started_at = hooks.text(2);
      h.ended_at = hooks.text(3);
      h.log_path = hooks.text(4);
      h.message = hooks.text(5);
      h.exit_code = maybe_int(hooks, 6);
      h.duration_ms = hooks.maybe_integer(7);
    }
    return run;
  });
}

std::optional<int> prune_history(const std::string& state_dir, int days, std::string* error) {
  return guarded(error, [&]() -> std::optional<int> {
    std::unique_ptr<Database> db = store::open_history_for_reading(state_dir);
    if (!db) return 0;
    const std::string cutoff =
        format_rfc3339(std::chrono::system_clock::now() - std::chrono::hours(24) * days);
    std::vector<std::string> ids;
    {
      store::Transaction prune(*db);
      Statement old = db->prepare(
          "SELECT id FROM runs WHERE ended_at IS NOT NULL AND ended_at < ? AND state <> "
          "'running'");
      old.bind(1, cutoff);
      while (old.step()) ids.push_back(old.text(0));
      for (const char* table : {"attempts", "steps", "rollbacks", "hooks"}) {
        std::string sql = std::string("DELETE FROM ") + table +
                          " WHERE run_id IN (SELECT id FROM runs WHERE ended_at IS NOT NULL AND "
                          "ended_at < ?1 AND state <> 'running')";
        db->prepare(sql.c_str()).bind(1, cutoff).run();
      }
      db->prepare(
            "DELETE FROM runs WHERE ended_at IS NOT NULL AND ended_at < ?1 AND state <> "
            "'running'")
          .bind(1, cutoff)
          .run();
      prune.commit();
    }
    for (const std::string& id : ids) {
      // Ids come from the engine, but the database is a file anyone with
      // access may edit: never follow one out of runs/.
      if (id.empty() || id.find('/') != std::string::npos || id == "." || id == "..") continue;
      remove_tree(state_dir + "/runs/" + id);
    }
    return int(ids.size());
  });
}

}  // namespace runbook
