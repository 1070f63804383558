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

}  // namespace

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
