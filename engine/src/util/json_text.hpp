#pragma once

#include <string>
#include <string_view>

namespace runbook {

// Appends `s` to `out` as a JSON string literal, quotes included. Invalid
// UTF-8 bytes are replaced by U+FFFD so the result is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

}  // namespace runbook
