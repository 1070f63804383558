#include "expectations.hpp"

namespace runbook::http {

bool StatusSet::contains(int status) const {
  for (const auto& [low, high] : ranges_) {
    if (status >= low && status <= high) return true;
  }
  return false;
}

std::string StatusSet::text() const {
  std::string out;
  for (size_t i = 0; i < ranges_.size(); ++i) {
    if (i > 0) out += i + 1 == ranges_.size() ? " or " : ", ";
    const auto& [low, high] = ranges_[i];
    out += std::to_string(low);
    if (high != low) out += "-" + std::to_string(high);
  }
  return out;
}

std::optional<std::string> check_status(const StatusSet& expected, int status) {
  if (expected.contains(status)) return std::nullopt;
  return "expected status " + expected.text() + ", got " + std::to_string(status);
}

std::optional<std::string> check_body(const BodyExpectation& expected, const std::string& body) {
  if (expected.regex) {
    std::string why;
    std::optional<bool> found = expected.regex->search(body, &why);
    if (!found) return "cannot match /" + expected.text + "/ against the body: " + why;
    if (*found) return std::nullopt;
    return "body does not match /" + expected.text + "/";
  }
  if (body.find(expected.text) != std::string::npos) return std::nullopt;
  return "body does not contain " + show(sdk::Json(expected.text));
}

std::optional<std::string> check_json(const JsonExpectation& expected,
                                      const std::optional<sdk::Json>& document,
                                      const std::string& parse_error) {
  std::string want = ", expected " + show(expected.equals);
  if (!document) {
    return "body is not JSON (" + parse_error + "); expected " + expected.path.text() + " to be " +
           show(expected.equals);
  }
  const sdk::Json* actual = expected.path.select(*document);
  if (!actual) return expected.path.text() + " is missing" + want;
  if (json_matches(*actual, expected.equals)) return std::nullopt;
  return expected.path.text() + " is " + show(*actual) + want;
}

bool json_matches(const sdk::Json& actual, const sdk::Json& expected) {
  if (actual.is_number() && expected.is_number()) return actual.as_number() == expected.as_number();
  bool scalars = !actual.is_array() && !actual.is_object() && !expected.is_array() &&
                 !expected.is_object() && !actual.is_null() && !expected.is_null();
  if (scalars && (actual.is_string() != expected.is_string()))
    return actual.to_text() == expected.to_text();
  if (actual.is_array() && expected.is_array()) {
    const auto& a = actual.as_array();
    const auto& e = expected.as_array();
    if (a.size() != e.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!json_matches(a[i], e[i])) return false;
    }
    return true;
  }
  if (actual.is_object() && expected.is_object()) {
    const auto& a = actual.as_object();
    const auto& e = expected.as_object();
    if (a.size() != e.size()) return false;
    for (const auto& [key, value] : e) {
      auto it = a.find(key);
      if (it == a.end() || !json_matches(it->second, value)) return false;
    }
    return true;
  }
  return actual.dump() == expected.dump();
}

std::string show(const sdk::Json& value, size_t limit) {
  std::string text = value.dump();
  if (text.size() > limit) text = text.substr(0, limit) + "...";
  return text;
}

}  // namespace runbook::http
