#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runbook/duration.hpp"

namespace runbook {

enum class StepState {
  pending,
  running,
  succeeded,
  failed,
  timed_out,
  cancelled,
  skipped,
  not_run
};
// `skipped`: never started (a schedule's overlap rule, a full queue, a held
// lock); only the trigger server records it.
enum class RunState { running, succeeded, failed, rollback_failed, cancelled, skipped };

const char* to_string(StepState s);
const char* to_string(RunState s);
// The exit code of `run` for a run that ended in `s` (cli-and-server.md).
int exit_code_for(RunState s);

enum class EventKind {
  run_started,
  step_started,
  attempt_started,
  output,  // one line of a step's stdout or stderr
  attempt_ended,
  step_ended,
  rollback_started,
  rollback_ended,
  hook_started,
  hook_ended,
  confirm_asked,     // message: the question; the display prompts [y/N]
  confirm_answered,  // message: "yes" or "no"
  warning,           // something a person should see that does not change a state
  run_ended,
};

// The name an event has in JSON output and the audit log ("step.attempt.ended").
const char* to_string(EventKind k);

using SystemTime = std::chrono::system_clock::time_point;

// One thing that happened in a run. Which fields are set depends on `kind`;
// the rest keep their defaults.
struct Event {
  EventKind kind = EventKind::warning;
  SystemTime ts = std::chrono::system_clock::now();
  std::string run_id;
  std::string step_id;  // "build", or "deploy[2]" for one item of a for_each step
  int attempt = 0;      // 1-based, for attempt and output events
  // For attempt and output events: whose they are, "step", "rollback" or
  // "hook" (a rollback's attempts carry its step's id).
  const char* of = "step";
  int max_attempts = 0;
  StepState state = StepState::pending;    // step_ended, attempt_ended, rollback/hook ended
  RunState run_state = RunState::running;  // run_ended
  std::optional<int> exit_code;
  int signal = 0;
  Duration duration{0};   // *_ended
  std::string message;    // why (failure reason, warning text); the command for *_started
  std::string_view line;  // output: the line without its newline; valid during the call only
  bool is_stderr = false;
  // run_started: what the run is.
  std::string runbook_name;
  std::string runbook_path;
  int total_steps = 0;
  bool resumed = false;        // run_started: an earlier process began this run
  bool rollback_only = false;  // run_started: `runbook rollback RUN_ID`
  std::string trigger;         // run_started: cli, cron, alert, api
  std::string params_json;     // run_started: params, secrets masked
  std::string alert_json;      // run_started by an alert: {"rule": …, "fingerprint": …}
  std::string log_path;        // step_started: where its output goes
  // step_ended: the step's outputs as a JSON object of strings, secrets
  // masked; empty when it has none (items and for_each steps have none).
  std::string outputs_json;
  std::optional<Duration> retry_in;  // attempt_ended: when the next attempt starts
};

// Consumes events: the terminal display, JSON output, the audit log, history
// and metrics are all sinks of the same stream. Called on the executor's
// thread only, in order.
//
// Write-ahead: before the executor spawns anything it calls flush(), or
// flush_async() and spawns once that is done; a sink that must be durable
// (the audit log) makes everything it was given durable there, and reports a
// failure through error(). Once error() is set the executor starts nothing
// more and fails the run (fail closed).
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_event(const Event& e) = 0;
  // Makes every event received so far durable. Several step.started events
  // may be flushed at once, so that a wide DAG pays one fsync, not one a step.
  virtual void flush() {}
  // As flush(), but returns at once: `done` (when not empty) is called once
  // the events are durable or error() is set, on any thread. Events received
  // later may be made durable with them, never before them. A sink with no
  // slow flush flushes here.
  virtual void flush_async(std::function<void()> done) {
    flush();
    if (done) done();
  }
  // A sticky error ("cannot write audit log /x/audit.jsonl: No space left on
  // device"); empty while all is well.
  virtual std::string error() const { return {}; }
  // A sink that redraws with time (the live board) asks to be called every
  // interval while the run goes on.
  virtual std::optional<Duration> tick_interval() const { return std::nullopt; }
  virtual void on_tick() {}
};

// Sends every event to each of its sinks, in the order they were added.
class EventFanout : public EventSink {
 public:
  void add(EventSink* sink) { sinks_.push_back(sink); }
  void on_event(const Event& e) override {
    for (EventSink* s : sinks_) s->on_event(e);
  }
  std::optional<Duration> tick_interval() const override {
    std::optional<Duration> shortest;
    for (EventSink* s : sinks_)
      if (auto t = s->tick_interval(); t && (!shortest || *t < *shortest)) shortest = t;
    return shortest;
  }
  void on_tick() override {
    for (EventSink* s : sinks_) s->on_tick();
  }
  void flush() override {
    for (EventSink* s : sinks_) s->flush();
  }
  // `done` runs when the last sink is done.
  void flush_async(std::function<void()> done) override;
  std::string error() const override {
    for (EventSink* s : sinks_)
      if (std::string e = s->error(); !e.empty()) return e;
    return {};
  }

 private:
  std::vector<EventSink*> sinks_;
};

}  // namespace runbook
