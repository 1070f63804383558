#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "exec/process_runner.hpp"
#include "exec/run_environment.hpp"
#include "exec/step_log.hpp"
#include "runbook/events.hpp"
#include "runbook/executor.hpp"
#include "runbook/expr.hpp"
#include "runbook/graph.hpp"
#include "runbook/params.hpp"

namespace runbook::exec {

enum class UnitRole { step, rollback, hook };

// One thing the executor runs with attempts, timeouts and retries: a step of
// the graph, a step's rollback, or a hook.
struct Unit {
  UnitRole role = UnitRole::step;
  int step_index = -1;  // into Runbook::steps, for steps and rollbacks
  std::string id;       // as shown and logged
  const StepBody* body = nullptr;
  std::optional<Duration> deadline;
  AllowFailure allow_failure;
  std::function<void(Unit&)> on_done;

  StepState state = StepState::pending;
  int attempt = 0;
  std::chrono::steady_clock::time_point started, attempt_started;
  std::optional<std::chrono::steady_clock::time_point> deadline_at;
  std::shared_ptr<ProcessRunner::Process> process;
  std::unique_ptr<boost::asio::steady_timer> attempt_timer, deadline_timer, retry_timer;
  bool attempt_timed_out = false;  // this attempt's `timeout` expired
  bool deadline_hit = false;       // the step's `deadline` expired
  bool cancel_requested = false;   // stopped by the run (failure elsewhere, cancel)
  bool run_timed_out = false;      // stopped because the run's `timeout` expired
  std::optional<int> exit_code;
  int signal = 0;
  std::string message;
  // What an attempt runs, rendered once when the unit starts.
  std::vector<std::string> argv;
  EnvVars step_env;  // the body's env and its ${{ }} values
  std::string workdir;
  std::string shown_command;  // values resolved, secrets as ***
  StepLog log;
  std::string log_path;
  LineSplitter out_lines, err_lines;
};

// Drives one run (planner, driver, runner apart: the Plan says what is ready,
// this decides what starts, the ProcessRunner starts it). Single-threaded:
// everything happens on io_.
class Executor {
 public:
  Executor(const Runbook& runbook, RunOptions options, EventSink& sink);
  // Runs the graph, then rollback and hooks as needed.
  RunOutcome run();
  // Runs only the rollbacks of these steps (indexes, in start order).
  RunOutcome run_rollbacks(std::vector<int> started);

 private:
  enum class Phase { steps, rollback, hooks, done };

  // The graph.
  void fill_slots();
  Unit& add_step_unit(int index);
  void on_step_done(Unit& unit);
  void stop_steps(const std::string& reason, bool cancel);
  void maybe_end_steps_phase();

  // Confirmation: one question at a time, asked on stdin while the rest of
  // the run goes on.
  void ask_next_confirm();
  void on_confirm_answer(bool yes);

  // Rollback and hooks, one unit at a time.
  void start_rollback_phase();
  void run_next_rollback();
  void start_hooks_phase();
  void run_next_hook();
  void finish();

  // A unit's life.
  // start_unit = announce_unit, prepare_attempt, flush the sinks, then
  // launch_attempt; fill_slots does the same for many steps with one flush.
  void start_unit(Unit& unit);
  bool announce_unit(Unit& unit);  // false: it ended before any attempt
  void prepare_attempt(Unit& unit);
  void launch_attempt(Unit& unit);
  void on_attempt_exit(Unit& unit, const ProcessExit& exit);
  void on_output(Unit& unit, OutputStream stream, std::string_view chunk);
  void end_unit(Unit& unit, StepState state);
  void cancel_unit(Unit& unit);

  // Expressions: the context a unit's templates read, and rendering its body.
  ExprContext context(const Unit* unit) const;
  // False (with unit.message set) when a template could not be evaluated.
  bool render_unit(Unit& unit);
  // Outputs the step wrote to $RUNBOOK_OUTPUT; false with unit.message set
  // when they are malformed or over the limit.
  bool read_outputs(Unit& unit);
  std::string output_file(const Unit& unit) const;
  std::string mask(std::string_view text) const;

  void on_signal(int signo);
  void arm_signals();
  void arm_tick();
  Event event(EventKind kind, const Unit* unit = nullptr) const;
  void emit(const Event& e) { sink_.on_event(e); }

  const Runbook& runbook_;
  RunOptions options_;
  EventSink& sink_;
  boost::asio::io_context io_;
  ProcessRunner runner_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer run_timer_, tick_timer_;
  Graph graph_;
  Plan plan_;
  std::unique_ptr<RunEnvironment> env_;
  SecretMasker masker_;
  StringMap env_map_;                          // env.X
  std::map<std::string, StepResult> results_;  // steps.ID
  std::string run_dir_;
  std::mt19937 rng_{std::random_device{}()};

  std::deque<Unit> units_;         // stable addresses
  std::vector<Unit*> step_units_;  // per step index, once started
  std::vector<int> start_order_;   // step indexes in the order they started
  int max_parallel_ = 1;
  int running_steps_ = 0;
  int ended_steps_ = 0;
  Phase phase_ = Phase::steps;
  bool stopping_ = false;  // no new step starts
  bool cancelled_ = false;
  bool failed_ = false;
  bool hard_stop_ = false;
  bool rollback_only_ = false;  // second signal: kill everything, skip the rest
  int signals_seen_ = 0;
  std::string failure_reason_;

  std::deque<Unit*> awaiting_confirm_;  // taken from the plan, not started
  bool asking_ = false;
  std::unique_ptr<boost::asio::posix::stream_descriptor> terminal_in_;
  boost::asio::streambuf answer_;

  std::vector<int> rollback_queue_;  // step indexes, in the order to roll back
  size_t rollback_next_ = 0;
  bool rollback_failed_ = false;
  std::vector<const Step*> hook_queue_;
  size_t hook_next_ = 0;
  std::chrono::steady_clock::time_point run_started_;
  RunState final_state_ = RunState::failed;
};

}  // namespace runbook::exec
