#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "runbook/executor.hpp"
#include "runbook/serve.hpp"

namespace runbook::cli {
namespace {

struct PauseFlags {
  std::string state_dir;
  std::string reason;
};

int pause_command(const PauseFlags& flags, bool pause) {
  const std::string dir = flags.state_dir.empty() ? default_state_dir() : flags.state_dir;
  const bool was_paused = remediation_paused(dir).has_value();
  if (std::string error = set_remediation_paused(dir, pause, flags.reason, "cli"); !error.empty()) {
    std::cerr << "runbook: " << error << "\n";
    return 1;
  }
  if (pause) {
    std::cout << (was_paused ? "automatic remediation was already paused: "
                             : "automatic remediation paused: ")
              << *remediation_paused(dir) << "\n"
              << "a server using " << dir
              << " starts nothing on alerts or schedules until `runbook unpause`\n";
  } else {
    std::cout << (was_paused ? "automatic remediation resumed"
                             : "automatic remediation was not paused")
              << " (" << dir << ")\n";
  }
  return 0;
}

void add_state_dir_flag(CLI::App& cmd, PauseFlags& flags) {
  cmd.add_option("--state-dir", flags.state_dir,
                 "The server's state directory (default: $RUNBOOK_STATE_DIR, else "
                 "~/.local/state/runbook)")
      ->type_name("DIR");
}

}  // namespace

void add_pause_commands(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<PauseFlags>();
  CLI::App* pause = app.add_subcommand(
      "pause",
      "Stop all automatic remediation (alerts and schedules) of a server, until `runbook "
      "unpause`.");
  add_state_dir_flag(*pause, *flags);
  pause->add_option("--reason", flags->reason, "Why, for the audit log and the server's log");
  pause->callback([flags, &exit_code] { exit_code = pause_command(*flags, true); });

  CLI::App* unpause = app.add_subcommand("unpause", "Let automatic remediation start runs again.");
  add_state_dir_flag(*unpause, *flags);
  unpause->callback([flags, &exit_code] { exit_code = pause_command(*flags, false); });
}

}  // namespace runbook::cli
