#include "runbook/events.hpp"

#include <atomic>
#include <memory>

namespace runbook {

void EventFanout::flush_async(std::function<void()> done) {
  auto left = std::make_shared<std::atomic<int>>(int(sinks_.size()) + 1);
  auto all_done = std::make_shared<std::function<void()>>(std::move(done));
  auto one_done = [left, all_done] {
    if (--*left == 0 && *all_done) (*all_done)();
  };
  for (EventSink* s : sinks_) s->flush_async(one_done);
  one_done();
}

const char* to_string(StepState s) {
  switch (s) {
    case StepState::pending:
      return "pending";
    case StepState::running:
      return "running";
    case StepState::succeeded:
      return "succeeded";
    case StepState::failed:
      return "failed";
    case StepState::timed_out:
      return "timed_out";
    case StepState::cancelled:
      return "cancelled";
    case StepState::skipped:
      return "skipped";
    case StepState::not_run:
      return "not_run";
  }
  return "?";
}

const char* to_string(RunState s) {
  switch (s) {
    case RunState::running:
      return "running";
    case RunState::succeeded:
      return "succeeded";
    case RunState::failed:
      return "failed";
    case RunState::rollback_failed:
      return "rollback_failed";
    case RunState::cancelled:
      return "cancelled";
    case RunState::skipped:
      return "skipped";
  }
  return "?";
}

int exit_code_for(RunState s) {
  switch (s) {
    case RunState::succeeded:
      return 0;
    case RunState::failed:
      return 1;
    case RunState::rollback_failed:
      return 3;
    case RunState::cancelled:
      return 130;
    case RunState::skipped:
      return 75;
    case RunState::running:
      return 1;
  }
  return 1;
}

const char* to_string(EventKind k) {
  switch (k) {
    case EventKind::run_started:
      return "run.started";
    case EventKind::step_started:
      return "step.started";
    case EventKind::attempt_started:
      return "step.attempt.started";
    case EventKind::output:
      return "step.output";
    case EventKind::attempt_ended:
      return "step.attempt.ended";
    case EventKind::step_ended:
      return "step.ended";
    case EventKind::rollback_started:
      return "rollback.started";
    case EventKind::rollback_ended:
      return "rollback.ended";
    case EventKind::hook_started:
      return "hook.started";
    case EventKind::hook_ended:
      return "hook.ended";
    case EventKind::confirm_asked:
      return "confirm.asked";
    case EventKind::confirm_answered:
      return "confirm.answered";
    case EventKind::warning:
      return "warning";
    case EventKind::run_ended:
      return "run.ended";
  }
  return "?";
}

}  // namespace runbook
