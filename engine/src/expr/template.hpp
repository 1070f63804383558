#pragma once

// Internal to engine/src/expr and the loader's validator.

#include <string_view>

#include "runbook/expr.hpp"

namespace runbook::expr {

inline constexpr std::string_view kUnclosedTemplate = "'${{' without '}}'";

// True for parse_template()'s error on a `${{` with no `}}` after it.
bool is_unclosed_template(const ExprError& e);

}  // namespace runbook::expr
