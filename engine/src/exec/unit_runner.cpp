// The life of one unit (a step, a rollback or a hook): attempts, timeouts,
// retries, and its end. Part of Executor; see executor.hpp.

#include <unistd.h>
#include <boost/asio/post.hpp>

#include <csignal>
#include <cstring>

#include "exec/executor.hpp"
#include "exec/retry_policy.hpp"
#include "util/time_format.hpp"

namespace asio = boost::asio;

namespace runbook::exec {
namespace {

EventKind started_kind(UnitRole role) {
  switch (role) {
    case UnitRole::step:
      return EventKind::step_started;
    case UnitRole::rollback:
      return EventKind::rollback_started;
    case UnitRole::hook:
      return EventKind::hook_started;
  }
  return EventKind::step_started;
}

EventKind ended_kind(UnitRole role) {
  switch (role) {
    case UnitRole::step:
      return EventKind::step_ended;
    case UnitRole::rollback:
      return EventKind::rollback_ended;
    case UnitRole::hook:
      return EventKind::hook_ended;
  }
  return EventKind::step_ended;
}

std::string describe_signal(int signo) {
  const char* name = sigabbrev_np(signo);
  return name ? std::string("SIG") + name : "signal " + std::to_string(signo);
}

std::string log_file_name(const Unit& unit) {
  switch (unit.role) {
    case UnitRole::step:
      return unit.id + ".log";
    case UnitRole::rollback:
      return unit.id + ".rollback.log";
    case UnitRole::hook:
      return "hook." + unit.id + ".log";
  }
  return unit.id + ".log";
}

}  // namespace

void Executor::start_unit(Unit& unit) {
  if (!announce_unit(unit)) return;
  prepare_attempt(unit);
  sink_.flush();
  launch_attempt(unit);
}

bool Executor::announce_unit(Unit& unit) {
  unit.state = StepState::running;
  if (unit.role == UnitRole::step)
    start_order_.push_back({unit.step_index, unit.item_index, unit.item});
  unit.started = std::chrono::steady_clock::now();
  unit.log_path = run_dir_ + "/" + log_file_name(unit);
  unit.log.open(unit.log_path);
  if (unit.body->kind == ActionKind::uses) {
    unit.plugin = options_.plugins ? options_.plugins->find(unit.body->uses) : nullptr;
    if (!unit.plugin) {
      // The caller checks the runbook against the plugins found
      // (check_plugin_steps), so this is only reached by mistake.
      unit.message = "step kind '" + unit.body->uses + "' is not provided by any plugin";
      asio::post(io_, [this, &unit] { end_unit(unit, StepState::failed); });
      return false;
    }
  }
  if (!render_unit(unit)) {
    asio::post(io_, [this, &unit] { end_unit(unit, StepState::failed); });
    return false;
  }
  Event e = event(started_kind(unit.role), &unit);
  e.message = unit.shown_command;
  e.log_path = unit.log_path;
  emit(e);

  if (unit.deadline) {
    unit.deadline_at = unit.started + *unit.deadline;
    unit.deadline_timer = std::make_unique<asio::steady_timer>(io_, *unit.deadline_at);
    unit.deadline_timer->async_wait([this, &unit](const boost::system::error_code& ec) {
      if (ec || unit.state != StepState::running) return;
      unit.deadline_hit = true;
      unit.message = "reached its deadline of " + format_duration(*unit.deadline);
      if (unit.process && !unit.process->ended()) {
        unit.process->stop();
      } else {
        end_unit(unit, StepState::timed_out);  // waiting between attempts
      }
    });
  }
  return true;
}

void Executor::prepare_attempt(Unit& unit) {
  ++unit.attempt;
  if (unit.attempt > 1) unit.log.keep();
  unit.attempt_timed_out = false;
  unit.exit_code.reset();
  unit.signal = 0;
  unit.attempt_started = std::chrono::steady_clock::now();
  emit(event(EventKind::attempt_started, &unit));
}

void Executor::launch_attempt(Unit& unit) {
  // Fail closed: what cannot be recorded does not run.
  if (std::string error = sink_.error(); !error.empty()) {
    unit.message = "not started: " + error;
    asio::post(io_, [this, &unit, error] {
      if (!failed_ && !cancelled_) {
        failed_ = true;
        failure_reason_ = error;
      }
      if (phase_ == Phase::steps && !stopping_) stop_steps(error, /*cancel=*/false);
      end_unit(unit, StepState::failed);
    });
    return;
  }
  const StepBody& body = *unit.body;
  unit.log.write_note(std::chrono::system_clock::now(),
                      "attempt " + std::to_string(unit.attempt) + " of " +
                          std::to_string(body.retry.attempts) + ": " + unit.shown_command);
  unit.process = body.kind == ActionKind::uses ? start_plugin_call(unit) : start_process(unit);

  if (body.timeout) {
    if (!unit.attempt_timer) unit.attempt_timer = std::make_unique<asio::steady_timer>(io_);
    unit.attempt_timer->expires_after(*body.timeout);
    unit.attempt_timer->async_wait([&unit](const boost::system::error_code& ec) {
      if (ec || !unit.process || unit.process->ended()) return;
      unit.attempt_timed_out = true;
      unit.process->stop();
    });
  }
}

std::shared_ptr<RunningAttempt> Executor::start_process(Unit& unit) {
  ProcessSpec spec;
  spec.argv = unit.argv;
  std::string outputs = output_file(unit);
  // Each attempt starts with no outputs file: the step creates it when it
  // writes an output, and a step that writes none costs no file.
  if (unit.attempt > 1) ::unlink(outputs.c_str());
  spec.env = env_->for_attempt(unit.step_env, unit.id, unit.attempt, outputs);
  spec.workdir = unit.workdir;
  spec.tag = options_.run_id + "/" + log_file_name(unit) + "/" + std::to_string(unit.attempt);
  spec.kill_grace = unit.body->kill_grace;
  return runner_.start(
      std::move(spec),
      [this, &unit](OutputStream stream, std::string_view chunk) {
        on_output(unit, stream, chunk);
      },
      [this, &unit](const ProcessExit& exit) { on_attempt_exit(unit, exit); });
}

std::shared_ptr<RunningAttempt> Executor::start_plugin_call(Unit& unit) {
  PluginCallSpec spec;
  spec.kind = unit.plugin->abi;
  spec.with_json = unit.with_json;
  // The environment a process step would get, but for RUNBOOK_OUTPUT:
  // a plugin returns outputs through the interface.
  Value::Map env;
  for (const std::string& var : env_->for_attempt(unit.step_env, unit.id, unit.attempt, "")) {
    size_t eq = var.find('=');
    if (eq != std::string::npos && var.compare(0, eq, "RUNBOOK_OUTPUT") != 0)
      env[var.substr(0, eq)] = var.substr(eq + 1);
  }
  Value::Map context{{"run_id", options_.run_id}, {"step_id", unit.id},
                     {"attempt", unit.attempt},   {"tmp_dir", env_->tmp_dir()},
                     {"workdir", unit.workdir},   {"env", std::move(env)}};
  spec.context_json = Value(std::move(context)).to_json();
  auto now = std::chrono::steady_clock::now();
  if (unit.body->timeout) spec.ends_at = now + *unit.body->timeout;
  if (unit.deadline_at && (!spec.ends_at || *unit.deadline_at < *spec.ends_at))
    spec.ends_at = unit.deadline_at;
  spec.kill_grace = unit.body->kill_grace;
  return plugin_runner_.start(
      std::move(spec),
      [this, &unit](OutputStream stream, std::string_view chunk) {
        on_output(unit, stream, chunk);
      },
      [this, &unit](const PluginExit& exit) { on_plugin_exit(unit, exit); });
}

void Executor::on_output(Unit& unit, OutputStream stream, std::string_view chunk) {
  bool is_stderr = stream == OutputStream::err;
  LineSplitter& lines = is_stderr ? unit.err_lines : unit.out_lines;
  lines.set_secrets(&options_.secrets);
  Event e = event(EventKind::output, &unit);
  e.is_stderr = is_stderr;
  std::string masked;
  lines.feed(chunk, [&](std::string_view line) {
    // A secret never reaches a log, an event or the terminal, even when a
    // step prints it.
    if (!masker_.empty()) {
      masked = masker_.mask(line);
      line = masked;
    }
    e.ts = std::chrono::system_clock::now();
    unit.log.write_line(e.ts, is_stderr, line);
    e.line = line;
    emit(e);
  });
}

void Executor::flush_lines(Unit& unit) {
  for (bool is_stderr : {false, true}) {
    Event e = event(EventKind::output, &unit);
    e.is_stderr = is_stderr;
    std::string masked;
    (is_stderr ? unit.err_lines : unit.out_lines).finish([&](std::string_view line) {
      if (!masker_.empty()) {
        masked = masker_.mask(line);
        line = masked;
      }
      unit.log.write_line(e.ts, is_stderr, line);
      e.line = line;
      emit(e);
    });
  }
}

void Executor::on_attempt_exit(Unit& unit, const ProcessExit& exit) {
  if (unit.attempt_timer) unit.attempt_timer->cancel();
  flush_lines(unit);
  unit.process.reset();

  AttemptOutcome outcome;
  StepState attempt_state;
  if (!exit.started) {
    outcome = AttemptOutcome::not_started;
    attempt_state = StepState::failed;
    unit.message = mask("could not start: " + exit.error);  // the command may hold a secret
  } else if (unit.deadline_hit || unit.attempt_timed_out || unit.run_timed_out) {
    outcome = AttemptOutcome::timed_out;
    attempt_state = StepState::timed_out;
    if (unit.attempt_timed_out)
      unit.message = "timed out after " + format_duration(*unit.body->timeout);
    if (unit.run_timed_out) unit.message = "stopped: " + failure_reason_;
  } else if (unit.cancel_requested) {
    outcome = AttemptOutcome::failed;
    attempt_state = StepState::cancelled;
    if (unit.message.empty()) unit.message = "stopped: " + failure_reason_;
  } else if (exit.signal == 0 && exit.exit_code == 0) {
    outcome = AttemptOutcome::succeeded;
    attempt_state = StepState::succeeded;
    unit.message.clear();
    if (unit.role == UnitRole::step && !read_outputs(unit)) {
      outcome = AttemptOutcome::failed;
      attempt_state = StepState::failed;
    }
  } else {
    outcome = AttemptOutcome::failed;
    attempt_state = StepState::failed;
    unit.message = exit.signal ? "was killed by " + describe_signal(exit.signal)
                               : "exited with code " + std::to_string(exit.exit_code);
  }
  if (exit.started && exit.signal == 0) unit.exit_code = exit.exit_code;
  unit.signal = exit.signal;
  conclude_attempt(unit, outcome, attempt_state, /*retryable=*/true);
}

void Executor::on_plugin_exit(Unit& unit, const PluginExit& exit) {
  if (unit.attempt_timer) unit.attempt_timer->cancel();
  flush_lines(unit);
  unit.process.reset();

  AttemptOutcome outcome = AttemptOutcome::failed;
  StepState attempt_state = StepState::failed;
  bool retryable = true;
  std::string why = mask(exit.message);
  if (unit.deadline_hit || unit.attempt_timed_out || unit.run_timed_out) {
    outcome = AttemptOutcome::timed_out;
    attempt_state = StepState::timed_out;
    if (unit.attempt_timed_out)
      unit.message = "timed out after " + format_duration(*unit.body->timeout);
    if (unit.run_timed_out) unit.message = "stopped: " + failure_reason_;
    if (exit.status == PluginExit::Status::abandoned) unit.message += "; " + why;
  } else if (unit.cancel_requested) {
    attempt_state = StepState::cancelled;
    if (unit.message.empty()) unit.message = "stopped: " + failure_reason_;
    if (exit.status == PluginExit::Status::abandoned) unit.message += "; " + why;
  } else if (exit.status == PluginExit::Status::succeeded) {
    outcome = AttemptOutcome::succeeded;
    attempt_state = StepState::succeeded;
    unit.message.clear();
    if (!exit.outputs_error.empty()) {
      outcome = AttemptOutcome::failed;
      attempt_state = StepState::failed;
      retryable = false;
      unit.message = exit.outputs_error;
    } else if (unit.role == UnitRole::step && !unit.for_each) {
      StringMap outputs;
      for (const auto& [key, value] : exit.outputs) outputs[key] = value;
      results_[unit.id].outputs = std::move(outputs);
    }
  } else {
    // A plain failure is final; a retryable one goes to the retry policy.
    retryable = exit.status == PluginExit::Status::retryable;
    // "failed: ..." reads right after the step's name in the run's reason
    // ("step 'check' failed: expected status 200, got 404").
    unit.message = "failed: " + (why.empty() ? std::string("the plugin gave no reason") : why);
  }
  unit.exit_code.reset();
  unit.signal = 0;
  conclude_attempt(unit, outcome, attempt_state, retryable);
}

void Executor::conclude_attempt(Unit& unit, AttemptOutcome outcome, StepState attempt_state,
                                bool retryable) {
  auto now = std::chrono::steady_clock::now();
  bool may_retry = retryable && attempt_state != StepState::cancelled && !unit.cancel_requested &&
                   !unit.deadline_hit && !unit.run_timed_out && !hard_stop_ &&
                   (unit.role != UnitRole::step || !stopping_) &&
                   should_retry(unit.body->retry, unit.attempt, outcome, unit.exit_code);
  Duration delay{0};
  if (may_retry) {
    std::uniform_real_distribution<double> random01(0.0, 1.0);
    delay = retry_delay(unit.body->retry, unit.attempt, random01(rng_));
    if (unit.deadline_at && now + delay >= *unit.deadline_at) {
      may_retry = false;
      unit.message +=
          "; no time for another attempt before its deadline of " + format_duration(*unit.deadline);
    }
  }

  Event ended = event(EventKind::attempt_ended, &unit);
  ended.state = attempt_state;
  ended.exit_code = unit.exit_code;
  ended.signal = unit.signal;
  ended.duration = std::chrono::duration_cast<Duration>(now - unit.attempt_started);
  ended.message = unit.message;
  if (may_retry) ended.retry_in = delay;
  emit(ended);
  unit.log.write_note(std::chrono::system_clock::now(),
                      std::string("attempt ") + std::to_string(unit.attempt) + " " +
                          to_string(attempt_state) +
                          (unit.message.empty() ? "" : ": " + unit.message));

  if (may_retry) {
    if (!unit.retry_timer) unit.retry_timer = std::make_unique<asio::steady_timer>(io_);
    unit.retry_timer->expires_after(delay);
    unit.retry_timer->async_wait([this, &unit](const boost::system::error_code& ec) {
      if (ec || unit.state != StepState::running) return;
      prepare_attempt(unit);
      sink_.flush();
      launch_attempt(unit);
    });
    return;
  }
  end_unit(unit, attempt_state);
}

void Executor::end_unit(Unit& unit, StepState state) {
  if (unit.state != StepState::running) return;
  if (unit.awaiting_launch) {
    // Its attempt was recorded as started, but its process never was.
    unit.awaiting_launch = false;
    Event ended = event(EventKind::attempt_ended, &unit);
    ended.state = state;
    ended.message = unit.message;
    emit(ended);
  }
  for (auto* timer : {unit.attempt_timer.get(), unit.deadline_timer.get(), unit.retry_timer.get()})
    if (timer) timer->cancel();
  unit.state = state;
  // An item is not a step of its own: its for_each step's result is set
  // when the step as a whole ends.
  if (unit.role == UnitRole::step && !unit.for_each) {
    StepResult& result = results_[unit.id];
    result.status = to_string(state);
    result.exit_code = unit.exit_code;
  }
  unit.log.write_note(std::chrono::system_clock::now(), std::string("ended: ") + to_string(state));
  if (state != StepState::succeeded) unit.log.keep();
  unit.log.close();
  if (!unit.log.error().empty()) {
    Event w = event(EventKind::warning, &unit);
    w.message = unit.log.error();
    emit(w);
  }
  Event e = event(ended_kind(unit.role), &unit);
  e.exit_code = unit.exit_code;
  e.signal = unit.signal;
  // A unit that ended before it started (a `when` or `for_each` that cannot
  // be evaluated, a "no" to its question) took no time.
  if (unit.started != std::chrono::steady_clock::time_point{})
    e.duration =
        std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - unit.started);
  e.message = unit.message;
  e.log_path = unit.log_path;
  if (unit.role == UnitRole::step && !unit.for_each) {
    if (auto it = results_.find(unit.id); it != results_.end() && !it->second.outputs.empty()) {
      Value::Map outputs;
      for (const auto& [key, value] : it->second.outputs) outputs[key] = mask(value);
      e.outputs_json = Value(std::move(outputs)).to_json();
    }
  }
  emit(e);
  auto on_done = std::move(unit.on_done);
  if (on_done) on_done(unit);
}

void Executor::cancel_unit(Unit& unit) {
  if (unit.state != StepState::running) return;
  unit.cancel_requested = true;
  if (unit.process && !unit.process->ended()) {
    unit.process->stop();
    return;
  }
  // Between attempts, or announced and waiting for its start to be durable:
  // nothing to stop.
  if (unit.message.empty())
    unit.message = (unit.awaiting_launch ? "stopped before its process started: " : "stopped: ") +
                   failure_reason_;
  end_unit(unit, unit.run_timed_out ? StepState::timed_out : StepState::cancelled);
}

}  // namespace runbook::exec
