#pragma once

// The comparison rules of the evaluator, shared with params and tests.
// Internal to engine/src/expr.

#include <optional>
#include <string>

#include "runbook/value.hpp"

namespace runbook::expr {

// "null", "a bool", "a number", "a string", "a list", "a map".
std::string describe_kind(const Value& v);

// `==` as documented in runbook/expr.hpp.
bool loose_equal(const Value& a, const Value& b);

// -1, 0 or 1 for `<` and friends; nullopt when the two cannot be ordered.
std::optional<int> compare(const Value& a, const Value& b);

}  // namespace runbook::expr
