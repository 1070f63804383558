#pragma once

// A small strict JSON reader into Value, for fromJSON() and list params
// given as JSON. Internal to engine/src/expr.

#include <string>
#include <string_view>

#include "runbook/expr.hpp"
#include "runbook/value.hpp"

namespace runbook::expr {

inline constexpr size_t kMaxJsonDepth = 64;

// The value `text` holds (surrounding whitespace allowed), or an error like
// "expected ',' or ']' at byte 12".
Expected<Value, std::string> read_json(std::string_view text);

}  // namespace runbook::expr
