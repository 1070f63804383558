#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cron_support.hpp"
#include "runbook/cron.hpp"

using runbook::TimeZone;
using runbook::cron_test::next_local;
using runbook::cron_test::next_utc;
using runbook::cron_test::utc;
using runbook::cron_test::zone;

using Times = std::vector<std::string>;

TEST_CASE("a cron schedule in a zone fires at the zone's wall-clock time") {
  CHECK(next_utc("0 9 * * *", "2025-01-15T00:00:00Z", "Asia/Kolkata") == "2025-01-15T03:30:00Z");
  CHECK(next_local("0 9 * * *", "2025-01-15T00:00:00Z", "Asia/Kolkata") ==
        "2025-01-15T09:00:00+05:30");
  CHECK(next_utc("0 9 * * *", "2025-01-15T00:00:00Z", "America/New_York") ==
        "2025-01-15T14:00:00Z");
  CHECK(next_utc("0 9 * * *", "2025-07-15T00:00:00Z", "America/New_York") ==
        "2025-07-15T13:00:00Z");
  CHECK(next_utc("0 9 * * *", "2025-01-15T00:00:00Z", "Pacific/Chatham") == "2025-01-15T19:15:00Z");
  // The day is the zone's: Monday 00:30 in Tokyo is still Sunday in UTC.
  CHECK(next_utc("30 0 * * MON", "2025-01-15T00:00:00Z", "Asia/Tokyo") == "2025-01-19T15:30:00Z");
}

TEST_CASE("a cron time skipped by Berlin's spring-forward fires once at the end of the gap") {
  // 2025-03-30: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
  CHECK(next_local("30 2 * * *", "2025-03-29T12:00:00Z", "Europe/Berlin") ==
        "2025-03-30T03:00:00+02:00");
  CHECK(next_utc("30 2 * * *", "2025-03-29T12:00:00Z", 2, "Europe/Berlin") ==
        Times{"2025-03-30T01:00:00Z", "2025-03-31T00:30:00Z"});
  // 02:00, 02:30 and 03:00 all fire at 03:00 CEST, once.
  CHECK(next_utc("0,30 2-3 * * *", "2025-03-30T00:00:00Z", 3, "Europe/Berlin") ==
        Times{"2025-03-30T01:00:00Z", "2025-03-30T01:30:00Z", "2025-03-31T00:00:00Z"});
  CHECK(next_utc("*/15 * * * *", "2025-03-30T00:30:00Z", 3, "Europe/Berlin") ==
        Times{"2025-03-30T00:45:00Z", "2025-03-30T01:00:00Z", "2025-03-30T01:15:00Z"});
  // From just before and exactly at the jump.
  CHECK(next_utc("30 2 * * *", "2025-03-30T00:59:59Z", "Europe/Berlin") == "2025-03-30T01:00:00Z");
  CHECK(next_utc("30 2 * * *", "2025-03-30T01:00:00Z", "Europe/Berlin") == "2025-03-31T00:30:00Z");
}

TEST_CASE("a cron time repeated by Berlin's fall-back fires once at its first occurrence") {
  // 2025-10-26: 03:00 CEST becomes 02:00 CET at 01:00 UTC.
  CHECK(next_local("30 2 * * *", "2025-10-25T12:00:00Z", "Europe/Berlin") ==
        "2025-10-26T02:30:00+02:00");
  CHECK(next_utc("30 2 * * *", "2025-10-25T12:00:00Z", 2, "Europe/Berlin") ==
        Times{"2025-10-26T00:30:00Z", "2025-10-27T01:30:00Z"});
  CHECK(next_utc("0,30 2-3 * * *", "2025-10-25T22:00:00Z", 4, "Europe/Berlin") ==
        Times{"2025-10-26T00:00:00Z", "2025-10-26T00:30:00Z", "2025-10-26T02:00:00Z",
              "2025-10-26T02:30:00Z"});
  // Nothing fires during the repeated hour's second pass.
  CHECK(next_utc("*/15 * * * *", "2025-10-26T00:30:00Z", 3, "Europe/Berlin") ==
        Times{"2025-10-26T00:45:00Z", "2025-10-26T02:00:00Z", "2025-10-26T02:15:00Z"});
  CHECK(next_utc("30 2 * * *", "2025-10-26T01:10:00Z", "Europe/Berlin") == "2025-10-27T01:30:00Z");
}

TEST_CASE("cron times in New York's daylight-saving changes fire once") {
  // 2025-03-09: 02:00 EST becomes 03:00 EDT at 07:00 UTC.
  CHECK(next_local("30 2 * * *", "2025-03-08T12:00:00Z", "America/New_York") ==
        "2025-03-09T03:00:00-04:00");
  CHECK(next_utc("30 2 * * *", "2025-03-08T12:00:00Z", 2, "America/New_York") ==
        Times{"2025-03-09T07:00:00Z", "2025-03-10T06:30:00Z"});
  // 2025-11-02: 02:00 EDT becomes 01:00 EST at 06:00 UTC; 01:xx happens twice.
  CHECK(next_local("30 1 * * *", "2025-11-01T12:00:00Z", "America/New_York") ==
        "2025-11-02T01:30:00-04:00");
  CHECK(next_utc("30 1 * * *", "2025-11-01T12:00:00Z", 2, "America/New_York") ==
        Times{"2025-11-02T05:30:00Z", "2025-11-03T06:30:00Z"});
  CHECK(next_utc("0 2 * * *", "2025-11-02T04:00:00Z", "America/New_York") ==
        "2025-11-02T07:00:00Z");
}

TEST_CASE("cron times in Lord Howe's half-hour daylight-saving changes fire once") {
  // 2025-10-05: 02:00 +10:30 becomes 02:30 +11:00 at 15:30 UTC the day before.
  CHECK(next_local("15 2 * * *", "2025-10-04T00:00:00Z", "Australia/Lord_Howe") ==
        "2025-10-05T02:30:00+11:00");
  CHECK(next_utc("15 2 * * *", "2025-10-04T00:00:00Z", 2, "Australia/Lord_Howe") ==
        Times{"2025-10-04T15:30:00Z", "2025-10-05T15:15:00Z"});
  CHECK(next_utc("*/10 * * * *", "2025-10-04T15:15:00Z", 3, "Australia/Lord_Howe") ==
        Times{"2025-10-04T15:20:00Z", "2025-10-04T15:30:00Z", "2025-10-04T15:40:00Z"});
  // 2025-04-06: 02:00 +11:00 becomes 01:30 +10:30 at 15:00 UTC the day before.
  CHECK(next_local("45 1 * * *", "2025-04-05T00:00:00Z", "Australia/Lord_Howe") ==
        "2025-04-06T01:45:00+11:00");
  CHECK(next_utc("45 1 * * *", "2025-04-05T00:00:00Z", 2, "Australia/Lord_Howe") ==
        Times{"2025-04-05T14:45:00Z", "2025-04-06T15:15:00Z"});
  CHECK(next_utc("*/10 * * * *", "2025-04-05T14:35:00Z", 3, "Australia/Lord_Howe") ==
        Times{"2025-04-05T14:40:00Z", "2025-04-05T14:50:00Z", "2025-04-05T15:30:00Z"});
}

TEST_CASE("a cron midnight skipped by a zone fires at the first instant of the day") {
  // Tehran, 2021-03-22: 00:00 +03:30 became 01:00 +04:30.
  CHECK(next_local("0 0 * * *", "2021-03-21T12:00:00Z", "Asia/Tehran") ==
        "2021-03-22T01:00:00+04:30");
}

TEST_CASE("a whole day skipped by a zone fires a cron schedule once at the end of the gap") {
  // Samoa skipped 2011-12-30, going from -10:00 to +14:00.
  CHECK(next_local("0 12 30 12 *", "2011-12-01T00:00:00Z", "Pacific/Apia") ==
        "2011-12-31T00:00:00+14:00");
  CHECK(next_utc("0 * * * *", "2011-12-30T09:30:00Z", 3, "Pacific/Apia") ==
        Times{"2011-12-30T10:00:00Z", "2011-12-30T11:00:00Z", "2011-12-30T12:00:00Z"});
}

TEST_CASE("cron time zone names are checked") {
  CHECK(TimeZone{}.name() == "UTC");
  CHECK(zone("UTC").name() == "UTC");
  CHECK(zone("Europe/Berlin").name() == "Europe/Berlin");
  CHECK(zone("Etc/UTC").name() == "Etc/UTC");
  for (const char* bad : {"Mars/Base", "europe/berlin", "../../etc/passwd", "Europe/", "/UTC"}) {
    CAPTURE(bad);
    auto found = TimeZone::find(bad);
    REQUIRE_FALSE(found.ok());
    CHECK(found.error() == "unknown time zone '" + std::string(bad) + "'");
  }
  CHECK(TimeZone::find("").error() == "empty time zone name");
}

TEST_CASE("a cron time zone formats an instant as its wall-clock time with the offset") {
  CHECK(TimeZone{}.format(utc("2025-03-30T01:00:00Z")) == "2025-03-30T01:00:00+00:00");
  CHECK(zone("Europe/Berlin").format(utc("2025-03-30T01:00:00Z")) == "2025-03-30T03:00:00+02:00");
  CHECK(zone("America/St_Johns").format(utc("2025-01-01T00:00:00Z")) ==
        "2024-12-31T20:30:00-03:30");
  CHECK(zone("Europe/Berlin").to_local(utc("2025-10-26T01:30:00Z")) ==
        std::chrono::local_days{std::chrono::year{2025} / 10 / 26} + std::chrono::minutes{150});
}
