#include "exec/executor.hpp"
#include "exec/process_tree.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "util/files.hpp"
#include "util/time_format.hpp"

namespace asio = boost::asio;

namespace runbook {

RunOutcome execute_runbook(const Runbook& runbook, const RunOptions& options, EventSink& sink) {
  exec::Executor executor(runbook, options, sink);
  return executor.run();
}

RunOutcome execute_rollback(const Runbook& runbook, const std::vector<std::string>& started_steps,
                            const RunOptions& options, EventSink& sink) {
  std::vector<exec::StartedUnit> started;
  for (const std::string& id : started_steps)
    if (std::optional<exec::StartedUnit> unit = exec::started_unit(runbook, id))
      started.push_back(*unit);
  exec::Executor executor(runbook, options, sink);
  return executor.run_rollbacks(std::move(started));
}

std::vector<int> processes_of_run(const std::string& run_id) {
  std::vector<int> pids;
  for (pid_t pid : exec::find_processes_with_tag_prefix(run_id + "/")) pids.push_back(int(pid));
  return pids;
}

std::vector<std::string> steps_that_confirm(const Runbook& runbook) {
  std::vector<std::string> ids;
  for (const Step& s : runbook.steps)
    if (s.confirm) ids.push_back(s.id);
  return ids;
}

}  // namespace runbook

namespace runbook::exec {
namespace {

std::string signal_name(int signo) {
  switch (signo) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
  }
  return "signal " + std::to_string(signo);
}

}  // namespace

std::string step_failure(const std::string& id, const std::string& message) {
  if (message.find("'" + id + "'") != std::string::npos) return message;
  return "step '" + id + "' " + message;
}

Executor::Executor(const Runbook& runbook, RunOptions options, EventSink& sink)
    : runbook_(runbook),
      options_(std::move(options)),
      sink_(sink),
      runner_(io_),
      plugin_runner_(io_),
      signals_(io_, SIGINT, SIGTERM, SIGHUP),
      run_timer_(io_),
      tick_timer_(io_),
      graph_(runbook.steps),
      plan_(graph_) {
  if (options_.run_id.empty()) options_.run_id = make_run_id();
  max_parallel_ = std::max(1, options_.max_parallel.value_or(runbook.effective_max_parallel()));
}

RunOutcome Executor::run_rollbacks(std::vector<StartedUnit> started) {
  rollback_only_ = true;
  start_order_ = std::move(started);
  failed_ = true;
  failure_reason_ = "rolled back on request";
  return run();
}

RunOutcome Executor::run() {
  RunOutcome outcome;
  outcome.run_id = options_.run_id;
  // Made by the first step log written (exec/step_log.cpp).
  run_dir_ = options_.state_dir + "/runs/" + options_.run_id;
  const char* tmp_root = std::getenv("TMPDIR");
  std::string tmp_template = std::string(tmp_root && *tmp_root ? tmp_root : "/tmp") + "/runbook-" +
                             options_.run_id + "-XXXXXX";
  if (!::mkdtemp(tmp_template.data())) {
    outcome.error =
        "cannot create a temporary directory " + tmp_template + ": " + std::strerror(errno);
    return outcome;
  }
  masker_ = SecretMasker(options_.secrets);
  for (const Step& step : runbook_.steps) results_[step.id].status = "pending";
  // The run's env: may read params and run.*; it is rendered once.
  EnvVars runbook_env;
  {
    ExprContext ctx = context(nullptr);
    for (const auto& [name, text] : runbook_.env) {
      Expected<Template> tpl = parse_template(text.value);
      Expected<std::string> value =
          tpl ? render_text(tpl.value(), ctx) : Expected<std::string>(tpl.error());
      if (!value) {
        outcome.error = mask("cannot render env." + name + ": " + value.error().format());
        remove_tree(tmp_template);
        return outcome;
      }
      runbook_env.emplace_back(name, value.value());
    }
  }
  env_ = std::make_unique<RunEnvironment>(runbook_env, options_.run_id, tmp_template);
  for (const auto& [name, value] : env_->variables()) env_map_[name] = value;
  make_directories(tmp_template + "/.outputs", nullptr, 0700);
  // Writing to a closed pipe (runbook run … | head) must not kill the engine
  // while it has children to stop; steps get the default back.
  std::signal(SIGPIPE, SIG_IGN);

  Event started = event(EventKind::run_started);
  started.runbook_name = runbook_.name;
  // Absolute, so that rollback and resume find it from any directory.
  {
    std::error_code ec;
    auto absolute = std::filesystem::absolute(runbook_.path, ec);
    started.runbook_path = ec ? runbook_.path : absolute.lexically_normal().string();
  }
  started.total_steps = int(runbook_.steps.size());
  started.resumed = options_.resumed;
  started.trigger = options_.trigger;
  started.params_json = options_.params_json;
  started.alert_json = options_.alert_json;
  started.rollback_only = rollback_only_;
  // The run's start is made durable with its first steps', in one fsync.
  flush_posted_ = true;
  emit(started);

  run_started_ = std::chrono::steady_clock::now();
  spdlog::info("run {} of {} started: {} steps, up to {} at once, state in {}", options_.run_id,
               runbook_.path, runbook_.steps.size(), max_parallel_, options_.state_dir);
  if (runbook_.timeout) {
    run_timer_.expires_after(*runbook_.timeout);
    run_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || phase_ != Phase::steps || stopping_) return;
      failed_ = true;
      failure_reason_ = "the run timed out after " + format_duration(*runbook_.timeout);
      Event w = event(EventKind::warning);
      w.message = failure_reason_ + "; stopping running steps";
      emit(w);
      for (Unit& u : units_)
        if (u.role == UnitRole::step && u.state == StepState::running) u.run_timed_out = true;
      stop_steps(failure_reason_, /*cancel=*/false);
    });
  }
  arm_signals();
  arm_tick();
  asio::post(io_, [this] {
    if (rollback_only_) return start_rollback_phase();
    fill_slots();
    maybe_end_steps_phase();
  });
  post_flush();
  {
    // What flush_async is still writing is on disk when run() returns, or
    // unwinds: its `done`s post to io_, which must outlive them.
    struct FlushAtExit {
      EventSink& sink;
      ~FlushAtExit() { sink.flush(); }
    } flush_at_exit{sink_};
    io_.run();
  }

  remove_tree(env_->tmp_dir());
  outcome.state = final_state_;
  return outcome;
}

// ---- the graph ----

void Executor::fill_slots() {
  // Announce every step that can start now, make that durable once, then
  // spawn them: a wide DAG pays one audit fsync per wave, not one per step.
  std::vector<Unit*> batch;
  // Items of for_each steps already running go before steps that are new.
  start_items(batch);
  while (!stopping_ && running_steps_ < max_parallel_) {
    std::optional<int> next = plan_.take_ready();
    if (!next) break;
    const Step& step = runbook_.steps[size_t(*next)];
    if (resumed_as_succeeded(step.id)) {
      // Resumed: an earlier process of this run recorded it as succeeded. It
      // still counts as started, so a failure later rolls it back.
      if (is_for_each(step)) {
        record_resumed_items(*next);
      } else {
        start_order_.push_back({*next, -1, std::nullopt});
      }
      Event e = event(EventKind::step_ended);
      e.step_id = step.id;
      e.state = StepState::succeeded;
      bool skipped = std::find(options_.skipped_on_resume.begin(), options_.skipped_on_resume.end(),
                               step.id) != options_.skipped_on_resume.end();
      e.message = skipped ? "started before the run was resumed and never recorded an end; "
                            "counted as succeeded by --skip-ambiguous, not run again"
                          : "succeeded before the run was resumed; not run again";
      emit(e);
      ++ended_steps_;
      plan_.mark_ended(*next, true, nullptr);
      continue;
    }
    if (step.when) {
      Expected<bool> run_it = evaluate_condition(*step.when, context(nullptr));
      if (run_it && !run_it.value()) {
        // Skipped steps satisfy the steps that need them.
        results_[step.id].status = "skipped";
        Event e = event(EventKind::step_ended);
        e.step_id = step.id;
        e.state = StepState::skipped;
        e.message = "when: " + step.when->value + " is false";
        emit(e);
        ++ended_steps_;
        plan_.mark_ended(*next, true, nullptr);
        continue;
      }
      if (!run_it) {
        Unit& unit = add_step_unit(*next);
        unit.state = StepState::running;
        unit.message =
            mask("cannot evaluate 'when' of step '" + step.id + "': " + run_it.error().format());
        asio::post(io_, [this, &unit] { end_unit(unit, StepState::failed); });
        continue;
      }
    }
    if (is_for_each(step)) {
      begin_for_each(*next, batch);
      continue;
    }
    take_step_unit(add_step_unit(*next), batch);
  }
  if (!awaiting_confirm_.empty()) ask_next_confirm();
  if (!batch.empty()) launch_when_durable(std::move(batch));
}

void Executor::launch_when_durable(std::vector<Unit*> units) {
  if (launches_in_flight_ == 0 && running_steps_ <= int(units.size())) {
    sink_.flush();
    for (Unit* unit : units) launch_attempt(*unit);
    return;
  }
  for (Unit* unit : units) unit->awaiting_launch = true;
  ++launches_in_flight_;
  sink_.flush_async([this, units, work = asio::make_work_guard(io_)]() mutable {
    asio::post(io_, [this, units] {
      --launches_in_flight_;
      // A unit cancelled or timed out meanwhile has ended: it never starts.
      for (Unit* unit : units) {
        if (!unit->awaiting_launch) continue;
        unit->awaiting_launch = false;
        launch_attempt(*unit);
      }
    });
    work.reset();
  });
}

void Executor::take_step_unit(Unit& unit, std::vector<Unit*>& batch) {
  const Step& step = runbook_.steps[size_t(unit.step_index)];
  if (step.confirm && !options_.assume_yes) {
    awaiting_confirm_.push_back(&unit);
    return;
  }
  if (step.confirm) {
    // Answered by --yes: the audit log still shows what was asked, and how.
    Event answered = event(EventKind::confirm_answered, &unit);
    answered.message = "yes (--yes): " + confirm_question(unit);
    emit(answered);
  }
  if (announce_unit(unit)) {
    prepare_attempt(unit);
    batch.push_back(&unit);
  }
}

std::string Executor::confirm_question(const Unit& unit) const {
  const Text& question = *runbook_.steps[size_t(unit.step_index)].confirm;
  // A question that cannot be rendered is still asked, as written.
  if (Expected<Template> tpl = parse_template(question.value); tpl) {
    if (Expected<std::string> text = render_text(tpl.value(), context(&unit)); text)
      return mask(text.value());
  }
  return mask(question.value);
}

bool Executor::resumed_as_succeeded(const std::string& id) const {
  return std::find(options_.already_succeeded.begin(), options_.already_succeeded.end(), id) !=
         options_.already_succeeded.end();
}

void Executor::ask_next_confirm() {
  if (asking_ || awaiting_confirm_.empty()) return;
  asking_ = true;
  Unit& unit = *awaiting_confirm_.front();
  Event e = event(EventKind::confirm_asked, &unit);
  e.message = confirm_question(unit);
  emit(e);
  if (!terminal_in_) {
    terminal_in_ = std::make_unique<asio::posix::stream_descriptor>(io_, ::dup(STDIN_FILENO));
  }
  asio::async_read_until(*terminal_in_, answer_, '\n',
                         [this](const boost::system::error_code& ec, size_t n) {
                           if (ec == asio::error::operation_aborted) return;
                           std::string line;
                           if (!ec) {
                             line.assign(asio::buffers_begin(answer_.data()),
                                         asio::buffers_begin(answer_.data()) + std::ptrdiff_t(n));
                             answer_.consume(n);
                           }
                           while (!line.empty() && std::isspace((unsigned char)line.back()))
                             line.pop_back();
                           for (char& c : line) c = char(std::tolower((unsigned char)c));
                           on_confirm_answer(line == "y" || line == "yes");
                         });
}

void Executor::on_confirm_answer(bool yes) {
  asking_ = false;
  if (awaiting_confirm_.empty()) return;
  Unit& unit = *awaiting_confirm_.front();
  awaiting_confirm_.pop_front();
  Event e = event(EventKind::confirm_answered, &unit);
  e.message = yes ? "yes" : "no";
  emit(e);
  if (!yes) {
    // A "no" cancels the run; what started is rolled back.
    unit.state = StepState::running;
    unit.message = "not confirmed";
    cancelled_ = true;
    failure_reason_ = "step '" + unit.id + "' was not confirmed";
    end_unit(unit, StepState::cancelled);
    return;
  }
  if (stopping_) return;
  if (announce_unit(unit)) {
    prepare_attempt(unit);
    sink_.flush();
    launch_attempt(unit);
  }
  ask_next_confirm();
}

Unit& Executor::add_step_unit(int index) {
  const Step& step = runbook_.steps[size_t(index)];
  Unit& unit = units_.emplace_back();
  unit.role = UnitRole::step;
  unit.step_index = index;
  unit.id = step.id;
  unit.body = &step.body;
  unit.deadline = step.deadline;
  unit.allow_failure = step.allow_failure;
  unit.on_done = [this](Unit& u) { on_step_done(u); };
  ++running_steps_;
  return unit;
}

bool failure_allowed(const AllowFailure& allow, const Unit& unit) {
  return (unit.state == StepState::failed &&
          (allow.any || (unit.exit_code && allow.allows(*unit.exit_code)))) ||
         (unit.state == StepState::timed_out && allow.any);
}

void Executor::on_step_done(Unit& unit) {
  --running_steps_;
  bool allowed = failure_allowed(unit.allow_failure, unit);
  if (allowed) {
    Event w = event(EventKind::warning, &unit);
    w.message = "step '" + unit.id + "' " + unit.message + " (allowed to fail)";
    emit(w);
  }
  bool ok = unit.state == StepState::succeeded || unit.state == StepState::skipped || allowed;
  if (!ok) fail_run(step_failure(unit.id, unit.message));
  after_step_ended(unit.step_index, ok);
}

void Executor::fail_run(const std::string& reason) {
  if (stopping_) return;
  failed_ = true;
  failure_reason_ = reason;
  stop_steps(failure_reason_, /*cancel=*/false);
}

void Executor::after_step_ended(int index, bool ok) {
  ++ended_steps_;
  std::vector<int> not_run;
  plan_.mark_ended(index, ok, &not_run);
  for (int i : not_run) {
    Event e = event(EventKind::step_ended);
    e.step_id = runbook_.steps[size_t(i)].id;
    e.state = StepState::not_run;
    results_[e.step_id].status = "not_run";
    emit(e);
  }
  fill_slots();
  maybe_end_steps_phase();
}

void Executor::stop_steps(const std::string& reason, bool cancel) {
  stopping_ = true;
  std::vector<int> not_run;
  plan_.abandon(&not_run);
  for (int i : not_run) {
    Event e = event(EventKind::step_ended);
    e.step_id = runbook_.steps[size_t(i)].id;
    e.state = StepState::not_run;
    e.message = reason;
    results_[e.step_id].status = "not_run";
    emit(e);
  }
  std::vector<Unit*> running;
  for (Unit& u : units_)
    if (u.role == UnitRole::step && u.state == StepState::running) running.push_back(&u);
  for (Unit* u : running) {
    if (cancel) u->message = reason;
    cancel_unit(*u);
  }
  // Steps still waiting for an answer never start.
  if (terminal_in_) {
    boost::system::error_code ignored;
    terminal_in_->cancel(ignored);
  }
  asking_ = false;
  while (!awaiting_confirm_.empty()) {
    Unit& unit = *awaiting_confirm_.front();
    awaiting_confirm_.pop_front();
    unit.state = StepState::running;
    unit.message = "not started: " + reason;
    end_unit(unit, StepState::cancelled);
  }
  // for_each steps with nothing in flight end now: no more items start.
  for (ForEachRun& run : for_each_runs_) maybe_end_for_each(run);
}

void Executor::maybe_end_steps_phase() {
  if (phase_ != Phase::steps || running_steps_ > 0 || open_for_each_ > 0) return;
  if (!stopping_ && plan_.has_ready()) return;
  run_timer_.cancel();
  // After a second Ctrl-C the rollback phase still runs, only to report the
  // rollbacks that will not run (and so end rollback_failed).
  if ((failed_ || cancelled_) && runbook_.on_failure == OnFailure::rollback) {
    start_rollback_phase();
  } else {
    if ((failed_ || cancelled_) && runbook_.on_failure == OnFailure::stop) {
      bool any = false;
      for (const StartedUnit& u : start_order_)
        any = any || runbook_.steps[size_t(u.step_index)].rollback.has_value();
      Event w = event(EventKind::warning);
      w.message = "on_failure: stop: nothing was rolled back";
      if (any) w.message += "; to roll back later: runbook rollback " + options_.run_id;
      emit(w);
    }
    start_hooks_phase();
  }
}

// ---- rollback and hooks ----

void Executor::start_rollback_phase() {
  phase_ = Phase::rollback;
  for (auto it = start_order_.rbegin(); it != start_order_.rend(); ++it)
    if (runbook_.steps[size_t(it->step_index)].rollback) rollback_queue_.push_back(*it);
  run_next_rollback();
}

std::string Executor::started_id(const StartedUnit& started) const {
  const std::string& id = runbook_.steps[size_t(started.step_index)].id;
  return started.item_index < 0 ? id : id + "[" + std::to_string(started.item_index) + "]";
}

void Executor::run_next_rollback() {
  if (hard_stop_ && rollback_next_ < rollback_queue_.size()) {
    std::string skipped;
    for (size_t i = rollback_next_; i < rollback_queue_.size(); ++i)
      skipped += (skipped.empty() ? "" : ", ") + started_id(rollback_queue_[i]);
    rollback_failed_ = true;
    Event w = event(EventKind::warning);
    w.message = "stopped at once: the rollbacks of " + skipped + " did not run";
    emit(w);
    rollback_next_ = rollback_queue_.size();
  }
  if (rollback_next_ >= rollback_queue_.size()) return start_hooks_phase();
  const StartedUnit& started = rollback_queue_[rollback_next_++];
  const Step& step = runbook_.steps[size_t(started.step_index)];
  Unit& unit = units_.emplace_back();
  unit.role = UnitRole::rollback;
  unit.step_index = started.step_index;
  unit.id = started_id(started);
  unit.item = started.item;
  unit.item_index = started.item_index;
  unit.body = &*step.rollback;
  unit.on_done = [this](Unit& u) {
    if (u.state != StepState::succeeded) rollback_failed_ = true;
    run_next_rollback();
  };
  if (!resolve_item(unit)) {
    unit.state = StepState::running;
    asio::post(io_, [this, &unit] { end_unit(unit, StepState::failed); });
    return;
  }
  start_unit(unit);
}

void Executor::start_hooks_phase() {
  phase_ = Phase::hooks;
  if (rollback_only_) return finish();
  if (!hard_stop_) {
    bool ok = !failed_ && !cancelled_;
    for (const Step& s : ok ? runbook_.hooks.on_success : runbook_.hooks.on_failure)
      hook_queue_.push_back(&s);
    for (const Step& s : runbook_.hooks.finally) hook_queue_.push_back(&s);
  }
  run_next_hook();
}

void Executor::run_next_hook() {
  if (hard_stop_ || hook_next_ >= hook_queue_.size()) return finish();
  const Step& hook = *hook_queue_[hook_next_++];
  if (hook.when) {
    Expected<bool> run_it = evaluate_condition(*hook.when, context(nullptr));
    if (!run_it || !run_it.value()) {
      Event e = event(EventKind::hook_ended);
      e.step_id = hook.id;
      e.state = run_it ? StepState::skipped : StepState::failed;
      e.message = run_it ? "when: " + hook.when->value + " is false"
                         : mask("cannot evaluate 'when': " + run_it.error().format());
      emit(e);
      return run_next_hook();
    }
  }
  Unit& unit = units_.emplace_back();
  unit.role = UnitRole::hook;
  unit.id = hook.id;
  unit.body = &hook.body;
  unit.deadline = hook.deadline;
  unit.on_done = [this](Unit& u) {
    if (u.state != StepState::succeeded) {
      Event w = event(EventKind::warning, &u);
      w.message = "hook '" + u.id + "' " + u.message;
      emit(w);
    }
    run_next_hook();
  };
  start_unit(unit);
}

void Executor::finish() {
  phase_ = Phase::done;
  if (rollback_failed_) {
    final_state_ = RunState::rollback_failed;
  } else if (cancelled_) {
    final_state_ = RunState::cancelled;
  } else if (failed_) {
    final_state_ = RunState::failed;
  } else {
    final_state_ = RunState::succeeded;
  }
  spdlog::info("run {} ended {}", options_.run_id, to_string(final_state_));
  Event e = event(EventKind::run_ended);
  e.run_state = final_state_;
  e.duration =
      std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - run_started_);
  e.message = failure_reason_;
  e.total_steps = int(runbook_.steps.size());
  emit(e);
  boost::system::error_code ignored;
  signals_.cancel(ignored);
  if (terminal_in_) terminal_in_->cancel(ignored);
  runner_.close();
  tick_timer_.cancel();
  run_timer_.cancel();
}

// ---- signals and ticks ----

void Executor::arm_signals() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec || phase_ == Phase::done) return;
    on_signal(signo);
    arm_signals();
  });
}

void Executor::on_signal(int signo) {
  ++signals_seen_;
  Event w = event(EventKind::warning);
  if (signals_seen_ == 1 && phase_ == Phase::steps) {
    cancelled_ = true;
    failure_reason_ = "cancelled by " + signal_name(signo);
    w.message = failure_reason_ + ": stopping running steps (again to stop at once)";
    emit(w);
    stop_steps(failure_reason_, /*cancel=*/true);
    return;
  }
  if (signals_seen_ == 1) {
    w.message =
        signal_name(signo) + " during " +
        (phase_ == Phase::rollback ? "rollback: the rollback goes on" : "hooks: the hooks go on") +
        " (again to stop at once)";
    emit(w);
    return;
  }
  hard_stop_ = true;
  if (phase_ == Phase::steps) cancelled_ = true;
  w.message = signal_name(signo) + " again: stopping at once";
  emit(w);
  stopping_ = true;
  std::vector<Unit*> running;
  for (Unit& u : units_)
    if (u.state == StepState::running) running.push_back(&u);
  for (Unit* u : running) {
    u->cancel_requested = true;
    if (!u->process || u->process->ended()) end_unit(*u, StepState::cancelled);
  }
  runner_.kill_all();
  plugin_runner_.kill_all();
}

void Executor::arm_tick() {
  std::optional<Duration> interval = sink_.tick_interval();
  if (!interval) return;
  tick_timer_.expires_after(*interval);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || phase_ == Phase::done) return;
    sink_.on_tick();
    arm_tick();
  });
}

void Executor::emit(const Event& e) {
  sink_.on_event(e);
  if (!flush_posted_) post_flush();
}

void Executor::post_flush() {
  flush_posted_ = true;
  // Handlers already queued run first: what they emit shares this flush.
  asio::post(io_, [this] {
    flush_posted_ = false;
    // Not to wait for a batch being fsync'd for launch_when_durable.
    if (launches_in_flight_ > 0) {
      sink_.flush_async(nullptr);
    } else {
      sink_.flush();
    }
  });
}

Event Executor::event(EventKind kind, const Unit* unit) const {
  Event e;
  e.kind = kind;
  e.run_id = options_.run_id;
  if (unit) {
    e.step_id = unit->id;
    e.attempt = unit->attempt;
    e.max_attempts = unit->body ? unit->body->retry.attempts : 1;
    e.state = unit->state;
    e.of = unit->role == UnitRole::step       ? "step"
           : unit->role == UnitRole::rollback ? "rollback"
                                              : "hook";
  }
  return e;
}

}  // namespace runbook::exec
