// Time zones for cron schedules, from the system's tz database
// (/usr/share/zoneinfo) through Howard Hinnant's date library built with
// USE_OS_TZDB: nothing is ever downloaded.

#include <date/tz.h>

#include <chrono>
#include <exception>
#include <string>

#include "runbook/cron.hpp"

namespace runbook {

Expected<TimeZone, std::string> TimeZone::find(std::string_view name) {
  // UTC needs no database, so that the default works on a machine without
  // tzdata.
  if (name == "UTC") return TimeZone{};
  if (name.empty()) return std::string("empty time zone name");
  try {
    date::get_tzdb();
  } catch (const std::exception& e) {
    return std::string("cannot read the time zone database: ") + e.what();
  }
  TimeZone zone;
  try {
    zone.zone_ = date::locate_zone(name);
    // The zone's file is read on first use; read it now so that a broken one
    // is reported here rather than when the schedule is first computed.
    zone.zone_->get_info(std::chrono::sys_seconds{});
  } catch (const std::exception&) {
    return "unknown time zone '" + std::string(name) + "'";
  }
  return zone;
}

std::string_view TimeZone::name() const {
  if (zone_ == nullptr) return "UTC";
  return zone_->name();
}

std::chrono::local_seconds TimeZone::to_local(std::chrono::sys_seconds t) const {
  if (zone_ == nullptr) return std::chrono::local_seconds{t.time_since_epoch()};
  return std::chrono::local_seconds{t.time_since_epoch()} + zone_->get_info(t).offset;
}

std::string TimeZone::format(std::chrono::sys_seconds t) const {
  const std::chrono::seconds offset =
      zone_ == nullptr ? std::chrono::seconds{0} : zone_->get_info(t).offset;
  const date::local_seconds local{t.time_since_epoch() + offset};
  std::string out = date::format("%Y-%m-%dT%H:%M:%S", local);
  // Offsets are whole minutes in every zone since the 1970s.
  const int minutes = static_cast<int>(std::chrono::floor<std::chrono::minutes>(offset).count());
  const int magnitude = minutes < 0 ? -minutes : minutes;
  auto two_digits = [](int n) { return std::string(n < 10 ? "0" : "") + std::to_string(n); };
  return out + (minutes < 0 ? "-" : "+") + two_digits(magnitude / 60) + ":" +
         two_digits(magnitude % 60);
}

}  // namespace runbook
