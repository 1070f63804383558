#include "arguments.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "argument_values.hpp"

namespace runbook::http {

namespace {

const std::vector<std::string_view> kKeys = {
    "url",         "method",      "headers", "body",     "timeout",          "expect_status",
    "expect_body", "expect_json", "outputs", "max_body", "follow_redirects", "insecure",
    "ca_file"};

constexpr int64_t kMaxBodyLimit = int64_t(1) << 30;

bool token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), token_char);
}

bool is_output_name(std::string_view name) {
  if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_'))
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

std::string type_name(const sdk::Json& value) {
  if (value.is_null()) return "null";
  if (value.is_bool()) return "a boolean";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "a list";
  return "a map";
}

class Reader {
 public:
  Reader(bool checking, std::vector<Problem>& problems)
      : checking_(checking), problems_(problems) {}

  void error(const std::string& path, const std::string& message) {
    problems_.push_back({path, message});
  }
  // True when `value` is to be left unchecked: a ${{ }} resolved later.
  bool deferred(const sdk::Json& value) const { return checking_ && value.is_deferred(); }

  // Reports keys of `map` not in `known`, with the nearest known one.
  void unknown_keys(const sdk::Json& map, const std::string& prefix,
                    const std::vector<std::string_view>& known) {
    for (const auto& [key, value] : map.as_object()) {
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      std::string message = "unknown argument '" + key + "'";
      std::string hint = nearest(key, known);
      if (!hint.empty()) message += "; did you mean '" + hint + "'?";
      error(prefix + key, message);
    }
  }

  void url(const sdk::Json& value, HttpArguments& out) {
    if (deferred(value)) return;
    std::string why;
    if (!value.is_string()) return error("url", "must be a string, not " + type_name(value));
    if (auto url = parse_url(value.as_string(), &why)) {
      out.url = std::move(*url);
    } else {
      error("url", "'" + value.as_string() + "' is not an http(s) URL: " + why);
    }
  }

  void method(const sdk::Json& value, HttpArguments& out) {
    if (deferred(value)) return;
    if (!value.is_string() || !is_token(value.as_string()))
      return error("method", "must be an HTTP method like GET or POST");
    out.method = value.as_string();
    std::transform(out.method.begin(), out.method.end(), out.method.begin(),
                   [](unsigned char c) { return char(std::toupper(c)); });
  }

  void headers(const sdk::Json& value, HttpArguments& out) {
    if (deferred(value)) return;
    if (!value.is_object()) return error("headers", "must be a map of header names to values");
    for (const auto& [name, header] : value.as_object()) {
      std::string path = "headers." + name;
      if (!is_token(name)) {
        error(path, "'" + name + "' is not a valid header name");
        continue;
      }
      if (deferred(header)) continue;
      if (header.is_array() || header.is_object() || header.is_null()) {
        error(path, "must be a string, not " + type_name(header));
        continue;
      }
      std::string text = header.to_text();
      if (text.find_first_of("\r\n") != std::string::npos || text.find('\0') != std::string::npos) {
        error(path, "must not contain line breaks");
        continue;
      }
      out.headers.emplace_back(name, std::move(text));
    }
  }

  void body(const sdk::Json& value, HttpArguments& out) {
    if (deferred(value)) return;
    if (value.is_null()) return error("body", "must be a string, a map or a list");
    out.json_body = value.is_array() || value.is_object();
    out.body = out.json_body ? value.dump() : value.to_text();
  }

  void timeout(const sdk::Json& value, HttpArguments& out) {
    if (deferred(value)) return;
    std::string why;
    if (auto d = read_duration(value, &why)) {
      out.timeout = *d;
    } else {
      error("timeout", why);
    }
  }

  void expect_status(const sdk::Json& value, HttpArguments& out) {
    if (deferred(value)) return;
    std::string why;
    if (!value.is_array()) {
      if (auto set = read_status_set(value, &why))
        out.expect_status = *set;
      else
        error("expect_status", why);
      return;
    }
    if (value.as_array().empty()) return error("expect_status", "must list at least one status");
    bool complete = true;
    for (size_t i = 0; i < value.as_array().size(); ++i) {
      const sdk::Json& item = value.as_array()[i];
      std::string at = "expect_status[" + std::to_string(i) + "]";
      if (deferred(item)) {
        complete = false;
      } else if (item.is_array()) {
        error(at, "must be a status code or a range, not a list");
        complete = false;
      } else if (!read_status_set(item, &why)) {
        error(at, why);
        complete = false;
      }
    }
    if (complete) out.expect_status = *read_status_set(value, &why);
  }

  void expect_body(const sdk::Json& value, HttpArguments& out) {
    if (deferred(value)) return;
    if (value.is_string()) {
      if (value.as_string().empty()) return error("expect_body", "must not be empty");
      out.expect_body = BodyExpectation{value.as_string(), std::nullopt};
      return;
    }
    if (!value.is_object() || !value.has("regex"))
      return error("expect_body", "must be a string to find in the body, or {regex: \"...\"}");
    unknown_keys(value, "expect_body.", {"regex"});
    const sdk::Json& pattern = value.get("regex");
    if (deferred(pattern)) return;
    if (!pattern.is_string()) return error("expect_body.regex", "must be a string");
    std::string why;
    if (std::optional<BodyRegex> regex = BodyRegex::compile(pattern.as_string(), &why)) {
      out.expect_body = BodyExpectation{pattern.as_string(), std::move(regex)};
    } else {
      error("expect_body.regex", "'" + pattern.as_string() + "' is not a valid regex: " + why);
    }
  }

  void expect_json(const sdk::Json& value, HttpArguments& out) {
    if (deferred(value)) return;
    if (value.is_object()) return json_expectation(value, "expect_json", out);
    if (!value.is_array() || value.as_array().empty())
      return error("expect_json", "must be {path: ..., equals: ...} or a list of them");
    for (size_t i = 0; i < value.as_array().size(); ++i) {
      json_expectation(value.as_array()[i], "expect_json[" + std::to_string(i) + "]", out);
    }
  }

  void outputs(const sdk::Json& value, HttpArguments& out) {
    if (deferred(value)) return;
    if (!value.is_object()) return error("outputs", "must be a map of output names to JSON paths");
    for (const auto& [name, field] : value.as_object()) {
      std::string path = "outputs." + name;
      if (!is_output_name(name)) {
        error(path, "'" + name + "' is not an output name ([A-Za-z_][A-Za-z0-9_-]*)");
      } else if (name == "status" || name == "body") {
        error(path, "'" + name + "' is an output of every http step; choose another name");
      } else if (deferred(field)) {
        continue;
      } else if (!field.is_string()) {
        error(path, "must be a JSON path like \"a.b[0].c\"");
      } else {
        std::string why;
        if (auto json_path = JsonPath::parse(field.as_string(), &why)) {
          out.outputs.emplace_back(name, std::move(*json_path));
        } else {
          error(path, "'" + field.as_string() + "' is not a JSON path: " + why);
        }
      }
    }
  }

  void max_body(const sdk::Json& value, HttpArguments& out) {
    if (deferred(value)) return;
    std::optional<int64_t> bytes = read_int(value);
    if (!bytes || *bytes < 1 || *bytes > kMaxBodyLimit)
      return error("max_body", "must be a number of bytes from 1 to 1073741824");
    out.max_body = size_t(*bytes);
  }

  void flag(const sdk::Json& value, const char* name, bool& out) {
    if (deferred(value)) return;
    if (std::optional<bool> b = read_bool(value))
      out = *b;
    else
      error(name, "must be true or false");
  }

  void ca_file(const sdk::Json& value, HttpArguments& out) {
    if (deferred(value)) return;
    if (!value.is_string() || value.as_string().empty())
      return error("ca_file", "must be the path of a file of CA certificates (PEM)");
    out.ca_file = value.as_string();
  }

 private:
  void json_expectation(const sdk::Json& value, const std::string& at, HttpArguments& out) {
    if (!value.is_object())
      return error(at, "must be {path: ..., equals: ...}, not " + type_name(value));
    unknown_keys(value, at + ".", {"path", "equals"});
    if (!value.has("path") || !value.has("equals"))
      return error(at, "needs both 'path' and 'equals'");
    const sdk::Json& path = value.get("path");
    if (deferred(path)) return;
    if (!path.is_string()) return error(at + ".path", "must be a JSON path like \"a.b[0].c\"");
    std::string why;
    std::optional<JsonPath> json_path = JsonPath::parse(path.as_string(), &why);
    if (!json_path)
      return error(at + ".path", "'" + path.as_string() + "' is not a JSON path: " + why);
    out.expect_json.push_back({std::move(*json_path), value.get("equals")});
  }

  bool checking_;
  std::vector<Problem>& problems_;
};

}  // namespace

HttpArguments read_arguments(const sdk::Json& with, bool checking, std::vector<Problem>& problems) {
  HttpArguments out;
  out.expect_status.add(200, 299);
  Reader r(checking, problems);
  if (!with.is_object()) {
    r.error("", "the arguments of an http step must be a map");
    return out;
  }
  r.unknown_keys(with, "", kKeys);
  if (!with.has("url")) r.error("", "missing the required argument 'url'");
  for (const auto& [key, value] : with.as_object()) {
    if (key == "url")
      r.url(value, out);
    else if (key == "method")
      r.method(value, out);
    else if (key == "headers")
      r.headers(value, out);
    else if (key == "body")
      r.body(value, out);
    else if (key == "timeout")
      r.timeout(value, out);
    else if (key == "expect_status")
      r.expect_status(value, out);
    else if (key == "expect_body")
      r.expect_body(value, out);
    else if (key == "expect_json")
      r.expect_json(value, out);
    else if (key == "outputs")
      r.outputs(value, out);
    else if (key == "max_body")
      r.max_body(value, out);
    else if (key == "follow_redirects")
      r.flag(value, "follow_redirects", out.follow_redirects);
    else if (key == "insecure")
      r.flag(value, "insecure", out.insecure);
    else if (key == "ca_file")
      r.ca_file(value, out);
  }
  return out;
}

}  // namespace runbook::http
