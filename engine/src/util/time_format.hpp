#pragma once

#include <chrono>
#include <string>

namespace runbook {

// "2026-11-21T15:30:12.345Z" (RFC 3339, UTC, milliseconds).
std::string format_rfc3339(std::chrono::system_clock::time_point t);
// "15:30:12" in local time.
std::string format_clock(std::chrono::system_clock::time_point t);
// "1.2s", "350ms", "2m05s", "1h02m" — for people.
std::string format_elapsed(std::chrono::milliseconds d);

}  // namespace runbook
