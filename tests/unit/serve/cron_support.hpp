#pragma once

// Small helpers for the cron tests: instants written as text, and next fire
// times read back as text so that a failure shows the dates.

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "runbook/cron.hpp"

namespace runbook::cron_test {

// "2025-03-30T01:00:00Z" as an instant.
inline std::chrono::sys_seconds utc(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  REQUIRE(std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s) == 6);
  const std::chrono::sys_days day{std::chrono::year{y} / mo / d};
  return day + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
}

// An instant as "2025-03-30T01:00:00Z".
inline std::string utc_text(std::chrono::sys_seconds t) {
  std::string text = TimeZone{}.format(t);
  return text.substr(0, text.size() - 6) + "Z";
}

inline CronSchedule schedule(std::string_view text) {
  auto parsed = CronSchedule::parse(text);
  if (!parsed) FAIL("cannot parse '" << text << "': " << parsed.error());
  return std::move(parsed).value();
}

inline TimeZone zone(std::string_view name) {
  auto found = TimeZone::find(name);
  if (!found) FAIL(found.error());
  return found.value();
}

// The next `count` fire times of `expr` in `zone_name` after `after`, as UTC
// text.
inline std::vector<std::string> next_utc(std::string_view expr, const std::string& after,
                                         size_t count, std::string_view zone_name = "UTC") {
  std::vector<std::string> out;
  for (std::chrono::sys_seconds t :
       next_fires(schedule(expr), zone(zone_name), utc(after), count)) {
    out.push_back(utc_text(t));
  }
  return out;
}

// The next fire time of `expr` in `zone_name` after `after`, as UTC text, or
// "none".
inline std::string next_utc(std::string_view expr, const std::string& after,
                            std::string_view zone_name = "UTC") {
  const auto fire = next_fire(schedule(expr), zone(zone_name), utc(after));
  return fire ? utc_text(*fire) : "none";
}

// The same, as wall-clock time in the zone with its offset.
inline std::string next_local(std::string_view expr, const std::string& after,
                              std::string_view zone_name) {
  const TimeZone z = zone(zone_name);
  const auto fire = next_fire(schedule(expr), z, utc(after));
  return fire ? z.format(*fire) : "none";
}

inline std::string parse_error(std::string_view expr) {
  auto parsed = CronSchedule::parse(expr);
  return parsed ? "(parsed)" : parsed.error();
}

}  // namespace runbook::cron_test
