#pragma once

// What the answer must be like: status codes, the body, JSON fields. Each
// check returns nullopt when it holds, or the message saying what was
// expected and what came.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "body_regex.hpp"
#include "json_path.hpp"
#include "runbook/plugin.hpp"

namespace runbook::http {

// Status codes: single codes and ranges ("200-299").
class StatusSet {
 public:
  StatusSet() = default;
  void add(int low, int high) { ranges_.emplace_back(low, high); }
  bool empty() const { return ranges_.empty(); }
  bool contains(int status) const;
  // "200", "200-299", "200, 204 or 300-399".
  std::string text() const;

 private:
  std::vector<std::pair<int, int>> ranges_;
};

// expect_body: a substring, or a regex searched in the body.
struct BodyExpectation {
  std::string text;  // the substring or the regex as written
  std::optional<BodyRegex> regex;
};

// One entry of expect_json.
struct JsonExpectation {
  JsonPath path;
  sdk::Json equals;
};

std::optional<std::string> check_status(const StatusSet& expected, int status);
std::optional<std::string> check_body(const BodyExpectation& expected, const std::string& body);
// `document` is the body parsed as JSON, or nullopt with `parse_error` set.
std::optional<std::string> check_json(const JsonExpectation& expected,
                                      const std::optional<sdk::Json>& document,
                                      const std::string& parse_error);

// Whether `actual` equals `expected`: JSON equality, numbers by value, and a
// string equal to a scalar's text ("200" equals 200) since values that went
// through ${{ }} arrive as strings.
bool json_matches(const sdk::Json& actual, const sdk::Json& expected);

// A value for a message: JSON text, cut to `limit` characters.
std::string show(const sdk::Json& value, size_t limit = 80);

}  // namespace runbook::http
