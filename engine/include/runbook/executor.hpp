#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runbook/events.hpp"
#include "runbook/model.hpp"
#include "runbook/value.hpp"

namespace runbook {

class PluginRegistry;

struct RunOptions {
  std::string state_dir;            // where runs/RUN_ID/*.log go; created if missing
  std::string run_id;               // empty: a new one (make_run_id)
  std::string trigger = "cli";      // cli, cron, alert, api
  std::optional<int> max_parallel;  // overrides the runbook's
  // `confirm:` questions: answered yes by --yes; otherwise asked on the
  // terminal (stdin). The caller refuses a run that would ask without one.
  bool assume_yes = false;
  // Resume: steps recorded as succeeded by an earlier process of the same run
  // (same run_id). They are not run again and count as succeeded.
  std::vector<std::string> already_succeeded;
  // Resume: the subset of already_succeeded the operator chose to skip
  // (--skip-ambiguous); recorded as such, not as succeeded work.
  std::vector<std::string> skipped_on_resume;
  bool resumed = false;  // shown in run.started
  // The run's params as a JSON object, secrets already masked; recorded in
  // run.started for the audit log and history.
  std::string params_json = "{}";
  // Resolved params (runbook/params.hpp) and the secret values to mask in
  // everything the run writes or prints.
  Value::Map params;
  std::vector<std::string> secrets;
  // For runs started by an alert: `alert.labels.X`, `alert.annotations.X`.
  std::map<std::string, std::string> alert_labels, alert_annotations;
  // And the rule and fingerprint, for run.started: {"rule": …, "fingerprint": …}.
  std::string alert_json;
  // The step kinds `uses:` may name (runbook/plugins.hpp); checked by the
  // caller (check_plugin_steps). Null: no plugins.
  const PluginRegistry* plugins = nullptr;
};

struct RunOutcome {
  std::string run_id;
  RunState state = RunState::failed;
  std::string error;  // set when the run could not start at all
};

// Runs `runbook` to its end on the calling thread: the steps as a DAG, then
// rollback and hooks. SIGINT, SIGTERM and SIGHUP cancel it while it runs (a
// second one stops at once). Every process it started has ended when it
// returns. `runbook` must have loaded without diagnostics.
RunOutcome execute_runbook(const Runbook& runbook, const RunOptions& options, EventSink& sink);

// The ids of the steps (and hooks) that ask for confirmation, in file order.
std::vector<std::string> steps_that_confirm(const Runbook& runbook);

// Runs only the rollbacks of `started_steps` (step ids in the order they
// started), newest first, one at a time: `runbook rollback RUN_ID` on a run
// that stopped without rolling back. Ends `failed` when every rollback
// succeeded (the run it undoes had failed), `rollback_failed` otherwise.
RunOutcome execute_rollback(const Runbook& runbook, const std::vector<std::string>& started_steps,
                            const RunOptions& options, EventSink& sink);

// Reads the alert a run of `runbook serve` is for (`run --alert-file`), a
// JSON object {rule, fingerprint, status, labels, annotations}, into
// `options` (alert_labels, alert_annotations, alert_json). "" or the problem.
std::string read_alert_file(const std::string& path, RunOptions& options);

// Processes still running that a run's steps started (found by the tag every
// step process carries), e.g. left behind when its engine was killed.
std::vector<int> processes_of_run(const std::string& run_id);

// The state directory: $RUNBOOK_STATE_DIR, else $XDG_STATE_HOME/runbook,
// else ~/.local/state/runbook.
std::string default_state_dir();

// A new run id that sorts by time and is short enough to type:
// "20261121-153012-7f3a" (UTC).
std::string make_run_id();

}  // namespace runbook

namespace runbook {

// What `run --dry-run` prints: the steps in waves (what could run in
// parallel), each command, its timeout and retries, and the rollbacks
// registered. Runs nothing.
// Templates are shown with the values of params, env and run.* resolved
// (secrets as ***); those reading steps.*, item or index stay as written.
std::string describe_plan(const Runbook& runbook, const RunOptions& options);

}  // namespace runbook
