#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "commands.hpp"
#include "runbook/executor.hpp"
#include "runbook/load.hpp"
#include "runbook/sinks.hpp"

namespace runbook::cli {
namespace {

struct RunFlags {
  std::string file;
  bool dry_run = false;
  bool yes = false;
  int max_parallel = 0;
  std::string output = "text";
};

int run_command(const RunFlags& flags) {
  LoadResult loaded = load_runbook_file(flags.file);
  if (!loaded.ok()) {
    std::cerr << loaded.diagnostics.format();
    return 2;
  }
  const Runbook& runbook = *loaded.runbook;
  std::optional<int> max_parallel;
  if (flags.max_parallel > 0) max_parallel = flags.max_parallel;

  if (flags.dry_run) {
    std::cout << describe_plan(runbook, max_parallel.value_or(runbook.effective_max_parallel()));
    return 0;
  }

  std::unique_ptr<EventSink> display;
  if (flags.output == "json") {
    display = make_json_sink(stdout);
  } else {
    TerminalOptions options;
    const char* term = std::getenv("TERM");
    options.live = ::isatty(STDOUT_FILENO) && !(term && std::string(term) == "dumb");
    const char* no_color = std::getenv("NO_COLOR");
    options.color = options.live && !(no_color && *no_color);
    if (const char* columns = std::getenv("COLUMNS"))
      options.width = std::max(40, std::atoi(columns));
    display = make_terminal_sink(options);
  }
  EventFanout sinks;
  sinks.add(display.get());

  RunOptions options;
  options.state_dir = default_state_dir();
  options.max_parallel = max_parallel;
  RunOutcome outcome = execute_runbook(runbook, options, sinks);
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
  cmd->add_flag("--dry-run", flags->dry_run,
                "Print the plan (waves, commands, timeouts, retries, rollbacks); run nothing");
  cmd->add_flag("--yes,-y", flags->yes, "Answer yes to every `confirm:` question");
  cmd->add_option("--max-parallel", flags->max_parallel,
                  "Steps running at once (overrides the runbook's max_parallel)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--output", flags->output, "text (default) or json: one JSON event per line")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->footer(
      "Exit codes: 0 succeeded; 1 failed (rolled back cleanly, or on_failure: stop); 2 bad\n"
      "input, nothing started; 3 a rollback failed, a person must look; 130 cancelled.");
  cmd->callback([flags, &exit_code] { exit_code = run_command(*flags); });
}

}  // namespace runbook::cli
