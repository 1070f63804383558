#pragma once

// Plugins as the commands use them: the --plugin-dir flag, and loading the
// plugins a runbook needs.

#include <iosfwd>
#include <string>
#include <vector>

#include "runbook/model.hpp"
#include "runbook/plugins.hpp"

namespace CLI {
class App;
}

namespace runbook::cli {

// Adds the global, repeatable --plugin-dir flag to `app`.
void add_plugin_dir_flag(CLI::App& app);

// The search path: --plugin-dir values, then $RUNBOOK_PLUGIN_PATH, then the
// plugins shipped next to the binary.
std::vector<std::string> plugin_path();

// The --plugin-dir flags as given ("--plugin-dir", DIR, …), for a child
// `runbook` process.
std::vector<std::string> plugin_dir_args();

// Every plugin on the search path; a --plugin-dir that cannot be read is one
// of its errors.
PluginRegistry load_plugin_path();

// What checking a runbook's `uses:` steps found: plugins that could not be
// loaded (each naming its file), and problems at the runbook's line:col.
struct PluginProblems {
  std::vector<std::string> load_errors;
  Diagnostics diagnostics;
  bool empty() const { return load_errors.empty() && diagnostics.empty(); }
};

// Loads the plugins into `registry` when `runbook` has `uses:` steps (nothing
// otherwise) and checks those steps against them; with `check_arguments`
// false, only that their kinds exist (see check_plugin_steps).
PluginProblems check_plugins(const Runbook& runbook, PluginRegistry& registry,
                             bool check_arguments = true);

// check_plugins, its problems printed to `err`. Problems (a plugin that cannot be loaded,
// an unknown kind, arguments its plugin refuses) go to `err`, each naming its
// file; false when there was any.
bool prepare_plugins(const Runbook& runbook, PluginRegistry& registry, std::ostream& err);

}  // namespace runbook::cli
