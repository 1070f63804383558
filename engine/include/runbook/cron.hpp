#pragma once

// Cron schedules for `runbook serve`: parsing an expression and finding when
// it next fires in a time zone.
//
// Expressions (the unit tests in tests/unit/serve/cron_test.cpp are the full
// spec):
// - Five fields, `minute hour day-of-month month day-of-week`, or six with
//   `second` first. Five fields fire at second 0.
// - Each field is a comma-separated list of `*`, `N`, `A-B`, `*/S`, `A-B/S`
//   or `A/S` (from A to the field's maximum, every S). Ranges do not wrap:
//   `22-2` is an error; write `22-23,0-2`. A step runs from 1 to the size of
//   the field's range less one (`*/60` in minutes is an error).
// - Months may be named JAN..DEC and days of the week SUN..SAT, in any case,
//   also in lists and ranges. Day-of-week 0 and 7 are both Sunday, and `SUN`
//   ending a range that starts later in the week is 7, so `FRI-SUN` is Friday
//   to Sunday.
// - Macros: @yearly and @annually (`0 0 1 1 *`), @monthly (`0 0 1 * *`),
//   @weekly (`0 0 * * 0`), @daily and @midnight (`0 0 * * *`), @hourly
//   (`0 * * * *`). There is no @reboot.
// - The day rule (Vixie cron's): a field is unrestricted when its text starts
//   with `*` (so `*/2` counts as unrestricted, as in Vixie cron). When both
//   day-of-month and day-of-week are restricted, a day matches when EITHER
//   matches (`0 0 13 * FRI` is every 13th and every Friday); otherwise both
//   must match.
// - A schedule that can never fire (`0 0 30 2 *`, `0 0 31 4,6 *`) is an
//   error. February 29 is allowed: it fires in leap years.
//
// Time zones and daylight saving time. Fields are matched against the LOCAL
// wall-clock time of the schedule's zone; each matching local time fires once,
// at one instant:
// - a local time that exists once fires at that instant;
// - a local time that does not exist (skipped when clocks go forward) fires at
//   the first instant after the gap, the moment the clocks jump: `30 2 * * *`
//   in Europe/Berlin on the day clocks go 02:00 -> 03:00 fires at 03:00 CEST
//   (01:00 UTC). Several skipped times (`*/15 2 * * *`) fire once together at
//   that instant, which is also the instant of a 03:00 job;
// - a local time that exists twice (clocks go back) fires once, at its first
//   occurrence: `30 2 * * *` on the day Berlin goes 03:00 -> 02:00 fires at
//   02:30 CEST (00:30 UTC) only, and `*/15 * * * *` does not fire during the
//   repeated hour.
// The zone rules come from the system's tz database (/usr/share/zoneinfo, or
// $TZDIR): its transitions, then the rule at the end of each file, so that
// daylight saving time goes on after the last transition listed (2037).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runbook/expected.hpp"  // Expected

namespace runbook {

class ZoneRules;  // serve/zone_rules.hpp, internal to the engine

// A parsed cron expression. Immutable; cheap to copy; safe to share between
// threads.
class CronSchedule {
 public:
  // Parses an expression (see the top of this file). Errors name the field and
  // the bad token: "minute field: 61 is out of range 0-59",
  // "expected 5 or 6 fields, got 4", "day-of-week field: unknown name
  // 'FUNDAY'", "never fires: February has no day 30".
  static Expected<CronSchedule, std::string> parse(std::string_view text);

  // The expression as written, without surrounding blanks.
  const std::string& text() const { return text_; }

  // Whether the wall-clock time `t` matches every field (with the day rule).
  bool matches(std::chrono::local_seconds t) const;

  // The first wall-clock time at or after `from` that matches, or nullopt when
  // there is none within 100 years (only possible near the year 9999; the
  // longest gap is 40 years, for `0 0 29 2 */7`, February 29 on a Sunday).
  std::optional<std::chrono::local_seconds> next_match(std::chrono::local_seconds from) const;

 private:
  CronSchedule() = default;
  bool day_matches(std::chrono::year_month_day date) const;

  std::string text_;
  uint64_t seconds_ = 0;        // bit N: second N (0-59)
  uint64_t minutes_ = 0;        // bit N: minute N (0-59)
  uint32_t hours_ = 0;          // bit N: hour N (0-23)
  uint32_t days_of_month_ = 0;  // bit N: day N (1-31)
  uint32_t months_ = 0;         // bit N: month N (1-12)
  uint32_t days_of_week_ = 0;   // bit N: weekday N (0-6, 0 = Sunday)
  bool day_of_month_star_ = false;
  bool day_of_week_star_ = false;
};

// An IANA time zone from the system's tz database, or UTC. A small handle:
// cheap to copy, valid for the life of the program, safe to share between
// threads.
class TimeZone {
 public:
  // UTC, which needs no tz database.
  TimeZone() = default;

  // "Europe/Berlin", "America/New_York", "UTC". Errors: "unknown time zone
  // 'Mars/Base'", or that the tz database cannot be read.
  static Expected<TimeZone, std::string> find(std::string_view name);

  std::string_view name() const;

  // The wall-clock time at instant `t` in this zone.
  std::chrono::local_seconds to_local(std::chrono::sys_seconds t) const;

  // "2025-03-30T03:00:00+02:00": `t` in this zone, RFC 3339 with its offset.
  std::string format(std::chrono::sys_seconds t) const;

 private:
  friend std::optional<std::chrono::sys_seconds> next_fire(const CronSchedule&, const TimeZone&,
                                                           std::chrono::system_clock::time_point);

  std::string name_ = "UTC";
  std::shared_ptr<const ZoneRules> zone_;  // null is UTC
};

// The first instant strictly after `after` at which `schedule` fires in
// `zone`, under the daylight-saving rules at the top of this file. Fire times
// are whole seconds. Never returns a time at or before `after`. Returns
// nullopt only when nothing fires within 100 years, which parse rules out (the
// longest gap is 40 years). Takes about a microsecond: it jumps field by field
// instead of scanning. Pure; safe from any thread.
std::optional<std::chrono::sys_seconds> next_fire(const CronSchedule& schedule,
                                                  const TimeZone& zone,
                                                  std::chrono::system_clock::time_point after);

// The next `count` fire times after `after`, in order, by next_fire. For
// `runbook serve --next NAME`.
std::vector<std::chrono::sys_seconds> next_fires(const CronSchedule& schedule, const TimeZone& zone,
                                                 std::chrono::system_clock::time_point after,
                                                 size_t count);

}  // namespace runbook
