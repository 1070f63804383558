// The audit log as an event sink: one record per event, step output excepted
// (it is in the step logs). Records are written and fsync'd by flush() on the
// caller's thread, or by flush_async() on a thread of the sink's own, so that
// the executor can reap and start other steps during the fsync.

#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "runbook/store.hpp"

namespace runbook {
namespace {

bool is_start(EventKind kind) {
  switch (kind) {
    case EventKind::run_started:
    case EventKind::step_started:
    case EventKind::attempt_started:
    case EventKind::rollback_started:
    case EventKind::hook_started:
      return true;
    default:
      return false;
  }
}

bool is_end(EventKind kind) {
  switch (kind) {
    case EventKind::attempt_ended:
    case EventKind::step_ended:
    case EventKind::rollback_ended:
    case EventKind::hook_ended:
      return true;
    default:
      return false;
  }
}

class AuditSink : public EventSink {
 public:
  AuditSink(const std::string& file, std::string runbook_sha256, Actor actor)
      : log_(file, std::move(actor)), sha256_(std::move(runbook_sha256)) {}

  // Writes what is still queued before the process goes on (or exits).
  ~AuditSink() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (writer_.joinable()) writer_.join();
    write(std::exchange(records_, {}));
  }

  void on_event(const Event& e) override {
    if (e.kind == EventKind::output) return;
    if (e.kind == EventKind::run_started && !e.trigger.empty()) trigger_ = e.trigger;
    AuditRecord r(to_string(e.kind), e.run_id, e.ts);
    r.trigger(trigger_);
    if (!e.step_id.empty()) r.add("step_id", e.step_id);
    // Attempts of a rollback or a hook carry the id of their step or hook;
    // say which they are.
    if ((e.kind == EventKind::attempt_started || e.kind == EventKind::attempt_ended) &&
        std::string_view(e.of) != "step")
      r.add("of", e.of);
    if (e.kind == EventKind::run_started) {
      r.add("runbook", e.runbook_name);
      r.add("path", e.runbook_path);
      r.add("sha256", sha256_);
      r.add_object("params", e.params_json);  // masked by the caller
      if (!e.alert_json.empty()) r.add_object("alert", e.alert_json);
      r.add("steps", e.total_steps);
      if (e.resumed) r.add_json("resumed", "true");
      if (e.rollback_only) r.add_json("rollback_only", "true");
    } else if (e.kind == EventKind::attempt_started) {
      r.add("attempt", e.attempt);
      r.add("max_attempts", e.max_attempts);
    } else if (is_start(e.kind)) {
      if (!e.message.empty()) r.add("command", e.message);
      if (!e.log_path.empty()) r.add("log", e.log_path);
    } else if (is_end(e.kind)) {
      if (e.attempt) r.add("attempt", e.attempt);
      r.add("state", to_string(e.state));
      if (e.exit_code) r.add("exit_code", *e.exit_code);
      if (e.signal) r.add("signal", e.signal);
      if (e.state != StepState::not_run) r.add("duration_ms", e.duration.count());
      if (e.retry_in) r.add("retry_in_ms", e.retry_in->count());
      if (!e.message.empty()) r.add("message", e.message);
    } else if (e.kind == EventKind::run_ended) {
      r.add("state", to_string(e.run_state));
      r.add("exit_code", exit_code_for(e.run_state));
      r.add("duration_ms", e.duration.count());
      if (!e.message.empty()) r.add("message", e.message);
    } else if (!e.message.empty()) {
      r.add("message", e.message);  // warnings, confirmations, and kinds added later
    }
    // Made durable by a flush, which the executor asks for before it starts
    // a process and at the end of each turn of its loop: the records of a
    // wave of steps share one fsync.
    records_.push_back(std::move(r));
  }

  // After what flush_async() was given, in order.
  void flush() override {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [this] { return batches_.empty() && !writing_; });
    write_here();
  }

  // `done` must not call flush(): flush() waits for it to return.
  void flush_async(std::function<void()> done) override {
    std::unique_lock<std::mutex> lock(mutex_);
    if (records_.empty() && batches_.empty() && !writing_) {
      lock.unlock();
      if (done) done();  // nothing to write, nothing being written
      return;
    }
    if (!writer_.joinable() && !start_writer()) {
      // No thread for it (none was ever started): written here, as flush().
      write_here();
      lock.unlock();
      if (done) done();
      return;
    }
    batches_.push_back({std::exchange(records_, {}), std::move(done)});
    lock.unlock();
    wake_.notify_one();
  }

  std::string error() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return error_;
  }

 private:
  struct Batch {
    std::vector<AuditRecord> records;
    std::function<void()> done;
  };

  // Only one thread at a time: the writer while writing_, or a caller of
  // flush() holding mutex_ while the writer is idle.
  void write(std::vector<AuditRecord> records) {
    for (AuditRecord& r : records) log_.append(std::move(r));
    log_.flush();
  }

  // What was received, written on this thread; mutex_ held, the writer idle.
  void write_here() {
    write(std::exchange(records_, {}));
    error_ = log_.error();
  }

  // False when no thread could be started.
  bool start_writer() {
    // Signals are for the executor's thread: the writer blocks them all.
    sigset_t all, before;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &before);
    try {
      writer_ = std::thread([this] { write_loop(); });
    } catch (const std::system_error&) {
    }
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
    return writer_.joinable();
  }

  // Every batch waiting is written with one fsync. The writer is idle again
  // (for flush()) only once the batches' `done`s have returned.
  void write_loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stopping_ || !batches_.empty(); });
      if (batches_.empty()) return;
      std::vector<Batch> taken = std::move(batches_);
      batches_.clear();
      writing_ = true;
      lock.unlock();
      std::vector<AuditRecord> records;
      for (Batch& b : taken)
        for (AuditRecord& r : b.records) records.push_back(std::move(r));
      write(std::move(records));
      lock.lock();
      error_ = log_.error();
      lock.unlock();
      for (Batch& b : taken)
        if (b.done) b.done();
      taken.clear();
      lock.lock();
      writing_ = false;
      idle_.notify_all();
    }
  }

  AuditLog log_;
  std::string sha256_;
  std::string trigger_;
  std::vector<AuditRecord> records_;  // received, not yet given to a flush

  mutable std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::vector<Batch> batches_;  // given to flush_async(), for the writer
  bool writing_ = false;
  bool stopping_ = false;
  std::string error_;  // log_.error() as of the last write
  std::thread writer_;
};

}  // namespace

std::unique_ptr<EventSink> make_audit_sink(const std::string& file,
                                           const std::string& runbook_sha256, Actor actor) {
  return std::make_unique<AuditSink>(file, runbook_sha256, std::move(actor));
}

}  // namespace runbook
