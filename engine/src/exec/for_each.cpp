// for_each steps: one unit per item, in order, within the run's slots and the
// step's own max_parallel; the step's end decided from its items' ends. Part
// of Executor; see executor.hpp.
//
// What an item has of its own: attempts, timeout, retry, deadline, the
// confirm question, a log (`ID[N].log`), events as `ID[N]`, and its rollback.
// What belongs to the step as a whole: allow_failure, `steps.ID.status`
// (succeeded when every item did; failed when one failed or timed out;
// cancelled when the run stopped it first). The step has no exit code and no
// outputs: items' outputs are checked, not kept.

#include <boost/asio/post.hpp>

#include "exec/executor.hpp"

namespace asio = boost::asio;

namespace runbook::exec {
namespace {

std::string count_of(size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

}  // namespace

std::optional<StartedUnit> started_unit(const Runbook& runbook, const std::string& id) {
  std::string step_id = id;
  int item_index = -1;
  if (size_t open = id.find('['); open != std::string::npos && id.back() == ']') {
    std::string digits = id.substr(open + 1, id.size() - open - 2);
    if (digits.empty() || digits.size() > 9 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    step_id = id.substr(0, open);
    item_index = std::stoi(digits);
  }
  for (size_t i = 0; i < runbook.steps.size(); ++i) {
    const Step& step = runbook.steps[i];
    bool for_each = step.for_each || step.for_each_list;
    if (step.id == step_id && for_each == (item_index >= 0))
      return StartedUnit{int(i), item_index, std::nullopt};
  }
  return std::nullopt;
}

void Executor::record_resumed_items(int index) {
  const Step& step = runbook_.steps[size_t(index)];
  Expected<Value::List> items = expand_for_each(step, context(nullptr));
  if (!items) {
    Event w = event(EventKind::warning);
    w.message = mask("step '" + step.id + "' succeeded before the run was resumed, but " +
                     items.error().format() + "; its items will not be rolled back");
    emit(w);
    return;
  }
  for (size_t i = 0; i < items.value().size(); ++i)
    start_order_.push_back({index, int(i), items.value()[i]});
}

void Executor::begin_for_each(int index, std::vector<Unit*>& batch) {
  const Step& step = runbook_.steps[size_t(index)];
  Expected<Value::List> items = expand_for_each(step, context(nullptr));
  if (!items) {
    // The step fails as a whole (allow_failure applies), nothing started.
    Unit& unit = add_step_unit(index);
    unit.state = StepState::running;
    unit.message = mask("could not get its items: " + items.error().format());
    asio::post(io_, [this, &unit] { end_unit(unit, StepState::failed); });
    return;
  }
  ForEachRun& run = for_each_runs_.emplace_back();
  run.step_index = index;
  run.items = std::move(items).value();
  run.started = std::chrono::steady_clock::now();
  ++open_for_each_;

  Event e = event(EventKind::step_started);
  e.step_id = step.id;
  e.state = StepState::running;
  e.message = "for_each: " + count_of(run.items.size(), "item");
  if (step.for_each_parallel > 0)
    e.message += ", up to " + std::to_string(step.for_each_parallel) + " at once";
  emit(e);

  start_items(run, batch);
  maybe_end_for_each(run);  // an empty list, or every item done before a resume
}

void Executor::start_items(std::vector<Unit*>& batch) {
  for (ForEachRun& run : for_each_runs_) start_items(run, batch);
}

void Executor::start_items(ForEachRun& run, std::vector<Unit*>& batch) {
  const Step& step = runbook_.steps[size_t(run.step_index)];
  while (!stopping_ && !run.ended && run.next < run.items.size() &&
         running_steps_ < max_parallel_ &&
         (step.for_each_parallel <= 0 || run.in_flight < step.for_each_parallel)) {
    int i = int(run.next++);
    std::string id = step.id + "[" + std::to_string(i) + "]";
    if (resumed_as_succeeded(id)) {
      start_order_.push_back({run.step_index, i, run.items[size_t(i)]});
      ++run.succeeded;
      Event e = event(EventKind::step_ended);
      e.step_id = id;
      e.state = StepState::succeeded;
      e.message = "succeeded before the run was resumed; not run again";
      emit(e);
      continue;
    }
    Unit& unit = add_step_unit(run.step_index);
    unit.id = std::move(id);
    unit.item = run.items[size_t(i)];
    unit.item_index = i;
    unit.for_each = &run;
    unit.on_done = [this](Unit& u) { on_item_done(u); };
    ++run.in_flight;
    take_step_unit(unit, batch);
  }
}

void Executor::on_item_done(Unit& unit) {
  --running_steps_;
  ForEachRun& run = *unit.for_each;
  --run.in_flight;
  if (unit.state == StepState::succeeded) {
    ++run.succeeded;
  } else {
    bool allowed = failure_allowed(runbook_.steps[size_t(run.step_index)].allow_failure, unit);
    if (unit.state == StepState::failed || unit.state == StepState::timed_out) {
      ++run.failed;
      if (!allowed) run.failures_allowed = false;
      if (run.first_failure.empty())
        run.first_failure = "item " + std::to_string(unit.item_index) + " " + unit.message;
    }
    // As for any step: a failure not allowed stops the run (and so the other
    // items); an allowed one lets the other items go on.
    if (!allowed) fail_run(step_failure(unit.id, unit.message));
  }
  maybe_end_for_each(run);
  fill_slots();
  maybe_end_steps_phase();
}

void Executor::maybe_end_for_each(ForEachRun& run) {
  if (run.ended || run.in_flight > 0) return;
  if (!stopping_ && run.next < run.items.size()) return;
  run.ended = true;
  // Posted, so that the step ends (and its dependants start) outside the
  // fill_slots or stop_steps that got here.
  asio::post(io_, [this, &run] { end_for_each(run); });
}

void Executor::end_for_each(ForEachRun& run) {
  --open_for_each_;
  const Step& step = runbook_.steps[size_t(run.step_index)];
  size_t total = run.items.size();
  StepState state = StepState::succeeded;
  std::string message;
  bool allowed = false;
  if (run.failed > 0) {
    state = StepState::failed;
    message = run.failed == 1 ? run.first_failure
                              : std::to_string(run.failed) + " of " + count_of(total, "item") +
                                    " failed; first: " + run.first_failure;
    allowed = run.failures_allowed;
  } else if (size_t(run.succeeded) < total) {
    state = StepState::cancelled;
    message = "stopped after " + std::to_string(run.succeeded) + " of " + count_of(total, "item") +
              " succeeded" + (failure_reason_.empty() ? "" : ": " + failure_reason_);
  } else {
    message =
        total == 0 ? "no items: nothing to run" : "all " + count_of(total, "item") + " succeeded";
  }
  // The step as a whole: its status; no exit code and no outputs.
  results_[step.id].status = to_string(state);

  Event e = event(EventKind::step_ended);
  e.step_id = step.id;
  e.state = state;
  e.duration = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - run.started);
  e.message = message;
  emit(e);
  if (allowed) {
    Event w = event(EventKind::warning);
    w.step_id = step.id;
    w.message = "step '" + step.id + "' failed: " + message + " (allowed to fail)";
    emit(w);
  }
  bool ok = state == StepState::succeeded || allowed;
  if (!ok) fail_run(step_failure(step.id, message));
  after_step_ended(run.step_index, ok);
}

bool Executor::resolve_item(Unit& unit) {
  if (unit.item_index < 0 || unit.item) return true;
  const Step& step = runbook_.steps[size_t(unit.step_index)];
  Expected<Value::List> items = expand_for_each(step, context(nullptr));
  if (items && size_t(unit.item_index) < items.value().size()) {
    unit.item = items.value()[size_t(unit.item_index)];
    return true;
  }
  unit.message = mask("cannot know item " + std::to_string(unit.item_index) + " of step '" +
                      step.id + "' to roll it back: " +
                      (items ? "its for_each now gives " + count_of(items.value().size(), "item")
                             : items.error().format()));
  return false;
}

}  // namespace runbook::exec
