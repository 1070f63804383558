#pragma once

// Getting from a path or a buffer to one parsed YAML document, refusing what
// cannot be a runbook (missing, a directory, too large, binary, not YAML)
// with one clear diagnostic. Internal to the loader.

#include <optional>
#include <string>
#include <string_view>

#include "load/yaml_node.hpp"
#include "runbook/diagnostics.hpp"

namespace runbook::load {

// The file's bytes, or nullopt with a diagnostic when it cannot be read or is
// larger than kMaxRunbookBytes.
std::optional<std::string> read_source_file(const std::string& path, Diagnostics& diags);

// Checks the size limit and that the text is not binary; false with a
// diagnostic otherwise.
bool check_source_text(std::string_view text, const std::string& path, Diagnostics& diags);

// The single YAML document in `text` (a null node for an empty document), or
// nullopt with a diagnostic for a syntax error, nesting too deep for the parser,
// or more than one document.
std::optional<yaml::Node> parse_yaml(std::string_view text, const std::string& path,
                                     Diagnostics& diags);

}  // namespace runbook::load
