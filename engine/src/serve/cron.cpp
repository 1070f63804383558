// Parsing cron expressions into bit sets, one per field. The search for the
// next matching time is in cron_search.cpp; time zones in time_zone.cpp.

#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runbook/cron.hpp"

namespace runbook {

namespace {

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames = {"SUN", "MON", "TUE", "WED",
                                                       "THU", "FRI", "SAT"};
constexpr std::array<std::string_view, 12> kMonthFullNames = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

// One field of an expression: its name for messages, its range, and the names
// that may stand for its numbers (names[i] is min + i).
struct FieldSpec {
  std::string_view name;
  int min;
  int max;
  std::span<const std::string_view> names;
};

constexpr FieldSpec kSecond{"second", 0, 59, {}};
constexpr FieldSpec kMinute{"minute", 0, 59, {}};
constexpr FieldSpec kHour{"hour", 0, 23, {}};
constexpr FieldSpec kDayOfMonth{"day-of-month", 1, 31, {}};
constexpr FieldSpec kMonth{"month", 1, 12, kMonthNames};
constexpr FieldSpec kDayOfWeek{"day-of-week", 0, 7, kDayNames};

struct Macro {
  std::string_view name;
  std::string_view expansion;
};

constexpr std::array<Macro, 7> kMacros = {{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

struct ParsedField {
  uint64_t bits = 0;
  bool star = false;  // the field's text starts with '*' (the day rule)
};

// A number or a name in a field, and whether it was a name.
struct ParsedValue {
  int value = 0;
  bool named = false;
};

std::string field_error(const FieldSpec& spec, std::string_view message) {
  std::string out(spec.name);
  out += " field: ";
  out += message;
  return out;
}

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool is_letters(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto upper = [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; };
    if (upper(a[i]) != upper(b[i])) return false;
  }
  return true;
}

std::string range_text(const FieldSpec& spec) {
  return std::to_string(spec.min) + "-" + std::to_string(spec.max);
}

// Reads a whole number (no sign) without overflowing: anything with more than
// four digits is out of range for every field anyway.
int read_number(std::string_view digits) {
  if (digits.size() > 4) return 99999;
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

Expected<ParsedValue, std::string> parse_value(std::string_view token, const FieldSpec& spec,
                                               std::string_view item) {
  if (token.empty()) return field_error(spec, "missing number in " + quoted(item));
  if (is_digits(token)) {
    const int value = read_number(token);
    if (value < spec.min || value > spec.max) {
      return field_error(spec, std::string(token) + " is out of range " + range_text(spec));
    }
    return ParsedValue{value, false};
  }
  if (spec.names.empty()) return field_error(spec, quoted(token) + " is not a number");
  if (!is_letters(token)) {
    return field_error(spec, quoted(token) + " is not a number or a name");
  }
  for (size_t i = 0; i < spec.names.size(); ++i) {
    if (equals_ignoring_case(token, spec.names[i])) {
      return ParsedValue{spec.min + static_cast<int>(i), true};
    }
  }
  return field_error(spec, "unknown name " + quoted(token));
}

// One list item: `*`, `N`, `A-B`, with an optional `/S`.
Expected<uint64_t, std::string> parse_item(std::string_view item, const FieldSpec& spec) {
  if (item.empty()) return field_error(spec, "empty list item");

  std::string_view range = item;
  std::optional<int> step;
  if (const size_t slash = item.find('/'); slash != std::string_view::npos) {
    range = item.substr(0, slash);
    const std::string_view step_text = item.substr(slash + 1);
    if (step_text.find('/') != std::string_view::npos) {
      return field_error(spec, "more than one '/' in " + quoted(item));
    }
    if (step_text.empty()) return field_error(spec, "missing step after '/' in " + quoted(item));
    if (!is_digits(step_text)) {
      return field_error(spec,
                         "step " + quoted(step_text) + " in " + quoted(item) + " is not a number");
    }
    step = read_number(step_text);
    const int largest = spec.max - spec.min;
    if (*step < 1 || *step > largest) {
      return field_error(spec, "step " + std::string(step_text) + " in " + quoted(item) +
                                   " is out of range 1-" + std::to_string(largest));
    }
  }

  int first = spec.min;
  int last = spec.max;
  if (range != "*") {
    const size_t dash = range.find('-');
    auto start = parse_value(range.substr(0, dash), spec, item);
    if (!start) return start.error();
    first = start.value().value;
    if (dash == std::string_view::npos) {
      // `A/S` runs to the end of the field; a bare `A` is just A.
      last = step ? spec.max : first;
    } else {
      auto end = parse_value(range.substr(dash + 1), spec, item);
      if (!end) return end.error();
      last = end.value().value;
      // `FRI-SUN` reads as Friday to Sunday, not as a reversed range.
      if (&spec == &kDayOfWeek && end.value().named && last == 0 && first > 0) last = 7;
      if (first > last) {
        return field_error(spec, "range " + quoted(range) +
                                     " is reversed; ranges do not wrap around (write it as "
                                     "two ranges)");
      }
    }
  }

  uint64_t bits = 0;
  for (int v = first; v <= last; v += step.value_or(1)) bits |= uint64_t{1} << v;
  return bits;
}

Expected<ParsedField, std::string> parse_field(std::string_view text, const FieldSpec& spec) {
  ParsedField field;
  field.star = text.front() == '*';
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    auto bits = parse_item(item, spec);
    if (!bits) return bits.error();
    field.bits |= bits.value();
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return field;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::vector<std::string_view> split_blanks(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_blank(text[i])) ++i;
    const size_t begin = i;
    while (i < text.size() && !is_blank(text[i])) ++i;
    if (i > begin) words.push_back(text.substr(begin, i - begin));
  }
  return words;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// The longest each month can be (February 29 exists in leap years).
constexpr std::array<int, 13> kLongestMonth = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

// Why a schedule whose two day fields must both match can never fire: no
// chosen month is long enough for any chosen day. Nothing otherwise, since a
// date that exists falls on every weekday over the years.
std::optional<std::string> never_fires(uint32_t months, uint32_t days_of_month,
                                       std::string_view day_of_month_text) {
  const int first_day = std::countr_zero(days_of_month);
  std::vector<std::string_view> short_months;
  for (int m = 1; m <= 12; ++m) {
    if ((months >> m & 1) == 0) continue;
    if (first_day <= kLongestMonth[m]) return std::nullopt;
    short_months.push_back(kMonthFullNames[m - 1]);
  }
  std::string names;
  for (size_t i = 0; i < short_months.size(); ++i) {
    if (i > 0) names += i + 1 == short_months.size() ? " and " : ", ";
    names += short_months[i];
  }
  return "never fires: " + names + (short_months.size() == 1 ? " has" : " have") + " no day " +
         std::string(day_of_month_text);
}

}  // namespace

Expected<CronSchedule, std::string> CronSchedule::parse(std::string_view text) {
  text = trim(text);
  std::vector<std::string_view> fields = split_blanks(text);

  if (!fields.empty() && fields.front().starts_with('@')) {
    const Macro* macro = nullptr;
    for (const Macro& m : kMacros) {
      if (equals_ignoring_case(fields.front(), m.name)) macro = &m;
    }
    if (macro == nullptr) {
      return "unknown macro " + quoted(fields.front()) +
             "; known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly";
    }
    if (fields.size() > 1) {
      return "unexpected " + quoted(fields[1]) + " after " + quoted(fields.front());
    }
    auto expanded = parse(macro->expansion);
    if (!expanded) return expanded.error();
    CronSchedule schedule = std::move(expanded).value();
    schedule.text_ = std::string(text);
    return schedule;
  }

  if (fields.size() != 5 && fields.size() != 6) {
    return "expected 5 or 6 fields, got " + std::to_string(fields.size());
  }
  const bool has_seconds = fields.size() == 6;
  const size_t first = has_seconds ? 1 : 0;

  CronSchedule schedule;
  schedule.text_ = std::string(text);
  schedule.seconds_ = 1;  // five fields fire at second 0
  if (has_seconds) {
    auto seconds = parse_field(fields[0], kSecond);
    if (!seconds) return seconds.error();
    schedule.seconds_ = seconds.value().bits;
  }
  auto minutes = parse_field(fields[first], kMinute);
  if (!minutes) return minutes.error();
  auto hours = parse_field(fields[first + 1], kHour);
  if (!hours) return hours.error();
  auto days_of_month = parse_field(fields[first + 2], kDayOfMonth);
  if (!days_of_month) return days_of_month.error();
  auto months = parse_field(fields[first + 3], kMonth);
  if (!months) return months.error();
  auto days_of_week = parse_field(fields[first + 4], kDayOfWeek);
  if (!days_of_week) return days_of_week.error();

  schedule.minutes_ = minutes.value().bits;
  schedule.hours_ = static_cast<uint32_t>(hours.value().bits);
  schedule.days_of_month_ = static_cast<uint32_t>(days_of_month.value().bits);
  schedule.months_ = static_cast<uint32_t>(months.value().bits);
  uint64_t weekdays = days_of_week.value().bits;
  if (weekdays >> 7 & 1) weekdays = (weekdays & 0x7f) | 1;  // 7 is Sunday too
  schedule.days_of_week_ = static_cast<uint32_t>(weekdays);
  schedule.day_of_month_star_ = days_of_month.value().star;
  schedule.day_of_week_star_ = days_of_week.value().star;

  // With both day fields restricted either may match, and every month has
  // every weekday, so the schedule fires. Otherwise both must match, and the
  // chosen days may not exist in the chosen months.
  if (schedule.day_of_month_star_ || schedule.day_of_week_star_) {
    if (auto reason = never_fires(schedule.months_, schedule.days_of_month_, fields[first + 2])) {
      return *reason;
    }
  }
  return schedule;
}

}  // namespace runbook
