#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runbook/diagnostics.hpp"
#include "runbook/model.hpp"

struct runbook_step_kind;  // plugins/sdk/runbook/plugin.h

namespace runbook {

// One step kind a plugin provides.
struct PluginKind {
  std::string name;
  std::string summary;
  const runbook_step_kind* abi = nullptr;  // lives as long as the process
};

// A loaded plugin.
struct PluginInfo {
  std::string name;
  std::string version;
  std::string path;  // the file, as found
  std::vector<PluginKind> kinds;
};

// The step kinds of every plugin in a search path. Libraries are loaded once
// and never unloaded (a plugin thread abandoned by a stopped step may still
// run their code). Not copyable; read from any thread once loaded.
class PluginRegistry {
 public:
  PluginRegistry() = default;
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;
  PluginRegistry(PluginRegistry&&) = default;
  PluginRegistry& operator=(PluginRegistry&&) = default;

  // Loads every `*.so` in `dirs`, in order (a file found twice through two
  // paths is loaded once). A directory that does not exist is skipped unless
  // `required_dirs` names it. Every problem is kept in errors(), each naming
  // the file(s): cannot be opened, unsafe ownership or permissions (a file
  // or directory writable by group or others, or owned by someone other than
  // root or the caller), no entry point, another ABI version, a kind claimed
  // by two plugins. A refused plugin provides no kinds.
  static PluginRegistry load(const std::vector<std::string>& dirs,
                             const std::vector<std::string>& required_dirs = {});

  const std::vector<PluginInfo>& plugins() const { return plugins_; }
  const std::vector<std::string>& errors() const { return errors_; }
  // The kind `name`, or null.
  const PluginKind* find(std::string_view name) const;
  // Every kind's name, sorted.
  std::vector<std::string> kind_names() const;
  // The plugin providing the kind `name`, or null.
  const PluginInfo* provider(std::string_view name) const;

 private:
  std::vector<PluginInfo> plugins_;
  std::vector<std::string> errors_;
};

// The plugin search path: `cli_dirs` (--plugin-dir), then the colon-separated
// $RUNBOOK_PLUGIN_PATH, then ../lib/runbook/plugins relative to the running
// binary.
std::vector<std::string> plugin_search_path(const std::vector<std::string>& cli_dirs);

// True when a step, a rollback or a hook of `runbook` has `uses:`.
bool uses_plugins(const Runbook& runbook);

// Checks every `uses:` of `runbook` against `registry`: the kind exists, and
// (with `check_arguments`) its plugin's validate accepts the `with:` map;
// problems at the runbook's line:col. A runbook that loaded with errors is
// checked for kinds only: a `with:` the loader refused would read as empty.
Diagnostics check_plugin_steps(const Runbook& runbook, const PluginRegistry& registry,
                               bool check_arguments = true);

// Plugin threads still running after a stopped step abandoned them. While
// there are any, the process must end with _exit (no static destructors
// under running plugin code).
int abandoned_plugin_threads();

}  // namespace runbook
