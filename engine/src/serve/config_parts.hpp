#pragma once

// Internal to the server config loader: what server_config.cpp (the top
// level, auth and schedules) shares with alert_config.cpp (`alerts:`).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "load/yaml_reader.hpp"
#include "serve/server_config.hpp"

namespace runbook::serve::config_parts {

// `p` against `base` unless absolute; lexical only (see ServerConfig).
std::string resolve_path(const std::string& base, const std::string& p);

// "steps 'a' and 'b'" for people.
std::string name_list(std::string_view what, const std::vector<std::string>& names);

// The index of the entry's value in `allowed`, or nullopt with a diagnostic.
std::optional<size_t> read_choice(load::YamlReader& reader, const load::Entry& e,
                                  std::string_view name,
                                  const std::vector<std::string_view>& allowed);

// What the loader of a section needs from the whole config's loader.
struct Section {
  load::YamlReader& reader;
  Diagnostics& diags;
  const std::string& runbooks_dir;
  // The runbook at `path`, loaded once for every schedule or rule naming it;
  // null (with an error at `mark`) when it does not load.
  std::function<std::shared_ptr<const Runbook>(const std::string& path, Mark mark)> load_runbook;
};

// Reads `alerts:`; rules with problems are reported and left out.
std::vector<AlertRule> load_alert_rules(const load::Entry& e, Section& section);

}  // namespace runbook::serve::config_parts
