// Finding when a cron schedule next fires. Two layers: the search for the next
// matching wall-clock time, which knows nothing of zones, and the mapping of a
// wall-clock time to the instant it fires, which is where daylight saving time
// is handled. The mapping never goes backwards as the wall-clock time goes
// forward, which is what lets the first layer's answer be the next fire.

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "runbook/cron.hpp"
#include "serve/zone_rules.hpp"

namespace runbook {

namespace {

using std::chrono::local_seconds;
using std::chrono::sys_seconds;

// Far more than the longest gap between two fires (40 years), so that the
// search only gives up on a schedule that cannot fire, which parse refuses.
constexpr int kHorizonYears = 100;
constexpr int kLastYear = 9999;

// The lowest set bit of `bits` at or above `from`, or -1.
int next_bit(uint64_t bits, int from) {
  if (from >= 64) return -1;
  const uint64_t rest = bits >> from;
  if (rest == 0) return -1;
  return from + std::countr_zero(rest);
}

bool has_bit(uint64_t bits, unsigned n) {
  return n < 64 && ((bits >> n) & 1) != 0;
}

// A wall-clock time field by field, as the search moves it: moving a field
// forward restarts the smaller ones at their minimum. A day, hour or minute
// may run one past its end; the search then finds nothing in it and moves on.
struct WallClock {
  int year, month, day, hour, minute, second;

  explicit WallClock(local_seconds t) {
    const auto days = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::year_month_day date{days};
    const std::chrono::hh_mm_ss clock{t - days};
    year = static_cast<int>(date.year());
    month = static_cast<int>(static_cast<unsigned>(date.month()));
    day = static_cast<int>(static_cast<unsigned>(date.day()));
    hour = static_cast<int>(clock.hours().count());
    minute = static_cast<int>(clock.minutes().count());
    second = static_cast<int>(clock.seconds().count());
  }

  void start_month(int y, int m) {
    year = y;
    month = m;
    start_day(1);
  }
  void start_day(int d) {
    day = d;
    start_hour(0);
  }
  void start_hour(int h) {
    hour = h;
    start_minute(0);
  }
  void start_minute(int m) {
    minute = m;
    second = 0;
  }

  std::chrono::year_month_day date(int d) const {
    return {std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
            std::chrono::day{static_cast<unsigned>(d)}};
  }
  local_seconds time() const {
    return std::chrono::local_days{date(day)} + std::chrono::hours{hour} +
           std::chrono::minutes{minute} + std::chrono::seconds{second};
  }
};

// --- Wall-clock time to instant --------------------------------------------

// The instant a job set for wall-clock time `t` fires: the instant itself when
// it exists once, the first occurrence when it exists twice, and the end of
// the gap when the clocks skipped over it. `zone` nullptr is UTC.
sys_seconds fire_instant(const ZoneRules* zone, local_seconds t) {
  if (zone == nullptr) return sys_seconds{t.time_since_epoch()};
  const LocalSpans info = zone->at_local(t);
  switch (info.kind) {
    case LocalSpans::Kind::nonexistent:
      return info.second.begin;
    case LocalSpans::Kind::ambiguous:  // `first` is the offset before the change
    case LocalSpans::Kind::unique:
      break;
  }
  return sys_seconds{t.time_since_epoch()} - info.first.offset;
}

// The earliest wall-clock time whose fire instant is at or after `s`. Usually
// the wall-clock time of `s`, but earlier when `s` is the end of a gap (the
// skipped times fire at `s`), and later when `s` is in a repeated hour's
// second pass (the repeated times fired in the first).
local_seconds earliest_local_firing_at(const ZoneRules* zone, sys_seconds s) {
  if (zone == nullptr) return local_seconds{s.time_since_epoch()};
  const ZoneSpan info = zone->at(s);
  if (info.begin == s) {
    const ZoneSpan before = zone->at(s - std::chrono::seconds{1});
    if (before.offset < info.offset) {
      return local_seconds{s.time_since_epoch()} + before.offset;  // the gap's start
    }
  }
  const local_seconds local = local_seconds{s.time_since_epoch()} + info.offset;
  const LocalSpans local_info = zone->at_local(local);
  if (local_info.kind == LocalSpans::Kind::ambiguous && s >= local_info.second.begin) {
    // The end of the repeated hour, by the clock of its first pass.
    return local_seconds{local_info.first.end.time_since_epoch()} + local_info.first.offset;
  }
  return local;
}

}  // namespace

bool CronSchedule::day_matches(std::chrono::year_month_day date) const {
  const bool day_of_month = has_bit(days_of_month_, static_cast<unsigned>(date.day()));
  const bool day_of_week =
      has_bit(days_of_week_, std::chrono::weekday{std::chrono::sys_days{date}}.c_encoding());
  if (day_of_month_star_ || day_of_week_star_) return day_of_month && day_of_week;
  return day_of_month || day_of_week;
}

bool CronSchedule::matches(local_seconds t) const {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss clock{t - day};
  return has_bit(seconds_, static_cast<unsigned>(clock.seconds().count())) &&
         has_bit(minutes_, static_cast<unsigned>(clock.minutes().count())) &&
         has_bit(hours_, static_cast<unsigned>(clock.hours().count())) &&
         has_bit(months_, static_cast<unsigned>(date.month())) && day_matches(date);
}

std::optional<local_seconds> CronSchedule::next_match(local_seconds from) const {
  WallClock at(from);
  const int last_year = std::min(at.year + kHorizonYears, kLastYear);

  // Each pass either settles a field or moves a larger one forward, so the
  // loop ends within a few passes per month of the horizon.
  while (at.year <= last_year) {
    if (!has_bit(months_, static_cast<unsigned>(at.month))) {
      const int month = next_bit(months_, at.month);
      if (month < 0 || month > 12) {
        at.start_month(at.year + 1, std::countr_zero(months_));
      } else {
        at.start_month(at.year, month);
      }
      continue;
    }

    const std::chrono::year_month_day_last month_end{
        std::chrono::year{at.year},
        std::chrono::month_day_last{std::chrono::month{static_cast<unsigned>(at.month)}}};
    const int month_days = static_cast<int>(static_cast<unsigned>(month_end.day()));
    int day = at.day;
    while (day <= month_days && !day_matches(at.date(day))) ++day;
    if (day > month_days) {
      if (at.month == 12) {
        at.start_month(at.year + 1, 1);
      } else {
        at.start_month(at.year, at.month + 1);
      }
      continue;
    }
    if (day != at.day) at.start_day(day);

    const int hour = next_bit(hours_, at.hour);
    if (hour < 0) {
      at.start_day(at.day + 1);
      continue;
    }
    if (hour != at.hour) at.start_hour(hour);

    const int minute = next_bit(minutes_, at.minute);
    if (minute < 0) {
      at.start_hour(at.hour + 1);
      continue;
    }
    if (minute != at.minute) at.start_minute(minute);

    const int second = next_bit(seconds_, at.second);
    if (second < 0) {
      at.start_minute(at.minute + 1);
      continue;
    }
    at.second = second;
    return at.time();
  }
  return std::nullopt;
}

std::optional<sys_seconds> next_fire(const CronSchedule& schedule, const TimeZone& zone,
                                     std::chrono::system_clock::time_point after) {
  const sys_seconds floor_after = std::chrono::floor<std::chrono::seconds>(after);
  local_seconds from =
      earliest_local_firing_at(zone.zone_.get(), floor_after + std::chrono::seconds{1});
  // One pass is enough when `from` is right; the check is there so that a
  // mistake in it could never fire a job twice or in the past.
  for (int pass = 0; pass < 1000; ++pass) {
    const std::optional<local_seconds> match = schedule.next_match(from);
    if (!match) return std::nullopt;
    const sys_seconds fire = fire_instant(zone.zone_.get(), *match);
    if (fire > floor_after) return fire;
    from = *match + std::chrono::seconds{1};
  }
  return std::nullopt;
}

std::vector<sys_seconds> next_fires(const CronSchedule& schedule, const TimeZone& zone,
                                    std::chrono::system_clock::time_point after, size_t count) {
  std::vector<sys_seconds> fires;
  fires.reserve(std::min<size_t>(count, 64));
  while (fires.size() < count) {
    const std::optional<sys_seconds> fire = next_fire(schedule, zone, after);
    if (!fire) break;
    fires.push_back(*fire);
    after = *fire;
  }
  return fires;
}

}  // namespace runbook
