#pragma once

// What a run leaves behind in the state directory: the audit log
// (audit.jsonl), the run history (history.db) and the locks (locks/). The
// command line and the trigger server use these; the executor does not know
// them, it only feeds events to the sinks made here.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runbook/duration.hpp"
#include "runbook/events.hpp"

namespace runbook {

// ---- who acts ---------------------------------------------------------------

// The person (or service account) behind this process, as the audit log and
// history record them.
struct Actor {
  std::string user;       // the effective user's name ("root"), else its uid as text
  long uid = -1;          // the effective uid
  std::string sudo_user;  // $SUDO_USER when set: who ran sudo
  std::string host;       // gethostname()
};
// Who this process runs as, looked up on the first call.
Actor current_actor();

// ---- the audit log ----------------------------------------------------------
//
// audit.jsonl holds one JSON object per line. Every line is
//
//   {"seq":N,"ts":"…","run_id":"…","event":"…",<more members>,"prev":"P","hash":"H"}
//
// with, in this order: `seq` (1-based, continuous across processes), `ts`
// (RFC 3339 UTC, milliseconds), `run_id`, `event`, the actor (`user`, `uid`,
// `sudo_user` when set, `host`, `trigger`), the members of the event, then
// `prev` and `hash`, both 64 lowercase hex digits:
//
//   prev = SHA-256 of the previous line's bytes, without its newline; 64
//          zeros for the first line of the file.
//   hash = SHA-256 of the line's text up to, not including, the
//          `,"hash":"` that ends it, followed by a single `}`. In other
//          words: remove the hash member and hash what is left, byte for
//          byte, as written (no re-serialisation, no whitespace changes).
//
// Changing any byte of a line breaks its `hash`; removing, inserting or
// reordering lines breaks `seq` and `prev`. A writer that finds a torn last
// line (a crash cut it off: no newline at the end, or not a record) removes
// it and writes an `audit.truncated` record saying how many bytes went.

// One audit record before it is written. `seq`, `prev` and `hash` are added
// when it is appended.
class AuditRecord {
 public:
  AuditRecord(std::string event, std::string run_id,
              SystemTime ts = std::chrono::system_clock::now());
  // Members in the order added, after the actor. Names must be plain
  // identifiers; values are escaped here.
  AuditRecord& add(std::string_view name, std::string_view value);
  AuditRecord& add(std::string_view name, long long value);
  // `json` must already be one valid JSON value (params, a label map).
  AuditRecord& add_json(std::string_view name, std::string_view json);
  // A JSON object as it is (params); anything else as a string, so that the
  // line stays valid JSON.
  AuditRecord& add_object(std::string_view name, std::string_view json);
  // The actor's trigger (cli, cron, alert, api); empty leaves it out.
  AuditRecord& trigger(std::string_view trigger);

  const std::string& event() const { return event_; }
  const std::string& run_id() const { return run_id_; }
  SystemTime ts() const { return ts_; }
  const std::string& trigger() const { return trigger_; }
  // `,"name":value` for every member added, in order.
  const std::string& members() const { return members_; }

 private:
  std::string event_, run_id_, trigger_, members_;
  SystemTime ts_;
};

// Appends records to one audit file, write-ahead: append() queues, flush()
// makes everything queued durable (one write and one fsync for the whole
// batch) under an exclusive flock on the file, so that several processes
// appending to the same file keep one valid chain. Not thread-safe: use one
// AuditLog per thread (two of them on the same file are fine).
class AuditLog {
 public:
  explicit AuditLog(std::string path, Actor actor = current_actor());
  ~AuditLog();  // flushes what is still queued
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  void append(AuditRecord record);
  // False when the records could not be made durable; error() says why.
  bool flush();
  // Sticky: once a write failed nothing more is written.
  // "cannot write audit log /x/audit.jsonl: No space left on device".
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }
  size_t pending() const { return queue_.size(); }

 private:
  bool open_file();
  std::string path_;
  Actor actor_;
  int fd_ = -1;
  std::vector<AuditRecord> queue_;
  std::string error_;
  // The end of the chain as this log last wrote it: while the file still
  // has the size it left, no one wrote after it and the end need not be
  // read back.
  long long written_size_ = -1;
  long long written_seq_ = 0;
  std::string written_prev_;
};

std::string audit_log_path(const std::string& state_dir);  // STATE/audit.jsonl

// The audit log as an event sink for one run: every event but step output
// becomes a record. Records are written and fsync'd together at flush(),
// which the executor calls before it spawns (the write-ahead point) and at
// the end of each turn of its loop; flush_async() does the same on a thread
// of the sink's own, in order with flush(). error() is the fail-closed signal.
std::unique_ptr<EventSink> make_audit_sink(const std::string& file,
                                           const std::string& runbook_sha256,
                                           Actor actor = current_actor());

struct AuditCheck {
  enum class Outcome { ok, bad, unreadable };
  Outcome outcome = Outcome::ok;
  size_t records = 0;            // lines read before the first bad one (all of them when ok)
  size_t line = 0;               // bad: the first bad line, 1-based
  std::optional<long long> seq;  // bad: its seq, when it could be read
  std::string problem;           // bad: what is wrong; unreadable: why the file cannot be read
  size_t truncations = 0;        // audit.truncated records seen
};

// Checks every line's hash, the seq sequence and the prev chain; stops at the
// first bad line.
AuditCheck verify_audit_log(const std::string& file);

// One line of the log, with its members decoded for display.
struct AuditEntry {
  std::string line;  // the raw line, without its newline
  long long seq = 0;
  std::string ts, run_id, event, step_id, state, message, user, trigger;
  std::string of;  // "rollback" or "hook" for the attempts of one
  std::optional<long long> attempt, exit_code, signal, duration_ms;
};

// The last `count` records (only those of `run_id` when it is not empty),
// oldest first. Reads the file from its end. nullopt with `error` set when the
// file cannot be read.
std::optional<std::vector<AuditEntry>> tail_audit_log(const std::string& file, size_t count,
                                                      const std::string& run_id,
                                                      std::string* error);

// ---- history ----------------------------------------------------------------

std::string history_db_path(const std::string& state_dir);  // STATE/history.db

struct AttemptRecord {
  int attempt = 0;
  std::string state;  // running while it runs
  std::optional<int> exit_code;
  int signal = 0;
  std::string started_at, ended_at;  // RFC 3339; ended_at empty while running
  std::optional<long long> duration_ms;
  std::string message;
};

struct RollbackRecord {
  std::string state;  // running, succeeded, failed, timed_out, cancelled
  std::optional<int> exit_code;
  int signal = 0;
  std::string started_at, ended_at;
  std::optional<long long> duration_ms;
  std::string log_path, message;
};

struct StepRecord {
  std::string id;
  std::string state;    // a StepState name
  int start_order = 0;  // 1 for the step that started first; 0: never started
  std::string started_at, ended_at;
  std::optional<int> exit_code;
  int signal = 0;
  std::optional<long long> duration_ms;
  std::string log_path, message;
  std::string outputs_json;  // a JSON object of strings, secrets masked; "" when none
  std::vector<AttemptRecord> attempts;
  std::optional<RollbackRecord> rollback;
  bool started() const { return !started_at.empty(); }
  bool ended() const { return !ended_at.empty(); }
};

struct HookRecord {
  std::string id, state, started_at, ended_at, log_path, message;
  std::optional<int> exit_code;
  std::optional<long long> duration_ms;
};

struct RunSummary {
  std::string id, runbook, path, sha256, trigger, user, host;
  std::string state;  // a RunState name
  std::string started_at, ended_at;
  long pid = 0;
  std::optional<int> exit_code;
  std::string message;
  std::string params_json = "{}";  // secrets masked
  // Set when the run's rollbacks ran: succeeded, failed, or running.
  std::string rollback_state, rolled_back_at;
  // `running`, but its engine (pid on this host) is gone: crash, kill -9,
  // reboot. `runbook resume ID` goes on with it.
  bool engine_gone = false;
};

struct RecordedRun : RunSummary {
  std::vector<StepRecord> steps;  // started ones in start order, then the rest
  std::vector<HookRecord> hooks;  // in start order
  const StepRecord* find_step(std::string_view id) const;
  // Ids of the steps that started, in the order they started.
  std::vector<std::string> started_steps() const;
};

// The history as an event sink: runs, steps, attempts, rollbacks and hooks.
// Events are committed together at flush(). A failure is logged once
// (spdlog) and the run goes on: the audit log, not the history, is the
// record that fails closed.
std::unique_ptr<EventSink> make_history_sink(const std::string& state_dir,
                                             const std::string& runbook_sha256);

// A run the trigger server accepted or was due to start but that never
// started: a schedule's fire skipped by its overlap rule or a full queue, a
// queued run cancelled at shutdown, a run whose process refused to start
// (its lock was held, its params no longer check).
struct UnstartedRun {
  std::string run_id;
  std::string runbook_name, runbook_path, runbook_sha256;
  std::string trigger;             // cron, api, alert
  std::string params_json = "{}";  // secrets masked
  RunState state = RunState::skipped;
  std::string reason;    // why it did not start, for people
  std::string schedule;  // the schedule that fired, if any
};

// Records `run` in the audit log (one `run.not_started` record with its
// `state` and `reason`), then in history as a run that started and ended at
// once with that state and reason; a run already in history is left as it
// is. Returns "" or why the audit record could not be written (history
// failures are logged, as for runs).
std::string record_unstarted_run(const std::string& state_dir, const UnstartedRun& run,
                                 Actor actor = current_actor());

struct RunFilter {
  std::string runbook;  // name; empty: any
  std::string state;    // a RunState name, or "engine_gone"; empty: any
  int limit = 50;       // <= 0: no limit
};

// Runs, newest first. An absent history.db is no runs. nullopt with `error`
// set when the database cannot be read.
std::optional<std::vector<RunSummary>> list_runs(const std::string& state_dir,
                                                 const RunFilter& filter, std::string* error);

// One run with its steps, attempts, rollbacks and hooks; nullopt when there is
// no such run (`error` empty) or the database cannot be read (`error` set).
std::optional<RecordedRun> load_run(const std::string& state_dir, const std::string& run_id,
                                    std::string* error);

// Completes `run`, read from the history, with the starts and ends of its
// steps that only the audit log holds: the history may lose its last commits
// to a power cut, the audit log (fsync'd before each step starts) does not.
// `runbook resume` and `runbook rollback` rely on it. An absent audit log
// adds nothing; false with `error` set when it cannot be read.
bool complete_from_audit_log(const std::string& audit_file, RecordedRun& run, std::string* error);

// Deletes runs that ended more than `days` days ago, with their step logs
// (runs/RUN_ID/). Returns how many runs went; nullopt with `error` on failure.
std::optional<int> prune_history(const std::string& state_dir, int days, std::string* error);

// JSON for `history --output json` (one run) and `show --output json` (the
// run plus params and steps), see cli-and-server.md "JSON shapes".
std::string to_json(const RunSummary& run);
std::string to_json(const RecordedRun& run);

// ---- locks ------------------------------------------------------------------

struct LockAttempt;

// Who holds a lock, as written into its file by the holder.
struct LockHolder {
  std::string run_id;
  long pid = 0;
  std::string host;
  std::string since;  // RFC 3339
};

// An exclusive lock for a `lock:` key, across processes: flock on
// STATE/locks/<key>.lock. The kernel drops it when the holding process dies,
// so a crashed holder never leaves a stale lock. The file descriptor is
// close-on-exec: steps never inherit the lock. Moving keeps the lock;
// destruction releases it.
class RunLock {
 public:
  RunLock() = default;
  ~RunLock() { release(); }
  RunLock(RunLock&& other) noexcept;
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  bool held() const { return fd_ >= 0; }
  const std::string& key() const { return key_; }
  const std::string& path() const { return path_; }
  void release();

 private:
  friend LockAttempt acquire_run_lock(const std::string& state_dir, std::string_view key,
                                      const std::string& run_id, Duration wait);
  int fd_ = -1;
  std::string key_, path_;
};

struct LockAttempt {
  enum class Outcome { acquired, held, error };
  Outcome outcome = Outcome::error;
  RunLock lock;                      // acquired: the lock, held until it is destroyed
  std::optional<LockHolder> holder;  // held: who has it, when its file says so
  // held: "lock 'restart-web' is held by run 20261121-153012-7f3a (pid 123 on
  // host web1) since 15:30:12"; error: why the lock file cannot be used.
  std::string message;
};

// Takes the lock for `key`, trying at once and then every 100ms until `wait`
// has passed (zero: one try). On success writes `run_id`, the pid, the host
// and the time into the lock file.
LockAttempt acquire_run_lock(const std::string& state_dir, std::string_view key,
                             const std::string& run_id, Duration wait = Duration{0});

// The lock file's name for a key: the key with anything but [A-Za-z0-9._-]
// replaced by '_', cut to 64 characters, then '-' and 8 hex digits of its
// SHA-256 so that distinct keys never share a file: "restart-web-1f2e3d4c.lock".
std::string lock_file_name(std::string_view key);

// SHA-256 of `data` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace runbook
