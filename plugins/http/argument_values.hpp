#pragma once

// Readers for single argument values of the http step kind. Each accepts
// the value's natural JSON type and, since a ${{ }} resolves to a string,
// the same value written as a string ("true", "5s", "200").

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "expectations.hpp"
#include "runbook/plugin.hpp"

namespace runbook::http {

// "250ms", "30s", "5m", "1h30m", "1.5s", or a bare number of seconds; the
// same grammar as the engine's durations. nullopt for anything else.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// A duration: a number of seconds or a duration string; over zero.
std::optional<std::chrono::milliseconds> read_duration(const sdk::Json& value, std::string* why);

// true/false or "true"/"false".
std::optional<bool> read_bool(const sdk::Json& value);

// An integer, or a string of digits.
std::optional<int64_t> read_int(const sdk::Json& value);

// expect_status: 200, "200", "200-299", "2xx", or a list of those; codes
// from 100 to 599.
std::optional<StatusSet> read_status_set(const sdk::Json& value, std::string* why);

// The entry of `known` closest to `key` by edit distance, or "" when none
// is close enough to be a likely typo.
std::string nearest(std::string_view key, const std::vector<std::string_view>& known);

}  // namespace runbook::http
