#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "commands.hpp"
#include "params_flags.hpp"
#include "plugin_support.hpp"
#include "run_support.hpp"
#include "runbook/executor.hpp"
#include "runbook/expr.hpp"
#include "runbook/load.hpp"
#include "runbook/params.hpp"
#include "runbook/store.hpp"

namespace runbook::cli {
namespace {

struct RunFlags {
  std::string file;
  bool dry_run = false;
  bool yes = false;
  int max_parallel = 0;
  std::string output = "text";
  std::string lock_wait;
  std::string run_id;
  std::string trigger = "cli";
  std::string alert_file;
  ParamsFlags params;
};

// A run id given with --run-id: it names a directory and a history row.
bool valid_run_id(const std::string& id) {
  if (id.empty() || id.size() > 64 || !std::isalnum((unsigned char)id[0])) return false;
  for (char c : id)
    if (!std::isalnum((unsigned char)c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

int run_command(const RunFlags& flags) {
  LoadResult loaded = load_runbook_file(flags.file);
  if (!loaded.ok()) {
    std::cerr << loaded.diagnostics.format();
    return 2;
  }
  const Runbook& runbook = *loaded.runbook;
  ParamsOutcome params = resolve_params_flags(runbook, flags.params, std::cout, std::cerr);
  if (!params.params) return params.exit_code;  // 0 after --help-params, 2 on bad params
  RunOptions options;
  options.state_dir = default_state_dir();
  options.params = params.params->values;
  options.secrets = params.params->secrets;
  options.params_json = params_json_masked(runbook, options.params);
  options.assume_yes = flags.yes;
  options.trigger = flags.trigger;
  if (!flags.alert_file.empty()) {
    if (std::string error = read_alert_file(flags.alert_file, options); !error.empty()) {
      std::cerr << "runbook: --alert-file " << flags.alert_file << ": " << error << "\n";
      return 2;
    }
  }
  if (flags.max_parallel > 0) options.max_parallel = flags.max_parallel;
  PluginRegistry plugins;
  if (!prepare_plugins(runbook, plugins, std::cerr)) return 2;
  options.plugins = &plugins;
  if (flags.dry_run) {
    std::cout << describe_plan(runbook, options);
    return 0;
  }

  std::vector<std::string> asking = steps_that_confirm(runbook);
  if (!asking.empty() && !flags.yes && !::isatty(STDIN_FILENO)) {
    std::string ids;
    for (const std::string& id : asking) ids += (ids.empty() ? "" : ", ") + id;
    std::cerr << "runbook: refusing to start: step" << (asking.size() > 1 ? "s " : " ") << ids
              << (asking.size() > 1 ? " ask" : " asks")
              << " for confirmation and there is no terminal to ask on; run with --yes to "
                 "answer yes\n";
    return 2;
  }

  if (!flags.run_id.empty() && !valid_run_id(flags.run_id)) {
    std::cerr << "runbook: --run-id must be 1-64 letters, digits, '-', '_' or '.', starting "
                 "with a letter or digit, not '"
              << flags.run_id << "'\n";
    return 2;
  }
  options.run_id = flags.run_id.empty() ? make_run_id() : flags.run_id;
  {
    std::error_code ec;
    std::filesystem::create_directories(options.state_dir, ec);
    if (ec) {
      std::cerr << "runbook: cannot create the state directory " << options.state_dir << ": "
                << ec.message() << "\n";
      return 1;
    }
  }

  // lock: runs with the same key never overlap, across processes.
  RunLock lock;
  if (runbook.lock) {
    std::string key = runbook.lock->value;
    if (Expected<Template> tpl = parse_template(key); tpl) {
      ExprContext ctx;
      ctx.params = &options.params;
      ctx.run_id = options.run_id;
      ctx.run_trigger = options.trigger;
      ctx.alert_labels = &options.alert_labels;
      ctx.alert_annotations = &options.alert_annotations;
      Expected<std::string> text = render_text(tpl.value(), ctx);
      if (!text) {
        std::cerr << flags.file << ": error: cannot render 'lock': " << text.error().format()
                  << "\n";
        return 2;
      }
      key = text.value();
    }
    // A secret in a lock key must not show in messages or the lock file's
    // name: keep it distinct by its hash instead.
    if (SecretMasker masker(options.secrets); !masker.empty() && masker.mask(key) != key)
      key = masker.mask(key) + "#" + sha256_hex(key).substr(0, 16);
    Duration wait{0};
    if (!flags.lock_wait.empty()) {
      std::optional<Duration> d = parse_duration(flags.lock_wait);
      if (!d) {
        std::cerr << "runbook: --lock-wait must be a duration like 30s or 5m, not '"
                  << flags.lock_wait << "'\n";
        return 2;
      }
      wait = *d;
    }
    LockAttempt attempt = acquire_run_lock(options.state_dir, key, options.run_id, Duration{0});
    if (attempt.outcome == LockAttempt::Outcome::held && wait.count() > 0) {
      std::cerr << "runbook: waiting up to " << format_duration(wait)
                << " for the lock: " << attempt.message << "\n";
      attempt = acquire_run_lock(options.state_dir, key, options.run_id, wait);
    }
    if (attempt.outcome == LockAttempt::Outcome::held) {
      std::cerr << "runbook: not started: " << attempt.message << "\n";
      return 75;  // EX_TEMPFAIL: cron may try again later
    }
    if (attempt.outcome == LockAttempt::Outcome::error) {
      std::cerr << "runbook: cannot take the lock: " << attempt.message << "\n";
      return 1;
    }
    lock = std::move(attempt.lock);
  }

  auto sinks = make_run_sinks(options.state_dir, runbook, flags.output);
  RunOutcome outcome = execute_runbook(runbook, options, sinks->fanout);
  if (!outcome.error.empty()) {
    std::cerr << "runbook: cannot start the run: " << outcome.error << "\n";
    return 1;
  }
  return exit_code_for(outcome.state);
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* cmd = app.add_subcommand("run", "Run a runbook.");
  cmd->add_option("FILE", flags->file, "The runbook (YAML)")->required();
  add_params_flags(*cmd, flags->params);
  cmd->add_flag("--dry-run", flags->dry_run,
                "Print the plan (waves, commands, timeouts, retries, rollbacks); run nothing");
  cmd->add_flag("--yes,-y", flags->yes, "Answer yes to every `confirm:` question");
  cmd->add_option("--max-parallel", flags->max_parallel,
                  "Steps running at once (overrides the runbook's max_parallel)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--lock-wait", flags->lock_wait,
                  "When the runbook's lock is held, wait up to this long (e.g. 30s) instead of "
                  "exiting 75 at once");
  cmd->add_option("--output", flags->output, "text (default) or json: one JSON event per line")
      ->check(CLI::IsMember({"text", "json"}));
  // Set by `runbook serve` for the runs it starts; hidden from --help.
  cmd->add_option("--run-id", flags->run_id, "Use this run id instead of a new one")->group("");
  cmd->add_option("--trigger", flags->trigger, "What started the run: cli, cron, api or alert")
      ->check(CLI::IsMember({"cli", "cron", "api", "alert"}))
      ->group("");
  cmd->add_option("--alert-file", flags->alert_file, "The alert that started the run (JSON)")
      ->group("");
  cmd->footer(
      "Exit codes: 0 succeeded; 1 failed (rolled back cleanly, or on_failure: stop); 2 bad\n"
      "input, nothing started; 3 a rollback failed, a person must look; 75 the lock is held;\n"
      "130 cancelled.");
  cmd->callback([flags, &exit_code] { exit_code = run_command(*flags); });
}

}  // namespace runbook::cli
