#include "duration.hpp"

#include <array>
#include <cmath>
#include <cstdio>

namespace runbook::wait {

namespace {

struct Unit {
  std::string_view suffix;
  int64_t millis;
  int rank;  // largest first, so that "1h30m" is read but "30m1h" is refused
};

// "ms" before "m", so that milliseconds are not read as minutes and junk.
constexpr std::array<Unit, 5> kUnits = {{
    {"ms", 1, 4},
    {"d", 86'400'000, 0},
    {"h", 3'600'000, 1},
    {"m", 60'000, 2},
    {"s", 1'000, 3},
}};

// Far below what int64 milliseconds hold, so that sums never overflow.
constexpr double kMaxMillis = 1e15;

// A decimal number at the front of `text` ("30", "1.5", ".5"); consumes it.
std::optional<double> take_number(std::string_view& text) {
  size_t i = 0;
  bool digits = false;
  double value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    value = value * 10 + (text[i] - '0');
    digits = true;
    ++i;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    double scale = 0.1;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      value += (text[i] - '0') * scale;
      scale /= 10;
      digits = true;
      ++i;
    }
  }
  if (!digits) return std::nullopt;
  text.remove_prefix(i);
  return value;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<int64_t> parse_duration_ms(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  double total = 0;
  int last_rank = -1;
  bool first = true;
  while (!text.empty()) {
    std::optional<double> number = take_number(text);
    if (!number) return std::nullopt;
    if (text.empty()) {
      // A bare number is seconds, and only on its own: "1h30" is ambiguous.
      if (!first) return std::nullopt;
      total = *number * 1000;
      break;
    }
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (text.substr(0, u.suffix.size()) == u.suffix) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr || unit->rank <= last_rank) return std::nullopt;
    last_rank = unit->rank;
    text.remove_prefix(unit->suffix.size());
    total += *number * static_cast<double>(unit->millis);
    if (total > kMaxMillis) return std::nullopt;
    first = false;
  }
  if (total > kMaxMillis) return std::nullopt;
  return static_cast<int64_t>(std::llround(total));
}

std::string format_duration(int64_t ms) {
  if (ms <= 0) return "0s";
  std::string out;
  for (const Unit& u : {kUnits[1], kUnits[2], kUnits[3], kUnits[4], kUnits[0]}) {
    if (ms >= u.millis) {
      out += std::to_string(ms / u.millis);
      out += u.suffix;
      ms %= u.millis;
    }
  }
  return out;
}

std::string format_seconds(int64_t ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs", static_cast<double>(ms) / 1000.0);
  return text;
}

}  // namespace runbook::wait
