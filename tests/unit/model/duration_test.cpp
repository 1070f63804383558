#include <doctest/doctest.h>

#include "runbook/duration.hpp"

using namespace std::chrono_literals;
using runbook::Duration;
using runbook::format_duration;
using runbook::parse_duration;

TEST_CASE("durations parse in every unit") {
  CHECK(parse_duration("250ms") == Duration{250});
  CHECK(parse_duration("30s") == Duration{30s});
  CHECK(parse_duration("5m") == Duration{5min});
  CHECK(parse_duration("1h30m") == Duration{90min});
  CHECK(parse_duration("2d") == Duration{48h});
  CHECK(parse_duration("1d2h3m4s5ms") == Duration{26h + 3min + 4s + 5ms});
}

TEST_CASE("a bare number of a duration is seconds, decimals allowed") {
  CHECK(parse_duration("30") == Duration{30s});
  CHECK(parse_duration("0") == Duration{0});
  CHECK(parse_duration("1.5") == Duration{1500});
  CHECK(parse_duration("1.5s") == Duration{1500});
  CHECK(parse_duration("1.5h") == Duration{90min});
  CHECK(parse_duration(".5s") == Duration{500});
  CHECK(parse_duration(" 10s ") == Duration{10s});
}

TEST_CASE("malformed durations are refused") {
  for (const char* bad : {"", "soon", "-5s", "5x", "s", "5 s", "1h30", "30m1h", "5m5m", "1.2.3s",
                          "5sec", "1e3s", "99999999999999d"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
}

TEST_CASE("durations format as the shortest text that parses back") {
  CHECK(format_duration(Duration{0}) == "0s");
  CHECK(format_duration(Duration{250}) == "250ms");
  CHECK(format_duration(Duration{90min}) == "1h30m");
  CHECK(format_duration(Duration{48h}) == "2d");
  CHECK(format_duration(Duration{1500}) == "1s500ms");
  for (int64_t ms : {0L, 1L, 999L, 1000L, 61001L, 3600000L, 90061001L, 172800000L}) {
    CAPTURE(ms);
    CHECK(parse_duration(format_duration(Duration{ms})) == Duration{ms});
  }
}
