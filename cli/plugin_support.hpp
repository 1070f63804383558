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

// Every plugin on the search path; a --plugin-dir that cannot be read is one
// of its errors.
PluginRegistry load_plugin_path();

// Loads the plugins when `runbook` has `uses:` steps (nothing otherwise) and
// checks those steps against them. Problems (a plugin that cannot be loaded,
// an unknown kind, arguments its plugin refuses) go to `err`, each naming its
// file; false when there was any.
bool prepare_plugins(const Runbook& runbook, PluginRegistry& registry, std::ostream& err);

}  // namespace runbook::cli
