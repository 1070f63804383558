// `runbook rollback RUN_ID` and `runbook resume RUN_ID`: going on from what
// the history recorded of an earlier run.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "plugin_support.hpp"
#include "run_support.hpp"
#include "runbook/executor.hpp"
#include "runbook/load.hpp"
#include "runbook/store.hpp"

namespace runbook::cli {
namespace {

// The step an id recorded in history names: "deploy" or an item "deploy[2]".
const Step* recorded_step(const Runbook& runbook, const std::string& id) {
  return runbook.find_step(id.substr(0, id.find('[')));
}

struct RecoverFlags {
  std::string run_id;
  bool yes = false;
  bool rerun_ambiguous = false;
  bool skip_ambiguous = false;
  std::string output = "text";
};

// The recorded run and its runbook, unchanged since the run; nullopt after
// printing why not.
struct Recorded {
  RecordedRun run;
  Runbook runbook;
  ResolvedParams params;
  PluginRegistry plugins;
};

std::optional<Recorded> load_recorded(const std::string& state_dir, const std::string& run_id) {
  std::string error;
  std::optional<RecordedRun> run = load_run(state_dir, run_id, &error);
  if (!run) {
    if (error.empty()) error = "no run " + run_id + " in " + history_db_path(state_dir);
    std::cerr << "runbook: " << error << "\n";
    return std::nullopt;
  }
  if (!complete_from_audit_log(audit_log_path(state_dir), *run, &error))
    std::cerr << "runbook: warning: " << error
              << "; going by the history alone, which may miss the last steps' starts\n";
  LoadResult loaded = load_runbook_file(run->path);
  if (!loaded.ok()) {
    std::cerr << "runbook: the runbook of run " << run_id << " does not load any more:\n"
              << loaded.diagnostics.format();
    return std::nullopt;
  }
  if (!run->sha256.empty() && loaded.runbook->sha256 != run->sha256) {
    std::cerr << "runbook: " << run->path << " changed since run " << run_id
              << " (its SHA-256 differs from the one recorded): its steps and rollbacks may not "
                 "be the ones that ran; refusing\n";
    return std::nullopt;
  }
  Diagnostics diags;
  ResolvedParams params = recorded_params(*loaded.runbook, run->params_json, diags);
  if (!diags.empty()) {
    std::cerr << "runbook: the params of run " << run_id << " do not resolve any more:\n"
              << diags.format();
    return std::nullopt;
  }
  PluginRegistry plugins;
  if (!prepare_plugins(*loaded.runbook, plugins, std::cerr)) return std::nullopt;
  return Recorded{std::move(*run), std::move(*loaded.runbook), std::move(params),
                  std::move(plugins)};
}

RunOptions options_for(const std::string& state_dir, const Recorded& r) {
  RunOptions options;
  options.state_dir = state_dir;
  options.run_id = r.run.id;
  options.trigger = "cli";
  options.params = r.params.values;
  options.secrets = r.params.secrets;
  options.params_json = r.run.params_json;
  options.plugins = &r.plugins;
  return options;
}

bool ask(const std::string& question) {
  std::cout << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

int rollback_command(const RecoverFlags& flags) {
  std::string state_dir = default_state_dir();
  std::optional<Recorded> r = load_recorded(state_dir, flags.run_id);
  if (!r) return 2;
  const RecordedRun& run = r->run;
  if (run.state == "succeeded") {
    std::cerr << "runbook: run " << run.id << " succeeded: there is nothing to roll back\n";
    return 2;
  }
  if (run.state == "running" && !run.engine_gone) {
    std::cerr << "runbook: run " << run.id << " is still running (pid " << run.pid
              << "): stop it first (Ctrl-C or SIGTERM rolls it back)\n";
    return 2;
  }
  if (std::vector<int> alive = processes_of_run(run.id); !alive.empty()) {
    std::cerr << "runbook: " << alive.size() << " process(es) started by run " << run.id
              << " are still running (pid " << alive.front()
              << "…): wait for them to end, or stop them, before rolling back\n";
    return 2;
  }
  if (run.rollback_state == "succeeded") {
    std::cerr << "runbook: run " << run.id << " was already rolled back at " << run.rolled_back_at
              << "\n";
    return 2;
  }
  std::vector<std::string> started = run.started_steps();
  std::vector<std::string> with_rollback;
  for (const std::string& id : started) {
    const Step* step = recorded_step(r->runbook, id);
    if (step && step->rollback) with_rollback.push_back(id);
  }
  if (with_rollback.empty()) {
    std::cerr << "runbook: none of the steps run " << run.id << " started has a rollback\n";
    return 2;
  }
  std::string list;
  for (auto it = with_rollback.rbegin(); it != with_rollback.rend(); ++it)
    list += (list.empty() ? "" : ", ") + *it;
  if (!flags.yes) {
    if (!::isatty(STDIN_FILENO)) {
      std::cerr << "runbook: refusing to roll back without a terminal to ask on; run with --yes "
                   "(rollbacks, newest first: "
                << list << ")\n";
      return 2;
    }
    if (!ask("Roll back run " + run.id + " (" + list + ")?")) {
      std::cerr << "runbook: not rolled back\n";
      return 1;
    }
  }
  RunOptions options = options_for(state_dir, *r);
  auto sinks = make_run_sinks(state_dir, r->runbook, flags.output);
  RunOutcome outcome = execute_rollback(r->runbook, started, options, sinks->fanout);
  if (!outcome.error.empty()) {
    std::cerr << "runbook: cannot roll back: " << outcome.error << "\n";
    return 1;
  }
  // Every rollback ran and succeeded: the command did what was asked.
  if (outcome.state == RunState::failed) return 0;
  return exit_code_for(outcome.state);
}

int resume_command(const RecoverFlags& flags) {
  if (flags.rerun_ambiguous && flags.skip_ambiguous) {
    std::cerr << "runbook: --rerun-ambiguous and --skip-ambiguous exclude each other\n";
    return 2;
  }
  std::string state_dir = default_state_dir();
  std::optional<Recorded> r = load_recorded(state_dir, flags.run_id);
  if (!r) return 2;
  const RecordedRun& run = r->run;
  if (run.state != "running") {
    std::cerr << "runbook: run " << run.id << " already ended (" << run.state
              << "): there is nothing to resume\n";
    return 2;
  }
  if (!run.engine_gone) {
    std::cerr << "runbook: run " << run.id << " is still running (pid " << run.pid << " on "
              << run.host << ")\n";
    return 2;
  }
  // A killed engine cannot stop its steps' processes; resuming while they
  // still run would do their work twice, side by side.
  if (std::vector<int> alive = processes_of_run(run.id); !alive.empty()) {
    std::string pids;
    for (int pid : alive) pids += (pids.empty() ? "" : " ") + std::to_string(pid);
    std::cerr << "runbook: processes started by run " << run.id << " are still running (pids "
              << pids << "): wait for them to end, or stop them (kill " << pids
              << "), then resume\n";
    return 2;
  }
  RunOptions options = options_for(state_dir, *r);
  options.resumed = true;
  options.assume_yes = flags.yes;
  if (!steps_that_confirm(r->runbook).empty() && !flags.yes && !::isatty(STDIN_FILENO)) {
    std::cerr << "runbook: refusing to resume: steps of this runbook ask for confirmation and "
                 "there is no terminal to ask on; resume with --yes to answer yes\n";
    return 2;
  }
  std::vector<std::string> ambiguous;
  for (const StepRecord& s : run.steps) {
    if (s.state == "succeeded" || s.state == "skipped") {
      options.already_succeeded.push_back(s.id);
    } else if (s.started() && !s.ended()) {
      const Step* step = recorded_step(r->runbook, s.id);
      if (flags.skip_ambiguous) {
        options.already_succeeded.push_back(s.id);
        options.skipped_on_resume.push_back(s.id);
      } else if (!(step && step->idempotent) && !flags.rerun_ambiguous) {
        ambiguous.push_back(s.id);
      }
    }
  }
  if (!ambiguous.empty()) {
    std::string list;
    for (const std::string& id : ambiguous) list += (list.empty() ? "" : ", ") + id;
    std::cerr << "runbook: step" << (ambiguous.size() > 1 ? "s " : " ") << list
              << " started but never recorded an end, and " << (ambiguous.size() > 1 ? "are" : "is")
              << " not marked idempotent: it may or may not have done its work.\n"
                 "Check, then resume with --rerun-ambiguous (run it again) or "
                 "--skip-ambiguous (count it as succeeded).\n";
    return 2;
  }
  auto sinks = make_run_sinks(state_dir, r->runbook, flags.output);
  RunOutcome outcome = execute_runbook(r->runbook, options, sinks->fanout);
  if (!outcome.error.empty()) {
    std::cerr << "runbook: cannot resume: " << outcome.error << "\n";
    return 1;
  }
  return exit_code_for(outcome.state);
}

}  // namespace

void add_rollback_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<RecoverFlags>();
  CLI::App* cmd = app.add_subcommand(
      "rollback", "Roll back a finished run that stopped without rollback (on_failure: stop).");
  cmd->add_option("RUN_ID", flags->run_id, "The run, as shown by `runbook history`")->required();
  cmd->add_flag("--yes,-y", flags->yes, "Do not ask before rolling back");
  cmd->add_option("--output", flags->output, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->footer(
      "Runs the rollbacks of every step the run started, newest first, from the recorded\n"
      "state. Exit codes: 0 every rollback succeeded; 3 a rollback failed; 2 refused.");
  cmd->callback([flags, &exit_code] { exit_code = rollback_command(*flags); });
}

void add_resume_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<RecoverFlags>();
  CLI::App* cmd = app.add_subcommand(
      "resume", "Go on with a run the engine left unfinished (crash, reboot, kill -9).");
  cmd->add_option("RUN_ID", flags->run_id, "The run, as shown by `runbook history`")->required();
  cmd->add_flag("--rerun-ambiguous", flags->rerun_ambiguous,
                "Run again the steps that started but never recorded an end");
  cmd->add_flag("--skip-ambiguous", flags->skip_ambiguous,
                "Count the steps that started but never recorded an end as succeeded");
  cmd->add_flag("--yes,-y", flags->yes, "Answer yes to every `confirm:` question");
  cmd->add_option("--output", flags->output, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->footer(
      "Steps recorded as succeeded are not run again. A step recorded as started but not\n"
      "ended runs again only when it says `idempotent: true` (or with --rerun-ambiguous).");
  cmd->callback([flags, &exit_code] { exit_code = resume_command(*flags); });
}

}  // namespace runbook::cli
