#pragma once

// The `with` map of an http step, read and checked. `validate` and `run`
// read it the same way, so what validate accepts is what run does.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "expectations.hpp"
#include "json_path.hpp"
#include "runbook/plugin.hpp"
#include "url.hpp"

namespace runbook::http {

constexpr size_t kDefaultMaxBody = 1 << 20;
constexpr std::chrono::milliseconds kDefaultTimeout{30'000};

struct HttpArguments {
  Url url;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;  // in the order written
  std::optional<std::string> body;
  bool json_body = false;  // `body` was a map or a list, sent as JSON
  std::chrono::milliseconds timeout = kDefaultTimeout;
  StatusSet expect_status;  // 200-299 unless set
  std::optional<BodyExpectation> expect_body;
  std::vector<JsonExpectation> expect_json;
  std::vector<std::pair<std::string, JsonPath>> outputs;  // output name, field
  size_t max_body = kDefaultMaxBody;
  bool follow_redirects = false;
  bool insecure = false;
  std::string ca_file;
};

// A problem with one argument: `path` as the engine maps it to the runbook
// ("url", "expect_json[0].path", "" for the map as a whole).
struct Problem {
  std::string path;
  std::string message;
};

// Reads `with`, appending every problem found to `problems`; the result is
// usable only when none was. `checking`: the map as written, where a string
// holding ${{ }} is resolved later, so its value is not checked.
HttpArguments read_arguments(const sdk::Json& with, bool checking, std::vector<Problem>& problems);

}  // namespace runbook::http
