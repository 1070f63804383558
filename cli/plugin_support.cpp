#include "plugin_support.hpp"

#include <CLI/CLI.hpp>
#include <ostream>

namespace runbook::cli {
namespace {

std::vector<std::string>& plugin_dir_flags() {
  static std::vector<std::string> dirs;
  return dirs;
}

}  // namespace

void add_plugin_dir_flag(CLI::App& app) {
  app.add_option("--plugin-dir", plugin_dir_flags(),
                 "Look for plugins in this directory first (repeatable); then "
                 "$RUNBOOK_PLUGIN_PATH, then the plugins installed with runbook")
      ->allow_extra_args(false);
}

std::vector<std::string> plugin_path() {
  return plugin_search_path(plugin_dir_flags());
}

std::vector<std::string> plugin_dir_args() {
  std::vector<std::string> args;
  for (const std::string& dir : plugin_dir_flags()) {
    args.push_back("--plugin-dir");
    args.push_back(dir);
  }
  return args;
}

PluginRegistry load_plugin_path() {
  return PluginRegistry::load(plugin_path(), plugin_dir_flags());
}

PluginProblems check_plugins(const Runbook& runbook, PluginRegistry& registry,
                             bool check_arguments) {
  PluginProblems problems;
  if (!uses_plugins(runbook)) return problems;
  registry = load_plugin_path();
  problems.load_errors = registry.errors();
  problems.diagnostics = check_plugin_steps(runbook, registry, check_arguments);
  return problems;
}

bool prepare_plugins(const Runbook& runbook, PluginRegistry& registry, std::ostream& err) {
  PluginProblems problems = check_plugins(runbook, registry);
  for (const std::string& error : problems.load_errors) err << "runbook: error: " << error << "\n";
  problems.diagnostics.sort();
  err << problems.diagnostics.format();
  return problems.empty();
}

}  // namespace runbook::cli
