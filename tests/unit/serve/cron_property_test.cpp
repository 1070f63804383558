// Random cron schedules checked against a slow scan that applies the rules
// directly: every minute (or second) after `t`, does the schedule fire then?
// The generator builds each expression together with the sets of values it
// should select, so the scan does not trust the parser either.

#include <date/tz.h>
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "cron_support.hpp"
#include "runbook/cron.hpp"

using std::chrono::local_seconds;
using std::chrono::sys_seconds;

namespace {

constexpr std::array<const char*, 12> kMonths = {"jan", "FEB", "Mar", "apr", "MAY", "jun",
                                                 "JUL", "aug", "Sep", "oct", "NOV", "dec"};
constexpr std::array<const char*, 7> kDays = {"SUN", "mon", "Tue", "wed", "THU", "fri", "Sat"};

struct Field {
  std::string text;
  uint64_t bits = 0;
};

// What a generated expression should mean.
struct Meaning {
  std::string text;
  uint64_t seconds = 1, minutes = 0, hours = 0, days_of_month = 0, months = 0, days_of_week = 0;
  bool day_of_month_star = false, day_of_week_star = false;
  bool has_seconds = false;
};

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  int between(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  // A field over [min, max], `*` with probability `star`; names[i] is min + i.
  Field field(int min, int max, double star, const char* const* names = nullptr,
              int name_count = 0) {
    if (chance(star)) return {"*", range_bits(min, max, 1)};
    Field f;
    const int items = between(1, 3);
    for (int i = 0; i < items; ++i) {
      if (i > 0) f.text += ",";
      const int a = between(min, max);
      const int b = between(a, max);
      const int step = between(1, std::max(1, (max - min) / 3));
      auto value = [&](int v) {
        const int index = v - min;
        if (names != nullptr && index < name_count && chance(0.5)) return std::string(names[index]);
        return std::to_string(v);
      };
      switch (between(0, 5)) {
        case 0:
          f.text += "*/" + std::to_string(step);
          f.bits |= range_bits(min, max, step);
          break;
        case 1:
          f.text += value(a);
          f.bits |= range_bits(a, a, 1);
          break;
        case 2:
          f.text += value(a) + "-" + value(b);
          f.bits |= range_bits(a, b, 1);
          break;
        case 3:
          f.text += value(a) + "-" + value(b) + "/" + std::to_string(step);
          f.bits |= range_bits(a, b, step);
          break;
        case 4:
          f.text += value(a) + "/" + std::to_string(step);
          f.bits |= range_bits(a, max, step);
          break;
        default:
          f.text += "*";
          f.bits |= range_bits(min, max, 1);
          break;
      }
    }
    return f;
  }

  Meaning schedule(bool with_seconds) {
    Meaning e;
    e.has_seconds = with_seconds;
    if (with_seconds) {
      Field s = field(0, 59, 0.4);
      e.seconds = s.bits;
      e.text = s.text + " ";
    }
    const Field minute = field(0, 59, 0.3);
    const Field hour = field(0, 23, 0.4);
    const Field day_of_month = field(1, 31, 0.6);
    const Field month = field(1, 12, 0.7, kMonths.data(), 12);
    Field day_of_week = field(0, 7, 0.6, kDays.data(), 7);
    e.text += minute.text + " " + hour.text + " " + day_of_month.text + " " + month.text + " " +
              day_of_week.text;
    e.minutes = minute.bits;
    e.hours = hour.bits;
    e.days_of_month = day_of_month.bits;
    e.months = month.bits;
    e.days_of_week = (day_of_week.bits & 0x7f) | (day_of_week.bits >> 7 & 1);
    e.day_of_month_star = day_of_month.text[0] == '*';
    e.day_of_week_star = day_of_week.text[0] == '*';
    return e;
  }

  std::mt19937& rng() { return rng_; }

 private:
  static uint64_t range_bits(int from, int to, int step) {
    uint64_t bits = 0;
    for (int v = from; v <= to; v += step) bits |= uint64_t{1} << v;
    return bits;
  }

  std::mt19937 rng_;
};

bool bit(uint64_t bits, unsigned n) {
  return (bits >> n & 1) != 0;
}

bool matches(const Meaning& e, local_seconds t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss clock{t - day};
  const bool day_of_month = bit(e.days_of_month, unsigned(date.day()));
  const bool day_of_week =
      bit(e.days_of_week, std::chrono::weekday{std::chrono::local_days{day}}.c_encoding());
  const bool day_ok = (e.day_of_month_star || e.day_of_week_star) ? day_of_month && day_of_week
                                                                  : day_of_month || day_of_week;
  return day_ok && bit(e.months, unsigned(date.month())) &&
         bit(e.hours, unsigned(clock.hours().count())) &&
         bit(e.minutes, unsigned(clock.minutes().count())) &&
         bit(e.seconds, unsigned(clock.seconds().count()));
}

// Whether the schedule fires at instant `u` by the rules in cron.hpp: a
// matching wall-clock time at `u` that is not a repeat, or a matching time
// in a gap that ends at `u`.
bool fires_at(const Meaning& e, const date::time_zone* zone, sys_seconds u) {
  if (zone == nullptr) return matches(e, local_seconds{u.time_since_epoch()});
  const date::sys_info info = zone->get_info(u);
  const local_seconds local = local_seconds{u.time_since_epoch()} + info.offset;
  const date::local_info seen = zone->get_info(date::local_seconds{local.time_since_epoch()});
  const bool repeat = seen.result == date::local_info::ambiguous && u >= seen.second.begin;
  if (!repeat && matches(e, local)) return true;
  if (info.begin != u) return false;
  const date::sys_info before = zone->get_info(u - std::chrono::seconds{1});
  const std::chrono::seconds tick{e.has_seconds ? 1 : 60};
  for (local_seconds skipped = local_seconds{u.time_since_epoch()} + before.offset; skipped < local;
       skipped += tick) {
    if (matches(e, skipped)) return true;
  }
  return false;
}

// Checks next_fire against the scan for `steps` fires in a row from `t`.
void check_against_scan(const Meaning& e, const date::time_zone* date_zone,
                        const runbook::TimeZone& zone, sys_seconds t, int steps) {
  auto parsed = runbook::CronSchedule::parse(e.text);
  if (!parsed) {
    // Only a day that no chosen month has may be refused.
    REQUIRE(parsed.error().starts_with("never fires: "));
    REQUIRE((e.day_of_month_star || e.day_of_week_star));
    return;
  }
  const std::chrono::seconds tick{e.has_seconds ? 1 : 60};
  const std::chrono::seconds window =
      e.has_seconds ? std::chrono::hours{3} : std::chrono::hours{72};
  for (int step = 0; step < steps; ++step) {
    const std::optional<sys_seconds> fire = next_fire(parsed.value(), zone, t);
    CAPTURE(runbook::cron_test::utc_text(t));
    CAPTURE(fire ? runbook::cron_test::utc_text(*fire) : "none");
    REQUIRE(fire.has_value());
    REQUIRE(*fire > t);
    REQUIRE(fires_at(e, date_zone, *fire));
    std::optional<sys_seconds> scanned;
    const sys_seconds first = e.has_seconds ? t : std::chrono::floor<std::chrono::minutes>(t);
    for (sys_seconds u = first + tick; u <= t + window; u += tick) {
      if (fires_at(e, date_zone, u)) {
        scanned = u;
        break;
      }
    }
    if (scanned) {
      REQUIRE(runbook::cron_test::utc_text(*fire) == runbook::cron_test::utc_text(*scanned));
    } else {
      REQUIRE(*fire > t + window);
      return;
    }
    t = *fire;
  }
}

sys_seconds random_instant(Generator& g) {
  const std::chrono::sys_days day{std::chrono::year{g.between(2000, 2036)} / g.between(1, 12) /
                                  g.between(1, 28)};
  sys_seconds t = day + std::chrono::seconds{g.between(0, 86'399)};
  if (g.chance(0.3)) t = std::chrono::floor<std::chrono::minutes>(t);
  return t;
}

}  // namespace

TEST_CASE("cron next_fire agrees with a minute-by-minute scan in UTC" * doctest::timeout(60)) {
  Generator g(20250115);
  for (int i = 0; i < 1500; ++i) {
    const Meaning e = g.schedule(false);
    CAPTURE(e.text);
    check_against_scan(e, nullptr, runbook::TimeZone{}, random_instant(g), 3);
  }
}

TEST_CASE("cron next_fire agrees with a second-by-second scan for six fields" *
          doctest::timeout(60)) {
  Generator g(7);
  for (int i = 0; i < 300; ++i) {
    const Meaning e = g.schedule(true);
    CAPTURE(e.text);
    check_against_scan(e, nullptr, runbook::TimeZone{}, random_instant(g), 3);
  }
}

TEST_CASE("cron next_fire agrees with a scan across daylight-saving changes in many zones" *
          doctest::timeout(120)) {
  const std::vector<const char*> zones = {
      "Europe/Berlin",    "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham",
      "America/St_Johns", "Asia/Tehran",      "America/Havana",      "Africa/Casablanca",
      "America/Santiago", "Pacific/Apia",     "Europe/London",       "Australia/Sydney",
      "Asia/Kolkata"};
  Generator g(42);
  for (int i = 0; i < 2000; ++i) {
    const char* name = zones[static_cast<size_t>(g.between(0, int(zones.size()) - 1))];
    const runbook::TimeZone zone = runbook::cron_test::zone(name);
    const date::time_zone* date_zone = date::locate_zone(name);
    // Start up to two days before one of the zone's changes, so that most
    // windows cross one, and often exactly at or just before it.
    const sys_seconds change = date_zone->get_info(random_instant(g)).end;
    sys_seconds t = change - std::chrono::seconds{g.between(0, 2 * 86'400)};
    if (g.chance(0.3)) t = std::chrono::floor<std::chrono::minutes>(t);
    if (g.chance(0.2)) t = change - std::chrono::seconds{g.between(0, 1)};
    if (change.time_since_epoch() > std::chrono::hours{24 * 365 * 70}) t = random_instant(g);
    Meaning e = g.schedule(g.chance(0.1));
    CAPTURE(name);
    CAPTURE(e.text);
    check_against_scan(e, date_zone, zone, t, 4);
  }
}
