// Time zones for cron schedules, from the system's tz database: the TZif file
// of the zone under /usr/share/zoneinfo (or $TZDIR). Nothing is downloaded.

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "runbook/cron.hpp"
#include "serve/zone_rules.hpp"
#include "util/files.hpp"

namespace runbook {
namespace {

constexpr size_t kMaxZoneFileBytes = 1024 * 1024;

// "Europe/Berlin", "Etc/GMT+5", "America/Argentina/Buenos_Aires": path
// components of letters, digits, '_', '-' and '+', none of them "." or "..".
bool plausible_zone_name(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.back() == '/') return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '+' || c == '.';
      if (!ok) return false;
    }
    start = end + 1;
  }
  return true;
}

}  // namespace

Expected<TimeZone, std::string> TimeZone::find(std::string_view name) {
  // UTC needs no database, so that the default works on a machine without
  // tzdata.
  if (name == "UTC") return TimeZone{};
  if (name.empty()) return std::string("empty time zone name");
  const std::string unknown = "unknown time zone '" + std::string(name) + "'";
  if (!plausible_zone_name(name)) return unknown;
  const char* tzdir = std::getenv("TZDIR");
  const std::string dir = tzdir && *tzdir ? tzdir : "/usr/share/zoneinfo";
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return "cannot read the time zone database " + dir + ": " + std::strerror(errno);
  const std::string path = dir + "/" + std::string(name);
  std::string error;
  std::optional<std::string> data = read_small_file(path, kMaxZoneFileBytes, &error);
  if (!data) {
    // A directory (Europe) or a device is no zone either.
    if (errno == ENOENT || errno == ENOTDIR || errno == EINVAL) return unknown;
    return "cannot read time zone '" + std::string(name) + "' (" + path + "): " + error;
  }
  Expected<std::shared_ptr<const ZoneRules>, std::string> rules = ZoneRules::parse(*data);
  if (!rules) {
    if (rules.error() == "not a TZif file") return unknown;
    return "cannot read time zone '" + std::string(name) + "' (" + path + "): " + rules.error();
  }
  TimeZone zone;
  zone.name_ = std::string(name);
  zone.zone_ = rules.value();
  return zone;
}

std::string_view TimeZone::name() const {
  return name_;
}

std::chrono::local_seconds TimeZone::to_local(std::chrono::sys_seconds t) const {
  const std::chrono::seconds offset = zone_ ? zone_->at(t).offset : std::chrono::seconds{0};
  return std::chrono::local_seconds{t.time_since_epoch() + offset};
}

std::string TimeZone::format(std::chrono::sys_seconds t) const {
  using namespace std::chrono;
  const seconds offset = zone_ ? zone_->at(t).offset : seconds{0};
  const seconds local = t.time_since_epoch() + offset;
  const sys_days day = floor<days>(sys_seconds{local});
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> time{local - day.time_since_epoch()};
  // Offsets are whole minutes in every zone since the 1970s.
  const int minutes = static_cast<int>(floor<std::chrono::minutes>(offset).count());
  const int magnitude = minutes < 0 ? -minutes : minutes;
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(time.hours().count()),
                int(time.minutes().count()), int(time.seconds().count()), minutes < 0 ? '-' : '+',
                magnitude / 60, magnitude % 60);
  return text;
}

}  // namespace runbook
