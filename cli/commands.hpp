#pragma once

// Each command adds its subcommand to the app; its callback stores the
// process exit code in `exit_code`. Commands parse flags and print; the work
// itself belongs to the engine.

namespace CLI {
class App;
}

namespace runbook::cli {

void add_validate_command(CLI::App& app, int& exit_code);
void add_graph_command(CLI::App& app, int& exit_code);
void add_schema_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);
void add_rollback_command(CLI::App& app, int& exit_code);
void add_resume_command(CLI::App& app, int& exit_code);
void add_audit_command(CLI::App& app, int& exit_code);
void add_history_command(CLI::App& app, int& exit_code);
void add_show_command(CLI::App& app, int& exit_code);
void add_logs_command(CLI::App& app, int& exit_code);
void add_plugins_command(CLI::App& app, int& exit_code);
void add_serve_command(CLI::App& app, int& exit_code);
void add_alerts_command(CLI::App& app, int& exit_code);
void add_pause_commands(CLI::App& app, int& exit_code);

}  // namespace runbook::cli
