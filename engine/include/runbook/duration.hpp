#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace runbook {

using Duration = std::chrono::milliseconds;

// Parses "250ms", "30s", "5m", "1h30m", "2d", or a bare number of seconds
// ("1.5" is 1500ms). Units are d, h, m, s, ms; each may have a decimal part
// ("1.5h" is 90m) and appears at most once, larger units first ("1h30m", not
// "30m1h"). Rounded to the millisecond. Returns nullopt for anything else,
// including negatives and durations over about 30,000 years.
std::optional<Duration> parse_duration(std::string_view text);

// The shortest text parse_duration reads back as `d`: "1h30m", "250ms", "0s".
std::string format_duration(Duration d);

}  // namespace runbook
