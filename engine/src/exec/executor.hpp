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

#include "exec/plugin_runner.hpp"
#include "exec/process_runner.hpp"
#include "exec/retry_policy.hpp"
#include "exec/run_environment.hpp"
#include "exec/step_log.hpp"
#include "runbook/events.hpp"
#include "runbook/executor.hpp"
#include "runbook/expr.hpp"
#include "runbook/graph.hpp"
#include "runbook/params.hpp"
#include "runbook/plugins.hpp"

namespace runbook::exec {

enum class UnitRole { step, rollback, hook };

// "step 'x' exited with code 1": why a run failed. A message that already
// names the step is used as it is.
std::string step_failure(const std::string& id, const std::string& message);

struct ForEachRun;

// One thing the executor runs with attempts, timeouts and retries: a step of
// the graph, a step's rollback, or a hook.
struct Unit {
  UnitRole role = UnitRole::step;
  int step_index = -1;  // into Runbook::steps, for steps and rollbacks
  std::string id;       // as shown and logged: "deploy", or "deploy[2]" for an item
  // One item of a for_each step (or its rollback): `${{ item }}` and
  // `${{ index }}` in its templates.
  std::optional<Value> item;
  int item_index = -1;
  ForEachRun* for_each = nullptr;  // the step as a whole; items only
  const StepBody* body = nullptr;
  std::optional<Duration> deadline;
  AllowFailure allow_failure;
  std::function<void(Unit&)> on_done;

  StepState state = StepState::pending;
  int attempt = 0;
  std::chrono::steady_clock::time_point started, attempt_started;
  std::optional<std::chrono::steady_clock::time_point> deadline_at;
  std::shared_ptr<RunningAttempt> process;  // a process or a plugin call
  std::unique_ptr<boost::asio::steady_timer> attempt_timer, deadline_timer, retry_timer;
  bool attempt_timed_out = false;  // this attempt's `timeout` expired
  bool deadline_hit = false;       // the step's `deadline` expired
  bool cancel_requested = false;   // stopped by the run (failure elsewhere, cancel)
  bool awaiting_launch = false;    // announced; spawned once its records are durable
  bool run_timed_out = false;      // stopped because the run's `timeout` expired
  std::optional<int> exit_code;
  int signal = 0;
  std::string message;
  // What an attempt runs, rendered once when the unit starts.
  std::vector<std::string> argv;
  EnvVars step_env;  // the body's env and its ${{ }} values
  std::string workdir;
  std::string shown_command;           // values resolved, secrets as ***
  const PluginKind* plugin = nullptr;  // `uses:`: the step kind
  std::string with_json;               // `uses:`: `with:` rendered
  StepLog log;
  std::string log_path;
  LineSplitter out_lines, err_lines;
};

// True when `allow` lets the ended `unit` (failed or timed out) not fail the
// run.
bool failure_allowed(const AllowFailure& allow, const Unit& unit);

// A for_each step while its items run. Items start in order, each as a Unit
// of its own (its own slot, attempts, log and rollback), while the run has a
// free slot and fewer than the step's max_parallel of them are in flight. The
// step ends when no item is in flight and none is left to start (or the run
// stops starting things).
struct ForEachRun {
  int step_index = -1;
  Value::List items;
  size_t next = 0;    // the next item to start
  int in_flight = 0;  // taken (running or awaiting confirmation), not ended
  int succeeded = 0;
  int failed = 0;                // failed or timed out
  bool failures_allowed = true;  // every failure so far is allowed by allow_failure
  std::string first_failure;     // "item 2 exited with code 1"
  std::chrono::steady_clock::time_point started;
  bool ended = false;  // its end is decided (and posted)
};

// A step, or one item of a for_each step, that started: what a rollback
// undoes, in start order.
struct StartedUnit {
  int step_index = -1;
  int item_index = -1;        // -1: not an item
  std::optional<Value> item;  // for an item: empty when only its index is known
};

// What a recorded id names: "deploy" a step, "deploy[2]" an item of the
// for_each step deploy (its value empty). nullopt for an unknown step, and
// for a for_each step itself: its items, not it, have rollbacks to run.
std::optional<StartedUnit> started_unit(const Runbook& runbook, const std::string& id);

// Drives one run (planner, driver, runner apart: the Plan says what is ready,
// this decides what starts, the ProcessRunner starts it). Single-threaded:
// everything happens on io_.
class Executor {
 public:
  Executor(const Runbook& runbook, RunOptions options, EventSink& sink);
  // Runs the graph, then rollback and hooks as needed.
  RunOutcome run();
  // Runs only the rollbacks of these steps and items, in start order (an
  // item's value is found again from its step's for_each when empty).
  RunOutcome run_rollbacks(std::vector<StartedUnit> started);

 private:
  enum class Phase { steps, rollback, hooks, done };

  // The graph.
  void fill_slots();
  Unit& add_step_unit(int index);
  // Asks for confirmation, or announces and prepares `unit` into `batch`.
  void take_step_unit(Unit& unit, std::vector<Unit*>& batch);
  void on_step_done(Unit& unit);
  // A step ended (ok: succeeded, skipped or allowed to fail): the plan moves
  // on, steps that needed it may become not_run, free slots are filled.
  void after_step_ended(int index, bool ok);
  // Fails the run for `reason` and stops the running steps, unless stopping.
  void fail_run(const std::string& reason);
  bool resumed_as_succeeded(const std::string& id) const;

  // for_each steps (for_each.cpp).
  static bool is_for_each(const Step& step) { return step.for_each || step.for_each_list; }
  void begin_for_each(int index, std::vector<Unit*>& batch);
  // Starts items of running for_each steps (oldest step first) while slots
  // allow.
  void start_items(std::vector<Unit*>& batch);
  void start_items(ForEachRun& run, std::vector<Unit*>& batch);
  void on_item_done(Unit& unit);
  // Decides the step's end once nothing is in flight and nothing more starts.
  void maybe_end_for_each(ForEachRun& run);
  void end_for_each(ForEachRun& run);
  // A for_each step recorded as succeeded before a resume: its items count as
  // started (so that a failure later rolls them back).
  void record_resumed_items(int index);
  // A rollback unit's item, found again from the step's for_each when only
  // its index was recorded; false with unit.message set when it cannot be.
  bool resolve_item(Unit& unit);
  std::string started_id(const StartedUnit& started) const;
  void stop_steps(const std::string& reason, bool cancel);
  void maybe_end_steps_phase();

  // Confirmation: one question at a time, asked on stdin while the rest of
  // the run goes on.
  void ask_next_confirm();
  // The step's `confirm:` question, its ${{ }} rendered, secrets masked.
  std::string confirm_question(const Unit& unit) const;
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
  // launch_attempt for each of `units` once the sinks made their records
  // durable: at once after a flush when no other step runs, otherwise when
  // the audit log's thread has fsync'd them, the loop going on meanwhile.
  void launch_when_durable(std::vector<Unit*> units);
  std::shared_ptr<RunningAttempt> start_process(Unit& unit);
  std::shared_ptr<RunningAttempt> start_plugin_call(Unit& unit);
  void on_attempt_exit(Unit& unit, const ProcessExit& exit);
  void on_plugin_exit(Unit& unit, const PluginExit& exit);
  // What every attempt's end shares: the last partial lines of its output
  // to the log, then (conclude_attempt) its events, a retry or the unit's end.
  void flush_lines(Unit& unit);
  void conclude_attempt(Unit& unit, AttemptOutcome outcome, StepState state, bool retryable);
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
  // Sends `e` to the sinks, which make it durable at the next flush: before
  // a process starts, or at the end of this turn of the loop at the latest.
  void emit(const Event& e);
  // Flushes the sinks once the handlers queued so far have run.
  void post_flush();

  const Runbook& runbook_;
  RunOptions options_;
  EventSink& sink_;
  boost::asio::io_context io_;
  ProcessRunner runner_;
  PluginRunner plugin_runner_;
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

  std::deque<Unit> units_;                // stable addresses
  std::vector<StartedUnit> start_order_;  // steps and items in the order they started
  std::deque<ForEachRun> for_each_runs_;  // stable addresses
  int max_parallel_ = 1;
  int running_steps_ = 0;  // step units holding a slot (items included)
  int open_for_each_ = 0;  // for_each steps begun and not yet ended
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
  bool flush_posted_ = false;
  int launches_in_flight_ = 0;  // launch_when_durable calls waiting for their fsync
  std::unique_ptr<boost::asio::posix::stream_descriptor> terminal_in_;
  boost::asio::streambuf answer_;

  std::vector<StartedUnit> rollback_queue_;  // in the order to roll back
  size_t rollback_next_ = 0;
  bool rollback_failed_ = false;
  std::vector<const Step*> hook_queue_;
  size_t hook_next_ = 0;
  std::chrono::steady_clock::time_point run_started_;
  RunState final_state_ = RunState::failed;
};

}  // namespace runbook::exec
