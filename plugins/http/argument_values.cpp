#include "argument_values.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

namespace runbook::http {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// "200" or "2xx" as a range of codes.
std::optional<std::pair<int, int>> read_code(std::string_view text) {
  if (text.size() == 3 && is_digit(text[0]) && (text[1] == 'x' || text[1] == 'X') &&
      (text[2] == 'x' || text[2] == 'X')) {
    int hundreds = (text[0] - '0') * 100;
    return std::pair{hundreds, hundreds + 99};
  }
  if (text.empty() || text.size() > 3 || !std::all_of(text.begin(), text.end(), is_digit))
    return std::nullopt;
  int code = std::atoi(std::string(text).c_str());
  return std::pair{code, code};
}

bool add_status(const sdk::Json& item, StatusSet& set, std::string* why) {
  std::optional<std::pair<int, int>> range;
  if (item.is_int()) {
    int64_t code = item.as_int();
    if (code >= 0 && code < 1000) range = std::pair{int(code), int(code)};
  } else if (item.is_string()) {
    std::string_view text = item.as_string();
    size_t dash = text.find('-');
    if (dash == std::string_view::npos) {
      range = read_code(text);
    } else {
      auto low = read_code(text.substr(0, dash));
      auto high = read_code(text.substr(dash + 1));
      if (low && high) range = std::pair{low->first, high->second};
    }
  }
  if (!range) {
    *why = show(item) + R"( is not a status code (200), a range ("200-299") or a class ("2xx"))";
    return false;
  }
  if (range->first < 100 || range->second > 599) {
    *why = "status codes are from 100 to 599, not " + show(item);
    return false;
  }
  if (range->first > range->second) {
    *why = "the range " + show(item) + " is empty";
    return false;
  }
  set.add(range->first, range->second);
  return true;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::optional<int64_t> ms = sdk::parse_duration_ms(text);
  if (!ms) return std::nullopt;
  return std::chrono::milliseconds(*ms);
}

std::optional<std::chrono::milliseconds> read_duration(const sdk::Json& value, std::string* why) {
  std::optional<std::chrono::milliseconds> d;
  if (value.is_number()) {
    double seconds = value.as_number();
    if (std::isfinite(seconds) && seconds >= 0 && seconds < 1e12)
      d = std::chrono::milliseconds(std::llround(seconds * 1000));
  } else if (value.is_string()) {
    d = parse_duration(value.as_string());
  }
  if (!d) {
    *why = show(value) + R"( is not a duration like "250ms", "5s", "1m" or a number of seconds)";
    return std::nullopt;
  }
  if (d->count() <= 0) {
    *why = "must be over zero";
    return std::nullopt;
  }
  return d;
}

std::optional<bool> read_bool(const sdk::Json& value) {
  if (value.is_bool()) return value.as_bool();
  if (value.is_string() && value.as_string() == "true") return true;
  if (value.is_string() && value.as_string() == "false") return false;
  return std::nullopt;
}

std::optional<int64_t> read_int(const sdk::Json& value) {
  if (value.is_int()) return value.as_int();
  if (value.is_string()) {
    const std::string& text = value.as_string();
    if (!text.empty() && text.size() <= 15 && std::all_of(text.begin(), text.end(), is_digit))
      return std::stoll(text);
  }
  return std::nullopt;
}

std::optional<StatusSet> read_status_set(const sdk::Json& value, std::string* why) {
  StatusSet set;
  if (value.is_array()) {
    if (value.as_array().empty()) {
      *why = "must list at least one status code";
      return std::nullopt;
    }
    for (const sdk::Json& item : value.as_array()) {
      if (!add_status(item, set, why)) return std::nullopt;
    }
  } else if (!add_status(value, set, why)) {
    return std::nullopt;
  }
  return set;
}

std::string nearest(std::string_view key, const std::vector<std::string_view>& known) {
  return sdk::nearest_name(key, known);
}

}  // namespace runbook::http
