#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"
#include "runbook/schema.hpp"

namespace runbook::cli {

void add_schema_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "schema", "Print the JSON Schema of the runbook format, for editors and linters.");
  cmd->callback([&exit_code] {
    std::cout << runbook_json_schema();
    exit_code = 0;
  });
}

}  // namespace runbook::cli
