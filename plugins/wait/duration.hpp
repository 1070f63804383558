#pragma once

// Durations as runbooks write them, read and printed the engine's way.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace runbook::wait {

// Milliseconds in "250ms", "30s", "5m", "1h30m", "1.5s" (units from largest
// to smallest, each at most once) or a bare number of seconds ("30");
// nullopt when the text is none of these.
std::optional<int64_t> parse_duration_ms(std::string_view text);

// The shortest way to write `ms` in the form above: 250 -> "250ms",
// 90000 -> "1m30s", 0 -> "0s".
std::string format_duration(int64_t ms);

// Elapsed time as seconds to a tenth: 1234 -> "1.2s".
std::string format_seconds(int64_t ms);

}  // namespace runbook::wait
