#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "plugin_support.hpp"
#include "runbook/plugins.hpp"
#include "runbook/value.hpp"

namespace runbook::cli {
namespace {

void print_text(const PluginRegistry& registry) {
  struct Row {
    std::string kind, version, plugin, path, summary;
  };
  std::vector<Row> rows;
  for (const PluginInfo& p : registry.plugins())
    for (const PluginKind& k : p.kinds)
      rows.push_back({k.name, p.version, p.name, p.path, k.summary});
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.kind < b.kind; });
  size_t kind_w = 4, version_w = 7, plugin_w = 6;
  for (const Row& r : rows) {
    kind_w = std::max(kind_w, r.kind.size());
    version_w = std::max(version_w, r.version.size());
    plugin_w = std::max(plugin_w, r.plugin.size());
  }
  auto pad = [](const std::string& s, size_t w) { return s + std::string(w - s.size() + 2, ' '); };
  std::cout << pad("KIND", kind_w) << pad("VERSION", version_w) << pad("PLUGIN", plugin_w)
            << "PATH\n";
  for (const Row& r : rows) {
    std::cout << pad(r.kind, kind_w) << pad(r.version, version_w) << pad(r.plugin, plugin_w)
              << r.path << "\n";
    if (!r.summary.empty()) std::cout << "  " << r.summary << "\n";
  }
}

void print_json(const PluginRegistry& registry) {
  // {"plugins": [{"name", "version", "path", "kinds": [{"name", "summary"}]}], "errors": [..]}
  auto quote = [](const std::string& s) { return Value(s).to_json(); };
  std::string out = "{\"plugins\":[";
  for (size_t i = 0; i < registry.plugins().size(); ++i) {
    const PluginInfo& p = registry.plugins()[i];
    out += std::string(i ? "," : "") + "{\"name\":" + quote(p.name) +
           ",\"version\":" + quote(p.version) + ",\"path\":" + quote(p.path) + ",\"kinds\":[";
    for (size_t j = 0; j < p.kinds.size(); ++j)
      out += std::string(j ? "," : "") + "{\"name\":" + quote(p.kinds[j].name) +
             ",\"summary\":" + quote(p.kinds[j].summary) + "}";
    out += "]}";
  }
  out += "],\"errors\":[";
  for (size_t i = 0; i < registry.errors().size(); ++i)
    out += std::string(i ? "," : "") + quote(registry.errors()[i]);
  std::cout << out << "]}\n";
}

}  // namespace

void add_plugins_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("plugins", "Plugins: the step kinds they provide");
  cmd->require_subcommand(1);
  CLI::App* list = cmd->add_subcommand(
      "list",
      "Every plugin found on the search path (--plugin-dir, $RUNBOOK_PLUGIN_PATH, then the "
      "plugins installed with runbook): its step kinds, version and file. Exits 1 when a plugin "
      "could not be loaded.");
  auto output = std::make_shared<std::string>("text");
  list->add_option("--output", *output, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  list->callback([output, &exit_code] {
    std::vector<std::string> path = plugin_path();
    PluginRegistry registry = load_plugin_path();
    if (*output == "json") {
      print_json(registry);
    } else if (registry.plugins().empty()) {
      std::string dirs;
      for (const std::string& d : path) dirs += (dirs.empty() ? "" : ", ") + d;
      std::cout << "no plugins found in: " << dirs << "\n";
    } else {
      print_text(registry);
    }
    std::cout.flush();
    for (const std::string& e : registry.errors()) std::cerr << "runbook: error: " << e << "\n";
    exit_code = registry.errors().empty() ? 0 : 1;
  });
}

}  // namespace runbook::cli
