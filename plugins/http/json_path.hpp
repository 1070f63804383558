#pragma once

// The simple JSON paths of expect_json and outputs: dotted keys with [index]
// ("a.b[0].c"), optionally written from the root ("$.a.b[0].c"). "$" or ""
// is the whole document.

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "runbook/plugin.hpp"

namespace runbook::http {

class JsonPath {
 public:
  using Step = std::variant<std::string, size_t>;  // a key or an index

  // Parses `text`; nullopt with `why` set when it is not a path.
  static std::optional<JsonPath> parse(std::string_view text, std::string* why = nullptr);

  // The value at the path in `document`, or null when some step is missing.
  const sdk::Json* select(const sdk::Json& document) const;

  // How messages name it: "$.a.b[0].c".
  std::string text() const;

 private:
  std::vector<Step> steps_;
};

}  // namespace runbook::http
