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
      Diagnostics diags = loaded.diagnostics;
      std::vector<std::string> plugin_errors;
      // `uses:` steps: the kind exists and its plugin accepts `with:`; checked
      // with the rest, so that one pass shows every problem.
      if (loaded.runbook) {
        PluginRegistry plugins;
        PluginProblems problems =
            check_plugins(*loaded.runbook, plugins, loaded.diagnostics.empty());
        plugin_errors = std::move(problems.load_errors);
        diags.append(problems.diagnostics);
        diags.sort();
      }
      if (loaded.runbook && diags.empty() && plugin_errors.empty()) {
        std::cout << "ok " << file << "\n";
        continue;
      }
      all_valid = false;
      for (const std::string& e : plugin_errors) std::cerr << "runbook: error: " << e << "\n";
      std::cerr << diags.format();
      if (diags.empty() && plugin_errors.empty()) {
        std::cerr << file << ": error: the runbook could not be loaded\n";
      }
    }
    std::cout.flush();
    exit_code = all_valid ? 0 : 2;
  });
}

}  // namespace runbook::cli
