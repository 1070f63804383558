#include "json_path.hpp"

namespace runbook::http {

namespace {

bool key_char(char c) {
  return c != '.' && c != '[' && c != ']';
}

}  // namespace

std::optional<JsonPath> JsonPath::parse(std::string_view text, std::string* why) {
  auto fail = [&](const std::string& message) -> std::optional<JsonPath> {
    if (why) *why = message;
    return std::nullopt;
  };
  JsonPath path;
  size_t i = 0;
  if (!text.empty() && text.front() == '$') {
    i = 1;
    if (i < text.size() && text[i] != '.' && text[i] != '[')
      return fail("expected '.' or '[' after '$'");
  }
  bool expect_key = i == 0;  // a path not written from '$' starts with a key or [index]
  while (i < text.size()) {
    char c = text[i];
    if (c == '[') {
      size_t close = text.find(']', i);
      if (close == std::string_view::npos) return fail("unclosed '['");
      std::string_view digits = text.substr(i + 1, close - i - 1);
      if (digits.empty() || digits.size() > 9 ||
          digits.find_first_not_of("0123456789") != std::string_view::npos)
        return fail("'[" + std::string(digits) + "]' is not an index like [0]");
      path.steps_.emplace_back(size_t(std::stoul(std::string(digits))));
      i = close + 1;
      expect_key = false;
      continue;
    }
    if (c == '.') {
      ++i;
      expect_key = true;
      if (i >= text.size() || !key_char(text[i])) return fail("a '.' must be followed by a key");
      continue;
    }
    if (!expect_key) return fail("expected '.' or '[' before '" + std::string(1, c) + "'");
    size_t start = i;
    while (i < text.size() && key_char(text[i])) ++i;
    if (i == start) return fail("unexpected '" + std::string(1, c) + "'");
    path.steps_.emplace_back(std::string(text.substr(start, i - start)));
    expect_key = false;
  }
  return path;
}

const sdk::Json* JsonPath::select(const sdk::Json& document) const {
  const sdk::Json* at = &document;
  for (const Step& step : steps_) {
    if (const std::string* key = std::get_if<std::string>(&step)) {
      if (!at->has(*key)) return nullptr;
      at = &at->get(*key);
    } else {
      size_t index = std::get<size_t>(step);
      if (!at->is_array() || index >= at->as_array().size()) return nullptr;
      at = &at->as_array()[index];
    }
  }
  return at;
}

std::string JsonPath::text() const {
  std::string out = "$";
  for (const Step& step : steps_) {
    if (const std::string* key = std::get_if<std::string>(&step)) {
      out += "." + *key;
    } else {
      out += "[" + std::to_string(std::get<size_t>(step)) + "]";
    }
  }
  return out;
}

}  // namespace runbook::http
