#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "runbook/graph_render.hpp"
#include "runbook/load.hpp"

namespace runbook::cli {

void add_graph_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "graph", "Print a runbook's step graph for people, Graphviz or Markdown (Mermaid).");
  struct Options {
    std::string file;
    std::string format = "text";
  };
  auto options = std::make_shared<Options>();
  cmd->add_option("FILE", options->file, "The runbook")->required();
  cmd->add_option("--format", options->format, "text (default), dot or mermaid")
      ->check(CLI::IsMember({"text", "dot", "mermaid"}));

  cmd->callback([options, &exit_code] {
    LoadResult loaded = load_runbook_file(options->file);
    if (!loaded.ok()) {
      for (const Diagnostic& d : loaded.diagnostics.items()) std::cerr << d.format() << "\n";
      if (loaded.diagnostics.empty())
        std::cerr << options->file << ": error: the runbook could not be loaded\n";
      exit_code = 2;
      return;
    }
    // IsMember already refused anything else.
    GraphFormat format = parse_graph_format(options->format).value_or(GraphFormat::text);
    std::cout << render_graph(*loaded.runbook, format);
    exit_code = 0;
  });
}

}  // namespace runbook::cli
