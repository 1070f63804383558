#include "runbook/duration.hpp"

#include <array>
#include <cmath>
#include <cstdint>

namespace runbook {

namespace {

struct Unit {
  std::string_view suffix;
  int64_t millis;
};

// Longest suffix first so that "ms" is not read as "m" followed by junk.
constexpr std::array<Unit, 5> kUnits = {{
    {"ms", 1},
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
}};

// Rank of a unit from largest (0) to smallest, so that "1h30m" is accepted
// but "30m1h" and "5m5m" are refused as likely typos.
int rank_of(std::string_view suffix) {
  if (suffix == "d") return 0;
  if (suffix == "h") return 1;
  if (suffix == "m") return 2;
  if (suffix == "s") return 3;
  return 4;  // ms
}

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

// About 292 million years fit in int64 milliseconds; refuse far less than
// that so the arithmetic never overflows.
constexpr double kMaxMillis = 1e15;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
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
    if (unit == nullptr) return std::nullopt;
    const int rank = rank_of(unit->suffix);
    if (rank <= last_rank) return std::nullopt;
    last_rank = rank;
    text.remove_prefix(unit->suffix.size());
    total += *number * static_cast<double>(unit->millis);
    if (total > kMaxMillis) return std::nullopt;
    first = false;
  }
  if (total > kMaxMillis) return std::nullopt;
  return Duration{static_cast<int64_t>(std::llround(total))};
}

std::string format_duration(Duration d) {
  int64_t ms = d.count();
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  if (ms == 0) return "0s";
  for (const Unit& u : {kUnits[1], kUnits[2], kUnits[3], kUnits[4], kUnits[0]}) {
    if (ms >= u.millis) {
      out += std::to_string(ms / u.millis);
      out += u.suffix;
      ms %= u.millis;
    }
  }
  return out;
}

}  // namespace runbook
