// The history as an event sink: each event becomes an insert or update in
// history.db. A thread of the sink's own opens the database and writes the
// events in one transaction at most every kWriteEvery, and at once when a
// run starts or ends or a rollback starts or ends: the executor's loop never
// waits for SQLite (opening it, a busy lock, a checkpoint), and a chain of
// short steps pays for a commit now and then, not at every step. The history
// is an index for people and tools; the audit log, fsync'd before every step
// starts, is the record that `resume` and `rollback` complete it from.

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runbook/store.hpp"
#include "store/history_db.hpp"
#include "util/time_format.hpp"

namespace runbook {
namespace {

using store::Database;
using store::SqliteError;
using store::Statement;
using store::Transaction;

constexpr auto kWriteEvery = std::chrono::milliseconds(100);
constexpr size_t kMaxPending = 1000;

std::optional<long long> exit_code_of(const Event& e) {
  if (!e.exit_code) return std::nullopt;
  return *e.exit_code;
}

// Events whose row must be in the history at once: what `history` shows of
// a run that is going on, and what `rollback` goes by.
bool is_urgent(EventKind kind) {
  switch (kind) {
    case EventKind::run_started:
    case EventKind::run_ended:
    case EventKind::rollback_started:
    case EventKind::rollback_ended:
      return true;
    default:
      return false;
  }
}

class HistorySink : public EventSink {
 public:
  HistorySink(std::string state_dir, std::string runbook_sha256, Actor actor)
      : state_dir_(std::move(state_dir)),
        sha256_(std::move(runbook_sha256)),
        actor_(std::move(actor)) {
    // Signals are for the executor's thread: the writer blocks them all.
    sigset_t all, before;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &before);
    writer_ = std::thread([this] { write_loop(); });
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
  }

  // Writes what is left before the process goes on (or exits).
  ~HistorySink() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    writer_.join();
  }

  void on_event(const Event& e) override {
    if (e.kind == EventKind::output) return;
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      pending_.push_back(e);
      urgent_ = urgent_ || is_urgent(e.kind);
      wake = urgent_ || pending_.size() >= kMaxPending;
    }
    if (wake) wake_.notify_one();
  }

 private:
  template <class F>
  void guard(F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      if (!warned_) {
        warned_ = true;
        spdlog::warn("run history not recorded in {}: {}", history_db_path(state_dir_), e.what());
      }
    }
  }

  // The writer's thread: opens the database, then writes what came in
  // batches until the sink is destroyed.
  void write_loop() {
    guard([&] { db_ = store::open_history_for_writing(state_dir_); });
    std::vector<Event> batch;
    for (bool done = false; !done;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait_for(lock, kWriteEvery,
                       [&] { return stopping_ || urgent_ || pending_.size() >= kMaxPending; });
        batch.swap(pending_);
        urgent_ = false;
        done = stopping_;
      }
      write(batch);
      batch.clear();
    }
    if (db_) guard([&] { store::checkpoint_history_if_large(*db_, state_dir_); });
  }

  // Writes `batch` in one transaction (rolled back whole if any of it fails).
  void write(const std::vector<Event>& batch) {
    if (batch.empty() || !db_) return;
    guard([&] {
      Transaction transaction(*db_);
      for (const Event& e : batch) record(e);
      transaction.commit();
    });
  }

  void record(const Event& e) {
    const std::string ts = format_rfc3339(e.ts);
    const long long duration = e.duration.count();
    switch (e.kind) {
      case EventKind::run_started:
        run_started(e, ts);
        break;
      case EventKind::step_started:
        db_->cached(
               "INSERT INTO steps (run_id, step_id, start_order, state, started_at, log_path) "
               "VALUES (?1, ?2, ?5, 'running', ?3, ?4) "
               "ON CONFLICT (run_id, step_id) DO UPDATE SET start_order = excluded.start_order, "
               "state = 'running', started_at = excluded.started_at, ended_at = NULL, "
               "exit_code = NULL, signal = NULL, duration_ms = NULL, message = NULL, "
               "outputs = NULL, log_path = excluded.log_path")
            .bind(1, e.run_id)
            .bind(2, e.step_id)
            .bind(3, ts)
            .bind(4, e.log_path)
            .bind(5, ++last_start_order_)
            .run();
        break;
      case EventKind::attempt_started:
        if (std::string_view(e.of) != "step") break;  // not the step's own attempts
        db_->cached(
               "INSERT OR REPLACE INTO attempts (run_id, step_id, attempt, state, started_at) "
               "VALUES (?, ?, ?, 'running', ?)")
            .bind(1, e.run_id)
            .bind(2, e.step_id)
            .bind(3, (long long)e.attempt)
            .bind(4, ts)
            .run();
        break;
      case EventKind::attempt_ended:
        if (std::string_view(e.of) != "step") break;  // not the step's own attempts
        db_->cached(
               "INSERT INTO attempts (run_id, step_id, attempt, state, started_at, ended_at, "
               "exit_code, signal, duration_ms, message) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, "
               "?8, ?9) ON CONFLICT (run_id, step_id, attempt) DO UPDATE SET state = "
               "excluded.state, ended_at = excluded.ended_at, exit_code = excluded.exit_code, "
               "signal = excluded.signal, duration_ms = excluded.duration_ms, message = "
               "excluded.message")
            .bind(1, e.run_id)
            .bind(2, e.step_id)
            .bind(3, (long long)e.attempt)
            .bind(4, to_string(e.state))
            .bind(5, ts)
            .bind(6, exit_code_of(e))
            .bind(7, (long long)e.signal)
            .bind(8, duration)
            .bind(9, e.message)
            .run();
        break;
      case EventKind::step_ended:
        // A step that an earlier process of a resumed run recorded as
        // succeeded keeps its times.
        db_->cached(
               "INSERT INTO steps (run_id, step_id, state, ended_at, exit_code, signal, "
               "duration_ms, message, log_path, outputs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
               "?9, ?10) ON CONFLICT (run_id, step_id) DO UPDATE SET state = excluded.state, "
               "ended_at = excluded.ended_at, exit_code = excluded.exit_code, signal = "
               "excluded.signal, duration_ms = excluded.duration_ms, message = excluded.message, "
               "outputs = excluded.outputs "
               "WHERE NOT (steps.state = 'succeeded' AND excluded.state = 'succeeded')")
            .bind(1, e.run_id)
            .bind(2, e.step_id)
            .bind(3, to_string(e.state))
            .bind(4, ts)
            .bind(5, exit_code_of(e))
            .bind(6, (long long)e.signal)
            .bind(7,
                  e.state == StepState::not_run ? std::nullopt : std::optional<long long>(duration))
            .bind(8, e.message)
            .bind(9, e.log_path)
            .bind(10, e.outputs_json)
            .run();
        break;
      case EventKind::rollback_started:
        rollback_seen_ = true;
        db_->cached(
               "INSERT OR REPLACE INTO rollbacks (run_id, step_id, state, started_at, log_path) "
               "VALUES (?, ?, 'running', ?, ?)")
            .bind(1, e.run_id)
            .bind(2, e.step_id)
            .bind(3, ts)
            .bind(4, e.log_path)
            .run();
        break;
      case EventKind::rollback_ended:
        if (e.state != StepState::succeeded) rollback_failed_ = true;
        ended("rollbacks", "step_id", e, ts);
        break;
      case EventKind::hook_started:
        db_->cached(
               "INSERT OR REPLACE INTO hooks (run_id, hook_id, start_order, state, started_at, "
               "log_path) VALUES (?1, ?2, (SELECT coalesce(max(start_order), 0) + 1 FROM hooks "
               "WHERE run_id = ?1), 'running', ?3, ?4)")
            .bind(1, e.run_id)
            .bind(2, e.step_id)
            .bind(3, ts)
            .bind(4, e.log_path)
            .run();
        break;
      case EventKind::hook_ended:
        ended("hooks", "hook_id", e, ts);
        break;
      case EventKind::run_ended:
        run_ended(e, ts);
        break;
      default:
        break;  // warnings and confirmations are in the audit log
    }
  }

  void ended(const std::string& table, const std::string& id_column, const Event& e,
             const std::string& ts) {
    std::string sql = "INSERT INTO " + table + " (run_id, " + id_column +
                      ", state, started_at, ended_at, exit_code, signal, duration_ms, message, "
                      "log_path) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9) "
                      "ON CONFLICT (run_id, " +
                      id_column +
                      ") DO UPDATE SET state = excluded.state, ended_at = excluded.ended_at, "
                      "exit_code = excluded.exit_code, signal = excluded.signal, duration_ms = "
                      "excluded.duration_ms, message = excluded.message";
    db_->cached(sql)
        .bind(1, e.run_id)
        .bind(2, e.step_id)
        .bind(3, to_string(e.state))
        .bind(4, ts)
        .bind(5, exit_code_of(e))
        .bind(6, (long long)e.signal)
        .bind(7, (long long)e.duration.count())
        .bind(8, e.message)
        .bind(9, e.log_path)
        .run();
  }

  void run_started(const Event& e, const std::string& ts) {
    rollback_only_ = e.rollback_only;
    // A resumed run numbers its starts after those of its earlier processes.
    Statement& last =
        db_->cached("SELECT coalesce(max(start_order), 0) FROM steps WHERE run_id = ?1");
    last.bind(1, e.run_id);
    last_start_order_ = last.step() ? last.integer(0) : 0;
    last.reset();
    const long pid = long(::getpid());
    std::optional<long long> pid_start;
    if (auto info = store::process_info(pid)) pid_start = info->start_ticks;
    // A resumed run, or `runbook rollback` of a recorded one, continues its
    // row; the first process creates it.
    std::string on_conflict =
        e.rollback_only
            ? "rollback_state = 'running', pid = excluded.pid, pid_start = excluded.pid_start, "
              "host = excluded.host"
            : "state = 'running', ended_at = NULL, exit_code = NULL, message = NULL, pid = "
              "excluded.pid, pid_start = excluded.pid_start, host = excluded.host, resumes = "
              "resumes + 1";
    std::string sql =
        "INSERT INTO runs (id, runbook, path, sha256, params, trigger, user, uid, sudo_user, "
        "host, pid, pid_start, started_at, state, rollback_state) VALUES (?1, ?2, ?3, ?4, ?5, "
        "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT (id) DO UPDATE SET " +
        on_conflict;
    db_->cached(sql)
        .bind(1, e.run_id)
        .bind(2, e.runbook_name)
        .bind(3, e.runbook_path)
        .bind(4, sha256_)
        .bind(5, e.params_json)
        .bind(6, e.trigger)
        .bind(7, actor_.user)
        .bind(8, (long long)actor_.uid)
        .bind(9, actor_.sudo_user)
        .bind(10, actor_.host)
        .bind(11, (long long)pid)
        .bind(12, pid_start)
        .bind(13, ts)
        .bind(14, e.rollback_only ? "failed" : "running")
        .bind(15, e.rollback_only ? "running" : "")
        .run();
  }

  void run_ended(const Event& e, const std::string& ts) {
    const bool rolled_back = rollback_only_ || rollback_seen_;
    std::string rollback_state = rolled_back ? (rollback_failed_ ? "failed" : "succeeded") : "";
    const std::string state = to_string(e.run_state);
    if (rollback_only_) {
      // `runbook rollback` keeps the run's own outcome unless its rollback
      // failed.
      db_->cached(
             "UPDATE runs SET state = CASE WHEN ?2 = 'rollback_failed' THEN ?2 ELSE state END, "
             "rollback_state = ?3, rolled_back_at = ?4 WHERE id = ?1")
          .bind(1, e.run_id)
          .bind(2, state)
          .bind(3, rollback_state)
          .bind(4, ts)
          .run();
      return;
    }
    db_->cached(
           "UPDATE runs SET state = ?2, ended_at = ?3, exit_code = ?4, message = ?5, "
           "rollback_state = coalesce(?6, rollback_state), rolled_back_at = coalesce(?7, "
           "rolled_back_at) WHERE id = ?1")
        .bind(1, e.run_id)
        .bind(2, state)
        .bind(3, ts)
        .bind(4, (long long)exit_code_for(e.run_state))
        .bind(5, e.message)
        .bind(6, rollback_state)
        .bind(7, rolled_back ? ts : std::string())
        .run();
  }

  std::string state_dir_, sha256_;
  Actor actor_;
  // The writer's own: the database and what record() keeps between events.
  std::unique_ptr<Database> db_;
  // Shared with the executor's thread, under mutex_.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Event> pending_;
  bool urgent_ = false;
  bool stopping_ = false;
  std::thread writer_;
  long long last_start_order_ = 0;  // of this run's steps
  bool rollback_only_ = false, rollback_seen_ = false, rollback_failed_ = false;
  bool warned_ = false;
};

}  // namespace

std::string history_db_path(const std::string& state_dir) {
  return state_dir + "/history.db";
}

std::unique_ptr<EventSink> make_history_sink(const std::string& state_dir,
                                             const std::string& runbook_sha256) {
  return std::make_unique<HistorySink>(state_dir, runbook_sha256, current_actor());
}

}  // namespace runbook
