#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"runbook: run operational runbooks as a DAG of steps, safely."};
  app.set_version_flag("--version", std::string("runbook ") + RUNBOOK_VERSION);
  app.require_subcommand(1);

  int exit_code = 0;
  runbook::cli::add_validate_command(app, exit_code);
  runbook::cli::add_graph_command(app, exit_code);
  runbook::cli::add_schema_command(app, exit_code);
  runbook::cli::add_run_command(app, exit_code);
  runbook::cli::add_rollback_command(app, exit_code);
  runbook::cli::add_resume_command(app, exit_code);
  runbook::cli::add_history_command(app, exit_code);
  runbook::cli::add_show_command(app, exit_code);
  runbook::cli::add_logs_command(app, exit_code);
  runbook::cli::add_audit_command(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors are bad input (exit 2); --help and --version exit 0.
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::cerr << "runbook: internal error: " << e.what() << "\n";
    return 70;
  }
  return exit_code;
}
