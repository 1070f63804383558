// The engine's reading of the system's TZif files (serve/zone_rules.*),
// checked against Howard Hinnant's date/tz reading the same files up to 2037,
// where its transitions stop, and against the zones' rules after that.

#include "serve/zone_rules.hpp"

#include <date/tz.h>
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "runbook/cron.hpp"

using runbook::LocalSpans;
using runbook::PosixZoneRule;
using runbook::ZoneRules;
using runbook::ZoneSpan;
using std::chrono::hours;
using std::chrono::local_seconds;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

namespace {

const std::vector<const char*> kZones = {
    "Europe/Berlin",    "America/New_York",  "Australia/Lord_Howe", "Pacific/Chatham",
    "America/St_Johns", "Asia/Tehran",       "America/Havana",      "Africa/Casablanca",
    "America/Santiago", "Pacific/Apia",      "Europe/London",       "Australia/Sydney",
    "Asia/Kolkata",     "Europe/Dublin",     "Antarctica/Troll",    "America/Sao_Paulo",
    "Asia/Kathmandu",   "Pacific/Kiritimati"};

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::shared_ptr<const ZoneRules> rules_of(const std::string& name) {
  auto rules = ZoneRules::parse(file_text("/usr/share/zoneinfo/" + name));
  REQUIRE_MESSAGE(rules.ok(), name << ": " << (rules.ok() ? "" : rules.error()));
  return rules.value();
}

sys_seconds utc(int y, unsigned m, unsigned d, int h = 0, int min = 0) {
  return sys_seconds{sys_days{std::chrono::year{y} / m / d}} + hours{h} + minutes{min};
}

local_seconds local(int y, unsigned m, unsigned d, int h = 0, int min = 0) {
  return local_seconds{utc(y, m, d, h, min).time_since_epoch()};
}

date::local_seconds to_date(local_seconds t) {
  return date::local_seconds{t.time_since_epoch()};
}

}  // namespace

TEST_CASE("zone rules give the offset date/tz gives at every instant up to 2037" *
          doctest::timeout(120)) {
  const sys_seconds from = utc(1900, 1, 1), until = utc(2037, 1, 1);
  for (const char* name : kZones) {
    CAPTURE(name);
    const auto rules = rules_of(name);
    const date::time_zone* oracle = date::locate_zone(name);
    int checked = 0;
    for (sys_seconds t = from; t < until; t += hours{53} + minutes{17}) {
      ZoneSpan ours = rules->at(t);
      date::sys_info theirs = oracle->get_info(t);
      if (ours.offset != theirs.offset) {
        CAPTURE(t.time_since_epoch().count());
        CHECK(ours.offset == theirs.offset);
        break;
      }
      ++checked;
    }
    CHECK(checked > 20'000);
    // Each change of offset, to the second, and the span around it.
    for (sys_seconds t = utc(1970, 1, 1); t < until;) {
      date::sys_info theirs = oracle->get_info(t);
      if (theirs.end >= until) break;
      CAPTURE(theirs.end.time_since_epoch().count());
      CHECK(rules->at(theirs.end - seconds{1}).offset == theirs.offset);
      const date::sys_info next = oracle->get_info(theirs.end);
      const ZoneSpan after = rules->at(theirs.end);
      CHECK(after.offset == next.offset);
      if (next.offset != theirs.offset) CHECK(after.begin == theirs.end);
      t = theirs.end;
    }
  }
}

TEST_CASE("zone rules tell unique, skipped and repeated wall-clock times as date/tz does" *
          doctest::timeout(120)) {
  for (const char* name : kZones) {
    CAPTURE(name);
    const auto rules = rules_of(name);
    const date::time_zone* oracle = date::locate_zone(name);
    // Every quarter hour of the two days around each change since 2000.
    for (sys_seconds t = utc(2000, 1, 1); t < utc(2037, 1, 1);) {
      date::sys_info span = oracle->get_info(t);
      if (span.end >= utc(2037, 1, 1)) break;
      const local_seconds around = local_seconds{span.end.time_since_epoch()} + span.offset;
      for (local_seconds l = around - hours{26}; l < around + hours{26}; l += minutes{15}) {
        const LocalSpans ours = rules->at_local(l);
        const date::local_info theirs = oracle->get_info(to_date(l));
        CAPTURE(l.time_since_epoch().count());
        REQUIRE(int(ours.kind) == int(theirs.result));
        CHECK(ours.first.offset == theirs.first.offset);
        if (ours.kind != LocalSpans::Kind::unique) {
          CHECK(ours.second.offset == theirs.second.offset);
          CHECK(ours.second.begin == theirs.second.begin);
          CHECK(ours.first.end == theirs.first.end);
        }
      }
      t = span.end;
    }
  }
}

TEST_CASE("zone rules keep daylight saving time after 2037 by the file's TZ rule") {
  const auto berlin = rules_of("Europe/Berlin");
  CHECK(berlin->at(utc(2040, 7, 1)).offset == hours{2});
  CHECK(berlin->at(utc(2040, 1, 1)).offset == hours{1});
  // Last Sunday of March 2040 is the 25th: 01:00 UTC.
  CHECK(berlin->at(utc(2040, 3, 25, 1)).begin == utc(2040, 3, 25, 1));
  CHECK(berlin->at(utc(2040, 3, 25, 1)).end == utc(2040, 10, 28, 1));
  CHECK(berlin->at_local(local(2040, 3, 25, 2, 30)).kind == LocalSpans::Kind::nonexistent);
  CHECK(berlin->at_local(local(2040, 10, 28, 2, 30)).kind == LocalSpans::Kind::ambiguous);

  const auto new_york = rules_of("America/New_York");
  CHECK(new_york->at(utc(2050, 7, 1)).offset == hours{-4});
  CHECK(new_york->at(utc(2050, 12, 1)).offset == hours{-5});

  // Southern hemisphere: summer time spans the new year; Lord Howe moves half an hour.
  const auto lord_howe = rules_of("Australia/Lord_Howe");
  CHECK(lord_howe->at(utc(2045, 1, 1)).offset == hours{11});
  CHECK(lord_howe->at(utc(2045, 7, 1)).offset == hours{10} + minutes{30});
  const ZoneSpan summer = lord_howe->at(utc(2045, 1, 1));
  CHECK(summer.begin < utc(2045, 1, 1));
  CHECK(summer.end > utc(2045, 1, 1));
}

TEST_CASE("POSIX TZ rules are read as RFC 8536 describes them") {
  auto at = [](const char* text, sys_seconds t) {
    auto rule = PosixZoneRule::parse(text);
    REQUIRE_MESSAGE(rule.ok(), text);
    return rule.value().at(t);
  };
  CHECK(at("JST-9", utc(2030, 1, 1)).offset == hours{9});
  CHECK(at("<-03>3", utc(2030, 1, 1)).offset == hours{-3});
  CHECK(at("<+0545>-5:45", utc(2030, 1, 1)).offset == hours{5} + minutes{45});
  // Julian days: J60 is March 1 every year; 59 (from 0) is February 29 in leap years.
  CHECK(at("AAA0BBB,J60/0,J300/0", utc(2028, 3, 1, 0)).begin == utc(2028, 3, 1, 0));
  CHECK(at("AAA0BBB,59/0,300/0", utc(2028, 3, 1, 0)).begin == utc(2028, 2, 29, 0));
  // Transition hours outside 0-24 (America/Nuuk: M3.5.0/-2).
  const ZoneSpan nuuk = at("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", utc(2030, 6, 1));
  CHECK(nuuk.offset == hours{-1});
  CHECK(nuuk.begin == utc(2030, 3, 31, 1));  // Saturday 23:00 at -02
  // A fifth week that the month does not have is its last.
  CHECK(at("EST5EDT,M3.5.0,M11.5.0", utc(2030, 11, 30)).begin == utc(2030, 11, 24, 6));
  // No rule after the DST name: the United States' rule.
  CHECK(at("EST5EDT", utc(2030, 7, 1)).offset == hours{-4});

  for (const char* bad : {"", "A", "CET", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0/3",
                          "CET-1CEST,M3.6.0,M10.5.0", "CET-25", "<+01-1", "CET-1CEST,J0,J100",
                          "CET-1CEST,M3.5.0,M10.5.0/168", "CET-1 "}) {
    CAPTURE(bad);
    CHECK_FALSE(PosixZoneRule::parse(bad).ok());
  }
}

TEST_CASE("zone rules refuse what is not a whole TZif file") {
  const std::string berlin = file_text("/usr/share/zoneinfo/Europe/Berlin");
  CHECK(ZoneRules::parse(berlin).ok());
  CHECK(ZoneRules::parse("").error() == "not a TZif file");
  CHECK(ZoneRules::parse("# zone.tab\nDE\t+5230+01322\tEurope/Berlin\n").error() ==
        "not a TZif file");
  for (size_t cut : {size_t{44}, size_t{100}, berlin.size() / 2}) {
    CAPTURE(cut);
    CHECK_FALSE(ZoneRules::parse(berlin.substr(0, cut)).ok());
  }
  std::string bad_rule = berlin;
  const size_t footer = bad_rule.rfind('\n', bad_rule.size() - 2);
  bad_rule.replace(footer + 1, bad_rule.size() - footer - 2, "CET-1CEST,M3.5.0");
  CHECK(ZoneRules::parse(bad_rule).error().find("invalid TZ rule") != std::string::npos);
}

TEST_CASE("TimeZone::find reads zones by name and refuses names that leave the database") {
  CHECK(runbook::TimeZone::find("Europe/Berlin").ok());
  CHECK(runbook::TimeZone::find("Europe/Berlin").value().name() == "Europe/Berlin");
  CHECK(runbook::TimeZone::find("Etc/GMT+5").ok());
  for (const char* bad : {"Mars/Base", "Europe", "../../etc/passwd", "/etc/localtime",
                          "Europe/../Europe/Berlin", "zone.tab", "Europe/Berlin/"}) {
    CAPTURE(bad);
    auto zone = runbook::TimeZone::find(bad);
    REQUIRE_FALSE(zone.ok());
    CHECK(zone.error() == "unknown time zone '" + std::string(bad) + "'");
  }
  // Leap-second zones count leap seconds in their transitions: refused.
  if (std::ifstream("/usr/share/zoneinfo/right/Europe/Berlin")) {
    auto right = runbook::TimeZone::find("right/Europe/Berlin");
    REQUIRE_FALSE(right.ok());
    CHECK(right.error().find("leap-second zones") != std::string::npos);
  }
  const auto kolkata = runbook::TimeZone::find("Asia/Kolkata");
  REQUIRE(kolkata.ok());
  CHECK(kolkata.value().format(utc(2030, 1, 1)) == "2030-01-01T05:30:00+05:30");
  const auto st_johns = runbook::TimeZone::find("America/St_Johns");
  REQUIRE(st_johns.ok());
  CHECK(st_johns.value().format(utc(2030, 1, 1)) == "2029-12-31T20:30:00-03:30");
}
