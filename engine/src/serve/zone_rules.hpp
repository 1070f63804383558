#pragma once

// A time zone's rules, read from a TZif file of the system's tz database
// (RFC 8536: /usr/share/zoneinfo/Europe/Berlin): its transitions, and the
// POSIX TZ rule of its footer for the instants after the last one (so that
// daylight saving time goes on after 2037, where the transitions of the files
// stop). Leap seconds are ignored, as the system clock does.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runbook/expected.hpp"

namespace runbook {

// A stretch of time with one UTC offset: [begin, end).
struct ZoneSpan {
  std::chrono::sys_seconds begin;
  std::chrono::sys_seconds end;
  std::chrono::seconds offset{0};  // local time minus UTC
};

// What a wall-clock time is in a zone: one instant (unique), none (skipped
// when the clocks went forward: `first` is the span before the gap, `second`
// the one after), or two (repeated when they went back: `first` then
// `second`).
struct LocalSpans {
  enum class Kind { unique, nonexistent, ambiguous };
  Kind kind = Kind::unique;
  ZoneSpan first;
  ZoneSpan second;  // for nonexistent and ambiguous
};

// "CET-1CEST,M3.5.0,M10.5.0/3": the rule of a POSIX TZ string.
class PosixZoneRule {
 public:
  // Errors say what is wrong with `text`.
  static Expected<PosixZoneRule, std::string> parse(std::string_view text);

  ZoneSpan at(std::chrono::sys_seconds t) const;

 private:
  // A transition date: Jn (1-365, never Feb 29), n (0-365) or Mm.w.d.
  struct Date {
    enum class Kind { julian_no_leap, julian, month_week_day } kind = Kind::julian;
    int day = 0;  // Jn, n, or d of Mm.w.d (0 = Sunday)
    int month = 0;
    int week = 0;  // 1-5, 5 = last
  };
  struct Change {
    Date date;
    std::chrono::seconds time{7200};  // local time of day, may be out of 0-24h
  };
  // The instant of `c` in year `y`, with `offset` the local time in force before it.
  static std::chrono::sys_seconds instant(const Change& c, int year, std::chrono::seconds offset);

  std::chrono::seconds std_offset_{0};
  std::chrono::seconds dst_offset_{0};
  bool has_dst_ = false;
  Change start_, end_;
};

class ZoneRules {
 public:
  // The rules in `data`, the bytes of a TZif file; errors say why not.
  static Expected<std::shared_ptr<const ZoneRules>, std::string> parse(std::string_view data);

  // The span holding instant `t`.
  ZoneSpan at(std::chrono::sys_seconds t) const;

  // The instants of wall-clock time `t`.
  LocalSpans at_local(std::chrono::local_seconds t) const;

 private:
  std::vector<int64_t> transitions_;           // UTC seconds, increasing
  std::vector<int32_t> offset_after_;          // the offset from each transition on
  int32_t offset_before_ = 0;                  // before the first (time type 0)
  std::shared_ptr<const PosixZoneRule> rule_;  // after the last; null: the last offset stays
};

}  // namespace runbook
