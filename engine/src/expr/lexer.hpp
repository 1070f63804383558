#pragma once

// Tokens of an expression. Internal to engine/src/expr.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "runbook/expr.hpp"
#include "runbook/value.hpp"

namespace runbook::expr {

enum class Tok {
  end,
  identifier,  // params, contains, true, …; after '.' also names that start with a digit
  number,
  string,
  dot,
  comma,
  lparen,
  rparen,
  lbracket,
  rbracket,
  bang,
  minus,
  and_and,
  or_or,
  equal,
  not_equal,
  less,
  less_equal,
  greater,
  greater_equal,
};

struct Token {
  Tok kind = Tok::end;
  size_t offset = 0;  // in the Text's value
  std::string text;   // identifier name, or a string literal's value
  Value number;       // int64 or double
};

// How a token reads in an error: "')'", "the name 'x'", "the end of the expression".
std::string describe(const Token& t);

// Splits `source` (which starts at `offset` in its Text) into tokens, ending
// with Tok::end. Strings: '…' with '' for a quote, or "…" with backslash escapes.
Expected<std::vector<Token>> tokenize(std::string_view source, size_t offset);

}  // namespace runbook::expr
