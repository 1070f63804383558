#pragma once

// Durations as runbooks write them, read and printed the engine's way.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runbook/plugin.hpp"

namespace runbook::wait {

// Durations are read with the SDK's parse_duration_ms.
using sdk::parse_duration_ms;

// The shortest way to write `ms` in the form above: 250 -> "250ms",
// 90000 -> "1m30s", 0 -> "0s".
std::string format_duration(int64_t ms);

// Elapsed time as seconds to a tenth: 1234 -> "1.2s".
std::string format_seconds(int64_t ms);

}  // namespace runbook::wait
