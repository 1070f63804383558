#pragma once

// Reads the top-level members of one JSON object, as the store writes them
// (audit records): enough to check and display them, not a general JSON
// library.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runbook::store {

struct JsonMember {
  enum class Kind { string, number, boolean, null, compound };
  std::string name;
  Kind kind = Kind::null;
  std::string value;  // string: decoded; others: the JSON text as written
};

// The members of the object `text` in order; nullopt when `text` is not
// exactly one valid JSON object (whitespace around it allowed).
std::optional<std::vector<JsonMember>> parse_json_object(std::string_view text);

const JsonMember* find_member(const std::vector<JsonMember>& members, std::string_view name);

}  // namespace runbook::store
