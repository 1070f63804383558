// The audit log as an event sink: one record per event, step output excepted
// (it is in the step logs).

#include <memory>
#include <string>

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
    // Made durable by flush(), which the executor calls before it starts a
    // process and at the end of each turn of its loop: the records of a
    // wave of steps share one fsync.
    log_.append(std::move(r));
  }

  void flush() override { log_.flush(); }

  std::string error() const override { return log_.error(); }

 private:
  AuditLog log_;
  std::string sha256_;
  std::string trigger_;
};

}  // namespace

std::unique_ptr<EventSink> make_audit_sink(const std::string& file,
                                           const std::string& runbook_sha256, Actor actor) {
  return std::make_unique<AuditSink>(file, runbook_sha256, std::move(actor));
}

}  // namespace runbook
