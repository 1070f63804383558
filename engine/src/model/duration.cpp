#include "runbook/duration.hpp"

#include "runbook/plugin.hpp"

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

}  // namespace

// Written the same way in runbooks and plugins' arguments: one grammar, the
// SDK's.
std::optional<Duration> parse_duration(std::string_view text) {
  std::optional<int64_t> ms = sdk::parse_duration_ms(text);
  if (!ms) return std::nullopt;
  return Duration{*ms};
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
