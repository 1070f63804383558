#include <CLI/CLI.hpp>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string_view>

#include "commands.hpp"
#include "plugin_support.hpp"

namespace {

using AddCommand = void (*)(CLI::App&, int&);

struct Command {
  const char* name;
  AddCommand add;
};

// In the order `runbook --help` lists them; pause adds unpause too.
constexpr Command kCommands[] = {
    {"validate", runbook::cli::add_validate_command}, {"graph", runbook::cli::add_graph_command},
    {"schema", runbook::cli::add_schema_command},     {"run", runbook::cli::add_run_command},
    {"rollback", runbook::cli::add_rollback_command}, {"resume", runbook::cli::add_resume_command},
    {"history", runbook::cli::add_history_command},   {"show", runbook::cli::add_show_command},
    {"logs", runbook::cli::add_logs_command},         {"audit", runbook::cli::add_audit_command},
    {"plugins", runbook::cli::add_plugins_command},   {"serve", runbook::cli::add_serve_command},
    {"alerts", runbook::cli::add_alerts_command},     {"pause", runbook::cli::add_pause_commands},
};

// The command that argv names, when it is a known one: the first argument
// that is not a global option or its value. Only that command is then set up
// (the others cost a few hundred microseconds of every start); for anything
// else (no command, a typo, --help) all of them, for help and suggestions.
AddCommand named_command(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--log-level" || arg == "--log-file" || arg == "--plugin-dir") {
      ++i;  // its value
      continue;
    }
    if (arg.starts_with("-")) {
      if (arg.find('=') != std::string_view::npos && arg.starts_with("--")) continue;
      return nullptr;  // --help, --version, or an unknown option
    }
    if (arg == "unpause") arg = "pause";
    for (const Command& c : kCommands)
      if (arg == c.name) return c.add;
    return nullptr;
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"runbook: run operational runbooks as a DAG of steps, safely."};
  app.set_version_flag("--version", std::string("runbook ") + RUNBOOK_VERSION);
  app.require_subcommand(1);
  // --log-level and --log-file may come after the command too.
  app.fallthrough();

  // The engine's own operational log (spdlog): never mixed with step output,
  // which goes to the display and the step logs, nor with the audit log.
  std::string log_level = "warn";
  std::string log_file;
  app.add_option("--log-level", log_level,
                 "The engine's own log: trace, debug, info, warn (default), error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_option("--log-file", log_file,
                 "Write the engine's own log to this file instead of stderr");
  app.parse_complete_callback([&] {
    try {
      auto logger = log_file.empty() ? spdlog::stderr_color_mt("runbook")
                                     : spdlog::basic_logger_mt("runbook", log_file);
      logger->set_level(spdlog::level::from_str(log_level));
      logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ runbook[%P]: %v");
      spdlog::set_default_logger(logger);
    } catch (const spdlog::spdlog_ex& e) {
      throw CLI::ValidationError("--log-file", e.what());
    }
  });

  int exit_code = 0;
  if (AddCommand named = named_command(argc, argv)) {
    named(app, exit_code);
  } else {
    for (const Command& c : kCommands) c.add(app, exit_code);
  }
  runbook::cli::add_plugin_dir_flag(app);

  // Every way out: while a plugin that ignored its cancel flag still runs,
  // static destructors must not pull the ground from under it.
  auto finish = [](int code) {
    if (runbook::abandoned_plugin_threads() > 0) {
      std::cout.flush();
      std::cerr.flush();
      spdlog::shutdown();
      std::_Exit(code);
    }
    return code;
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors are bad input (exit 2); --help and --version exit 0.
    int code = app.exit(e);
    return finish(code == 0 ? 0 : 2);
  } catch (const std::exception& e) {
    std::cerr << "runbook: internal error: " << e.what() << "\n";
    return finish(70);
  }
  return finish(exit_code);
}
