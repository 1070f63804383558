#include <unistd.h>

#include <CLI/CLI.hpp>
#include <climits>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "plugin_support.hpp"
#include "runbook/serve.hpp"

namespace runbook::cli {
namespace {

struct ServeFlags {
  std::string config;
  std::string next;
};

// This binary, for the runs the server starts.
std::string own_program() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, size_t(n)) : std::string("runbook");
}

int serve_command(const ServeFlags& flags) {
  if (!flags.next.empty())
    return print_next_fires(flags.config, flags.next, 5, std::cout, std::cerr);
  ServeOptions options;
  options.config_path = flags.config;
  options.program = own_program();
  options.global_args = plugin_dir_args();
  options.plugin_problems = [](const Runbook& runbook) {
    PluginRegistry registry;
    std::ostringstream out;
    prepare_plugins(runbook, registry, out);
    return out.str();
  };
  options.on_listening = [](const std::string& url) {
    std::cout << "listening on " << url << std::endl;
  };
  return run_server(options, std::cerr);
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "The trigger server: schedules and the HTTP API start runs (see docs/server.md).");
  cmd->add_option("--config", flags->config, "The server's config (YAML)")->required();
  cmd->add_option("--next", flags->next, "Print the next 5 fire times of this schedule and exit")
      ->type_name("SCHEDULE");
  cmd->footer(
      "Signals: SIGHUP re-reads the config (a bad one is refused, the old one stays);\n"
      "SIGTERM or SIGINT stop accepting, let running runs finish within shutdown_grace,\n"
      "then cancel (and roll back) the rest, and exit 0.");
  cmd->callback([flags, &exit_code] { exit_code = serve_command(*flags); });
}

}  // namespace runbook::cli
