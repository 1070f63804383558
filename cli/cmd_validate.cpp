#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "plugin_support.hpp"
#include "runbook/load.hpp"

namespace runbook::cli {

void add_validate_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "validate",
      "Check runbooks: prints 'ok FILE' for each valid one, else every problem as "
      "FILE:LINE:COL: error: MESSAGE. Exits 2 when any is invalid.");
  auto files = std::make_shared<std::vector<std::string>>();
  cmd->add_option("FILE", *files, "Runbooks to check")->required();

  cmd->callback([files, &exit_code] {
    bool all_valid = true;
    for (const std::string& file : *files) {
      const LoadResult loaded = load_runbook_file(file);
      if (loaded.ok()) {
        // `uses:` steps: the kind exists and its plugin accepts `with:`.
        PluginRegistry plugins;
        if (prepare_plugins(*loaded.runbook, plugins, std::cerr)) {
          std::cout << "ok " << file << "\n";
        } else {
          all_valid = false;
        }
        continue;
      }
      all_valid = false;
      for (const Diagnostic& d : loaded.diagnostics.items()) std::cerr << d.format() << "\n";
      if (loaded.diagnostics.empty()) {
        std::cerr << file << ": error: the runbook could not be loaded\n";
      }
    }
    std::cout.flush();
    exit_code = all_valid ? 0 : 2;
  });
}

}  // namespace runbook::cli
