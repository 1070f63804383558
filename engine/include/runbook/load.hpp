#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "runbook/diagnostics.hpp"
#include "runbook/model.hpp"

namespace runbook {

// Files larger than this are refused before parsing.
inline constexpr size_t kMaxRunbookBytes = 16 * 1024 * 1024;

struct LoadResult {
  std::optional<Runbook> runbook;  // set when the file parsed into a model, even with errors
  Diagnostics diagnostics;         // every problem found; empty means valid
  bool ok() const { return runbook.has_value() && diagnostics.empty(); }
};

// Reads, parses and validates a runbook file: YAML, shape and types, ids,
// needs, cycles. Never throws on bad input.
LoadResult load_runbook_file(const std::string& path);

// The same for text already in memory; `path` is used in diagnostics.
LoadResult load_runbook_text(std::string_view text, const std::string& path);

}  // namespace runbook
