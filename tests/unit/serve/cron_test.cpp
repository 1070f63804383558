#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "cron_support.hpp"
#include "runbook/cron.hpp"

using namespace std::chrono_literals;
using runbook::CronSchedule;
using runbook::TimeZone;
using runbook::cron_test::next_utc;
using runbook::cron_test::parse_error;
using runbook::cron_test::schedule;
using runbook::cron_test::utc;

namespace {

struct Case {
  const char* expr;
  const char* next;
};

// A Wednesday.
const std::string kAfter = "2025-01-15T10:17:30Z";

void check_table(const std::vector<Case>& cases, const std::string& after = kAfter) {
  for (const Case& c : cases) {
    CAPTURE(c.expr);
    CHECK(next_utc(c.expr, after) == c.next);
  }
}

}  // namespace

TEST_CASE("a five-field cron schedule fires at the next matching minute") {
  check_table({
      {"* * * * *", "2025-01-15T10:18:00Z"},
      {"*/5 * * * *", "2025-01-15T10:20:00Z"},
      {"0 * * * *", "2025-01-15T11:00:00Z"},
      {"17 10 * * *", "2025-01-16T10:17:00Z"},
      {"0 0 * * *", "2025-01-16T00:00:00Z"},
      {"0 0 1 * *", "2025-02-01T00:00:00Z"},
      {"0 0 1 1 *", "2026-01-01T00:00:00Z"},
      {"30 9 * * 1-5", "2025-01-16T09:30:00Z"},
      {"0 12 * * 6", "2025-01-18T12:00:00Z"},
      {"0 0 * * 0", "2025-01-19T00:00:00Z"},
      {"0 0 31 * *", "2025-01-31T00:00:00Z"},
      {"0 0 31 4-6 *", "2025-05-31T00:00:00Z"},
      {"59 23 31 12 *", "2025-12-31T23:59:00Z"},
  });
}

TEST_CASE("a six-field cron schedule has seconds first") {
  check_table({
      {"* * * * * *", "2025-01-15T10:17:31Z"},
      {"*/20 * * * * *", "2025-01-15T10:17:40Z"},
      {"0 * * * * *", "2025-01-15T10:18:00Z"},
      {"30 17 10 * * *", "2025-01-16T10:17:30Z"},
      {"15,45 */2 * * * *", "2025-01-15T10:18:15Z"},
      {"0 0 0 1 1 *", "2026-01-01T00:00:00Z"},
  });
}

TEST_CASE("cron lists, ranges and steps select the values they name") {
  check_table({
      {"5,20,40 * * * *", "2025-01-15T10:20:00Z"},
      {"10-12 * * * *", "2025-01-15T11:10:00Z"},
      {"10-30/7 * * * *", "2025-01-15T10:24:00Z"},
      {"0 */6 * * *", "2025-01-15T12:00:00Z"},
      {"0 9-17/4 * * *", "2025-01-15T13:00:00Z"},
      {"1,10-12,*/30 * * * *", "2025-01-15T10:30:00Z"},
      {"0 0 1 */5 *", "2025-06-01T00:00:00Z"},
  });
  CHECK(next_utc("0 9-17/4 * * *", kAfter, 5) ==
        std::vector<std::string>{"2025-01-15T13:00:00Z", "2025-01-15T17:00:00Z",
                                 "2025-01-16T09:00:00Z", "2025-01-16T13:00:00Z",
                                 "2025-01-16T17:00:00Z"});
}

TEST_CASE("a cron step after a single value runs to the end of the field") {
  check_table({
      {"40/7 * * * *", "2025-01-15T10:40:00Z"},
      {"0 20/2 * * *", "2025-01-15T20:00:00Z"},
      {"0 0 28/2 * *", "2025-01-28T00:00:00Z"},
  });
  CHECK(next_utc("50/7 * * * *", "2025-01-15T10:57:00Z", 3) ==
        std::vector<std::string>{"2025-01-15T11:50:00Z", "2025-01-15T11:57:00Z",
                                 "2025-01-15T12:50:00Z"});
}

TEST_CASE("cron month and weekday names work in any case, in lists and in ranges") {
  check_table({
      {"0 0 1 jan,Jul *", "2025-07-01T00:00:00Z"},
      {"0 0 1 MAR-may *", "2025-03-01T00:00:00Z"},
      {"0 0 1 oct/2 *", "2025-10-01T00:00:00Z"},
      {"0 0 * * mon-FRI", "2025-01-16T00:00:00Z"},
      {"0 0 * * SAT,sun", "2025-01-18T00:00:00Z"},
      {"0 0 * * Sun", "2025-01-19T00:00:00Z"},
  });
}

TEST_CASE("cron day-of-week 7 is Sunday like 0, and SUN ends a range as 7") {
  const std::vector<std::string> fri_to_sun = {"2025-01-17T00:00:00Z", "2025-01-18T00:00:00Z",
                                               "2025-01-19T00:00:00Z", "2025-01-24T00:00:00Z"};
  CHECK(next_utc("0 0 * * FRI-SUN", kAfter, 4) == fri_to_sun);
  CHECK(next_utc("0 0 * * 5-7", kAfter, 4) == fri_to_sun);
  CHECK(next_utc("0 0 * * 5,6,7", kAfter, 4) == fri_to_sun);
  CHECK(next_utc("0 0 * * 7", kAfter) == "2025-01-19T00:00:00Z");
  CHECK(next_utc("0 0 * * SUN-SAT", kAfter) == "2025-01-16T00:00:00Z");
  CHECK(next_utc("0 0 * * */2", kAfter) == "2025-01-16T00:00:00Z");  // 0,2,4,6
}

TEST_CASE("cron macros expand to their five-field schedules") {
  check_table({
      {"@yearly", "2026-01-01T00:00:00Z"},
      {"@annually", "2026-01-01T00:00:00Z"},
      {"@monthly", "2025-02-01T00:00:00Z"},
      {"@weekly", "2025-01-19T00:00:00Z"},
      {"@daily", "2025-01-16T00:00:00Z"},
      {"@midnight", "2025-01-16T00:00:00Z"},
      {"@hourly", "2025-01-15T11:00:00Z"},
      {"@DAILY", "2025-01-16T00:00:00Z"},
      {"  @hourly ", "2025-01-15T11:00:00Z"},
  });
  CHECK(schedule(" @weekly ").text() == "@weekly");
}

TEST_CASE("when both cron day fields are restricted a day matches if either matches") {
  // Fridays, and the 13th (a Thursday in February 2025).
  CHECK(next_utc("0 0 13 * FRI", kAfter, 6) ==
        std::vector<std::string>{"2025-01-17T00:00:00Z", "2025-01-24T00:00:00Z",
                                 "2025-01-31T00:00:00Z", "2025-02-07T00:00:00Z",
                                 "2025-02-13T00:00:00Z", "2025-02-14T00:00:00Z"});
  // The first seven days of each month, and every Sunday.
  CHECK(next_utc("0 0 1-7 * SUN", kAfter, 4) ==
        std::vector<std::string>{"2025-01-19T00:00:00Z", "2025-01-26T00:00:00Z",
                                 "2025-02-01T00:00:00Z", "2025-02-02T00:00:00Z"});
  // February 30 does not exist, but Mondays in February do.
  CHECK(next_utc("0 0 30 2 MON", kAfter) == "2025-02-03T00:00:00Z");
}

TEST_CASE("when either cron day field starts with * both must match") {
  CHECK(next_utc("0 0 13 * *", kAfter) == "2025-02-13T00:00:00Z");
  CHECK(next_utc("0 0 * * FRI", kAfter) == "2025-01-17T00:00:00Z");
  // `*/2` counts as unrestricted, as in Vixie cron: odd days that are Fridays.
  CHECK(next_utc("0 0 */2 * FRI", kAfter, 4) ==
        std::vector<std::string>{"2025-01-17T00:00:00Z", "2025-01-31T00:00:00Z",
                                 "2025-02-07T00:00:00Z", "2025-02-21T00:00:00Z"});
  // The first Sunday of each month.
  CHECK(next_utc("0 0 1-7 * */7", kAfter, 3) == std::vector<std::string>{"2025-02-02T00:00:00Z",
                                                                         "2025-03-02T00:00:00Z",
                                                                         "2025-04-06T00:00:00Z"});
}

TEST_CASE("a cron schedule for February 29 fires only in leap years") {
  CHECK(next_utc("0 0 29 2 *", "2025-01-01T00:00:00Z") == "2028-02-29T00:00:00Z");
  CHECK(next_utc("0 0 29 2 *", "2028-02-29T00:00:00Z") == "2032-02-29T00:00:00Z");
  // 2100 is not a leap year.
  CHECK(next_utc("0 0 29 2 *", "2096-03-01T00:00:00Z") == "2104-02-29T00:00:00Z");
  CHECK(next_utc("0 0 29 2 *", "2000-01-01T00:00:00Z") == "2000-02-29T00:00:00Z");
}

TEST_CASE("a cron schedule that fires decades apart is still found") {
  // February 29 on a Sunday: 2088, then 2128.
  CHECK(next_utc("0 0 29 2 */7", "2088-03-01T00:00:00Z") == "2128-02-29T00:00:00Z");
}

TEST_CASE("a cron fire time exactly at `after` is skipped for the following one") {
  CHECK(next_utc("*/5 * * * *", "2025-01-15T10:20:00Z") == "2025-01-15T10:25:00Z");
  CHECK(next_utc("0 0 * * *", "2025-01-16T00:00:00Z") == "2025-01-17T00:00:00Z");
  CHECK(next_utc("* * * * * *", "2025-01-15T10:20:00Z") == "2025-01-15T10:20:01Z");
  CHECK(next_utc("0 0 1 1 *", "2025-12-31T23:59:59Z") == "2026-01-01T00:00:00Z");
}

TEST_CASE("a fraction of a second in the cron search start is ignored") {
  const auto s = schedule("* * * * *");
  const auto t = utc("2025-01-15T10:17:59Z") + 999ms;
  CHECK(next_fire(s, TimeZone{}, t) == utc("2025-01-15T10:18:00Z"));
  const auto every_second = schedule("* * * * * *");
  CHECK(next_fire(every_second, TimeZone{}, utc("2025-01-15T10:17:30Z") + 500ms) ==
        utc("2025-01-15T10:17:31Z"));
}

TEST_CASE("next_fires lists cron fire times in order and stops at the count") {
  CHECK(next_utc("0 0 1 * *", kAfter, 3) == std::vector<std::string>{"2025-02-01T00:00:00Z",
                                                                     "2025-03-01T00:00:00Z",
                                                                     "2025-04-01T00:00:00Z"});
  CHECK(next_utc("0 0 1 * *", kAfter, 0).empty());
}

TEST_CASE("a cron schedule matches wall-clock times field by field") {
  const auto s = schedule("30 9 * * 1-5");
  const std::chrono::local_days wednesday{2025y / 1 / 15};
  const std::chrono::local_days saturday{2025y / 1 / 18};
  CHECK(s.matches(wednesday + 9h + 30min));
  CHECK_FALSE(s.matches(wednesday + 9h + 30min + 1s));
  CHECK_FALSE(s.matches(wednesday + 9h + 31min));
  CHECK_FALSE(s.matches(saturday + 9h + 30min));
  CHECK(s.next_match(saturday) == std::chrono::local_days{2025y / 1 / 20} + 9h + 30min);
}

TEST_CASE("the cron search gives up only near the year 9999") {
  const auto s = schedule("0 0 1 1 *");
  CHECK(s.next_match(std::chrono::local_days{9999y / 1 / 1}) ==
        std::chrono::local_days{9999y / 1 / 1});
  CHECK_FALSE(s.next_match(std::chrono::local_days{9999y / 6 / 1}).has_value());
}

TEST_CASE("a cron schedule keeps its text without surrounding blanks") {
  CHECK(schedule("  0 0\t* * *  ").text() == "0 0\t* * *");
  CHECK(schedule("0 0 * * *\n").text() == "0 0 * * *");
}

TEST_CASE("cron parse errors name the field and the bad token") {
  const std::vector<Case> cases = {
      {"61 * * * *", "minute field: 61 is out of range 0-59"},
      {"60 * * * * *", "second field: 60 is out of range 0-59"},
      {"0 24 * * *", "hour field: 24 is out of range 0-23"},
      {"0 0 0 * *", "day-of-month field: 0 is out of range 1-31"},
      {"0 0 32 * *", "day-of-month field: 32 is out of range 1-31"},
      {"0 0 * 13 *", "month field: 13 is out of range 1-12"},
      {"0 0 * * 8", "day-of-week field: 8 is out of range 0-7"},
      {"99999999999 * * * *", "minute field: 99999999999 is out of range 0-59"},
      {"* * * *", "expected 5 or 6 fields, got 4"},
      {"* * * * * * *", "expected 5 or 6 fields, got 7"},
      {"", "expected 5 or 6 fields, got 0"},
      {"0 0 * * FUNDAY", "day-of-week field: unknown name 'FUNDAY'"},
      {"0 0 * JANUARY *", "month field: unknown name 'JANUARY'"},
      {"0 0 * * MON-FUNDAY", "day-of-week field: unknown name 'FUNDAY'"},
      {"abc * * * *", "minute field: 'abc' is not a number"},
      {"5x * * * *", "minute field: '5x' is not a number"},
      {"0 0 * 1x *", "month field: '1x' is not a number or a name"},
      {"*/0 * * * *", "minute field: step 0 in '*/0' is out of range 1-59"},
      {"0 0-23/0 * * *", "hour field: step 0 in '0-23/0' is out of range 1-23"},
      {"*/60 * * * *", "minute field: step 60 in '*/60' is out of range 1-59"},
      {"*/x * * * *", "minute field: step 'x' in '*/x' is not a number"},
      {"*/ * * * *", "minute field: missing step after '/' in '*/'"},
      {"*/2/3 * * * *", "minute field: more than one '/' in '*/2/3'"},
      {"0 17-9 * * *",
       "hour field: range '17-9' is reversed; ranges do not wrap around (write it as two "
       "ranges)"},
      {"0 0 * * FRI-MON",
       "day-of-week field: range 'FRI-MON' is reversed; ranges do not wrap around (write it as "
       "two ranges)"},
      {"1,,2 * * * *", "minute field: empty list item"},
      {"1, * * * *", "minute field: empty list item"},
      {"5- * * * *", "minute field: missing number in '5-'"},
      {"-5 * * * *", "minute field: missing number in '-5'"},
      {"@reboot",
       "unknown macro '@reboot'; known: @yearly, @annually, @monthly, @weekly, @daily, "
       "@midnight, @hourly"},
      {"@daily 5", "unexpected '5' after '@daily'"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.expr);
    CHECK(parse_error(c.expr) == c.next);
  }
}

TEST_CASE("a cron schedule that can never fire is refused") {
  CHECK(parse_error("0 0 30 2 *") == "never fires: February has no day 30");
  CHECK(parse_error("0 0 30-31 FEB *") == "never fires: February has no day 30-31");
  CHECK(parse_error("0 0 31 4,6,9,11 *") ==
        "never fires: April, June, September and November have no day 31");
  CHECK(parse_error("0 0 31 2,4 */7") == "never fires: February and April have no day 31");
  CHECK(parse_error("0 0 29 2 *") == "(parsed)");
  CHECK(parse_error("0 0 31 2,3 *") == "(parsed)");
}
