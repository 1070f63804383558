#include "serve/zone_rules.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

namespace runbook {
namespace {

using std::chrono::days;
using std::chrono::local_seconds;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

// Before and after everything: far enough for any date a schedule can reach,
// near enough that adding a few days cannot overflow.
constexpr sys_seconds kBeforeAll{seconds{-(int64_t{1} << 50)}};
constexpr sys_seconds kAfterAll{seconds{int64_t{1} << 50}};

// Reads the TZ string grammar of POSIX (with RFC 8536's extension: hours of a
// transition time from -167 to 167).
class TzStringReader {
 public:
  explicit TzStringReader(std::string_view s) : s_(s) {}

  bool at_end() const { return pos_ == s_.size(); }
  bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool take(char c) {
    if (!peek(c)) return false;
    ++pos_;
    return true;
  }
  bool peek_offset() const {
    return pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-' ||
                                std::isdigit(static_cast<unsigned char>(s_[pos_])));
  }

  // "CET" or "<+0530>".
  bool name() {
    size_t start = pos_;
    if (take('<')) {
      while (pos_ < s_.size() && s_[pos_] != '>') ++pos_;
      if (!take('>')) return false;
      return pos_ - start >= 5;  // '<', three characters, '>'
    }
    while (pos_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    return pos_ - start >= 3;
  }

  std::optional<int> number(int max_digits) {
    int value = 0, digits = 0;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_])) &&
           digits < max_digits) {
      value = value * 10 + (s_[pos_++] - '0');
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    return value;
  }

  // [+-]hh[:mm[:ss]], hours up to `max_hours`.
  std::optional<seconds> duration(int max_hours) {
    int sign = 1;
    if (take('-')) {
      sign = -1;
    } else {
      take('+');
    }
    std::optional<int> h = number(3);
    if (!h || *h > max_hours) return std::nullopt;
    int m = 0, sec = 0;
    if (take(':')) {
      std::optional<int> mm = number(2);
      if (!mm || *mm > 59) return std::nullopt;
      m = *mm;
      if (take(':')) {
        std::optional<int> ss = number(2);
        if (!ss || *ss > 59) return std::nullopt;
        sec = *ss;
      }
    }
    return seconds{sign * (*h * 3600 + m * 60 + sec)};
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

bool is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int32_t read_be32(const unsigned char* p) {
  return static_cast<int32_t>(uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 |
                              uint32_t{p[3]});
}

int64_t read_be64(const unsigned char* p) {
  return static_cast<int64_t>(uint64_t(uint32_t(read_be32(p))) << 32 |
                              uint64_t(uint32_t(read_be32(p + 4))));
}

}  // namespace

// ---- POSIX TZ rules --------------------------------------------------------

Expected<PosixZoneRule, std::string> PosixZoneRule::parse(std::string_view text) {
  const std::string bad = "invalid TZ rule '" + std::string(text) + "'";
  TzStringReader r(text);
  PosixZoneRule rule;
  if (!r.name()) return bad;
  std::optional<seconds> std_west = r.duration(24);
  if (!std_west) return bad;
  rule.std_offset_ = -*std_west;  // POSIX offsets count west of Greenwich
  if (r.at_end()) return rule;
  if (!r.name()) return bad;
  rule.has_dst_ = true;
  rule.dst_offset_ = rule.std_offset_ + std::chrono::hours{1};
  if (r.peek_offset()) {
    std::optional<seconds> dst_west = r.duration(24);
    if (!dst_west) return bad;
    rule.dst_offset_ = -*dst_west;
  }
  auto change = [&](Change& c) {
    if (!r.take(',')) return false;
    if (r.take('J')) {
      std::optional<int> n = r.number(3);
      if (!n || *n < 1 || *n > 365) return false;
      c.date = {Date::Kind::julian_no_leap, *n, 0, 0};
    } else if (r.take('M')) {
      std::optional<int> m = r.number(2);
      if (!m || *m < 1 || *m > 12 || !r.take('.')) return false;
      std::optional<int> w = r.number(1);
      if (!w || *w < 1 || *w > 5 || !r.take('.')) return false;
      std::optional<int> d = r.number(1);
      if (!d || *d > 6) return false;
      c.date = {Date::Kind::month_week_day, *d, *m, *w};
    } else {
      std::optional<int> n = r.number(3);
      if (!n || *n > 365) return false;
      c.date = {Date::Kind::julian, *n, 0, 0};
    }
    if (r.take('/')) {
      std::optional<seconds> t = r.duration(167);
      if (!t) return false;
      c.time = *t;
    }
    return true;
  };
  if (r.at_end()) {
    // No rule given: the United States' since 2007, as tzcode does.
    rule.start_.date = {Date::Kind::month_week_day, 0, 3, 2};
    rule.end_.date = {Date::Kind::month_week_day, 0, 11, 1};
    return rule;
  }
  if (!change(rule.start_) || !change(rule.end_) || !r.at_end()) return bad;
  return rule;
}

sys_seconds PosixZoneRule::instant(const Change& c, int year, seconds offset) {
  using namespace std::chrono;
  const sys_days jan1 = sys_days{std::chrono::year{year} / January / 1};
  sys_days day = jan1;
  switch (c.date.kind) {
    case Date::Kind::julian_no_leap:
      day = jan1 + days{c.date.day - 1 + (is_leap(year) && c.date.day >= 60 ? 1 : 0)};
      break;
    case Date::Kind::julian:
      day = jan1 + days{c.date.day};
      break;
    case Date::Kind::month_week_day: {
      const auto ym = std::chrono::year{year} / month{unsigned(c.date.month)};
      const sys_days first = sys_days{ym / 1};
      const unsigned first_weekday = weekday{first}.c_encoding();
      int dom = 1 + (c.date.day - int(first_weekday) + 7) % 7 + (c.date.week - 1) * 7;
      const int last_day = int(unsigned(year_month_day_last{ym / std::chrono::last}.day()));
      while (dom > last_day) dom -= 7;
      day = first + days{dom - 1};
      break;
    }
  }
  return sys_seconds{day.time_since_epoch()} + c.time - offset;
}

ZoneSpan PosixZoneRule::at(sys_seconds t) const {
  if (!has_dst_) return {kBeforeAll, kAfterAll, std_offset_};
  const int year =
      int(std::chrono::year_month_day{std::chrono::floor<days>(t + std_offset_)}.year());
  // The changes of the year before, of this year and of the next, in order.
  std::array<std::pair<sys_seconds, seconds>, 6> changes;
  for (int i = 0; i < 3; ++i) {
    changes[2 * i] = {instant(start_, year - 1 + i, std_offset_), dst_offset_};
    changes[2 * i + 1] = {instant(end_, year - 1 + i, dst_offset_), std_offset_};
  }
  std::stable_sort(changes.begin(), changes.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  auto after = std::upper_bound(changes.begin(), changes.end(), t,
                                [](sys_seconds v, const auto& c) { return v < c.first; });
  if (after == changes.begin()) return {kBeforeAll, after->first, std_offset_};  // not reached
  const auto& in_force = *(after - 1);
  return {in_force.first, after == changes.end() ? kAfterAll : after->first, in_force.second};
}

// ---- TZif files ------------------------------------------------------------

Expected<std::shared_ptr<const ZoneRules>, std::string> ZoneRules::parse(std::string_view data) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  const size_t size = data.size();
  constexpr size_t kHeader = 44;
  if (size < kHeader || data.substr(0, 4) != "TZif") return std::string("not a TZif file");
  struct Counts {
    size_t isut, isstd, leap, time, type, chars;
  };
  auto counts_at = [&](size_t at) {
    const unsigned char* p = bytes + at + 20;
    return Counts{size_t(uint32_t(read_be32(p))),      size_t(uint32_t(read_be32(p + 4))),
                  size_t(uint32_t(read_be32(p + 8))),  size_t(uint32_t(read_be32(p + 12))),
                  size_t(uint32_t(read_be32(p + 16))), size_t(uint32_t(read_be32(p + 20)))};
  };
  auto block_size = [](const Counts& c, size_t time_size) {
    return c.time * time_size + c.time + c.type * 6 + c.chars + c.leap * (time_size + 4) + c.isstd +
           c.isut;
  };
  const char version = data[4];
  Counts c = counts_at(0);
  size_t at = kHeader;
  size_t time_size = 4;
  if (version >= '2') {
    at += block_size(c, 4);  // skip the 32-bit data: the 64-bit block follows
    if (at + kHeader > size || data.substr(at, 4) != "TZif") return std::string("truncated");
    c = counts_at(at);
    at += kHeader;
    time_size = 8;
  }
  if (c.type == 0 || c.type > 256 || c.time > 100000 || at + block_size(c, time_size) > size)
    return std::string("truncated or inconsistent");

  auto rules = std::make_shared<ZoneRules>();
  const unsigned char* times = bytes + at;
  const unsigned char* indices = times + c.time * time_size;
  const unsigned char* types = indices + c.time;
  auto type_offset = [&](size_t i) { return read_be32(types + i * 6); };
  for (size_t i = 0; i < c.type; ++i) {
    // RFC 8536's range: a day either way of UTC, which at_local relies on.
    if (type_offset(i) < -89999 || type_offset(i) > 93599)
      return std::string("a UTC offset out of range");
  }
  if (c.leap > 0) return std::string("leap-second zones (right/…) are not supported");
  for (size_t i = 0; i < c.time; ++i) {
    const int64_t t = time_size == 8 ? read_be64(times + i * 8) : read_be32(times + i * 4);
    if (!rules->transitions_.empty() && t <= rules->transitions_.back())
      return std::string("transitions out of order");
    if (indices[i] >= c.type) return std::string("a transition names an unknown type");
    rules->transitions_.push_back(t);
    rules->offset_after_.push_back(type_offset(indices[i]));
  }
  rules->offset_before_ = type_offset(0);

  at += block_size(c, time_size);
  if (time_size == 8 && at < size && data[at] == '\n') {
    const size_t end = data.find('\n', at + 1);
    if (end == std::string_view::npos) return std::string("unterminated TZ rule");
    const std::string_view footer = data.substr(at + 1, end - at - 1);
    if (!footer.empty()) {
      Expected<PosixZoneRule, std::string> rule = PosixZoneRule::parse(footer);
      if (!rule) return rule.error();
      rules->rule_ = std::make_shared<const PosixZoneRule>(rule.value());
    }
  }
  return std::shared_ptr<const ZoneRules>(std::move(rules));
}

ZoneSpan ZoneRules::at(sys_seconds t) const {
  const int64_t s = t.time_since_epoch().count();
  auto after = std::upper_bound(transitions_.begin(), transitions_.end(), s);
  if (after == transitions_.begin()) {
    if (transitions_.empty() && rule_) return rule_->at(t);
    const sys_seconds end =
        transitions_.empty() ? kAfterAll : sys_seconds{seconds{transitions_[0]}};
    return {kBeforeAll, end, seconds{offset_before_}};
  }
  const size_t i = size_t(after - transitions_.begin()) - 1;
  const sys_seconds begin{seconds{transitions_[i]}};
  if (after != transitions_.end())
    return {begin, sys_seconds{seconds{*after}}, seconds{offset_after_[i]}};
  if (!rule_) return {begin, kAfterAll, seconds{offset_after_[i]}};
  ZoneSpan span = rule_->at(t);
  span.begin = std::max(span.begin, begin);
  return span;
}

LocalSpans ZoneRules::at_local(local_seconds t) const {
  // Offsets are within a day of UTC: the spans that can hold an instant of
  // `t` all meet the two days around it.
  const seconds x = t.time_since_epoch();
  std::vector<ZoneSpan> spans{at(sys_seconds{x - days{2}})};
  while (spans.back().end < sys_seconds{x + days{2}} && spans.size() < 64)
    spans.push_back(at(spans.back().end));
  LocalSpans out;
  int found = 0;
  for (const ZoneSpan& span : spans) {
    const sys_seconds instant{x - span.offset};
    if (instant < span.begin || instant >= span.end) continue;
    (found++ == 0 ? out.first : out.second) = span;
    if (found == 2) break;
  }
  if (found == 1) return out;
  if (found == 2) {
    out.kind = LocalSpans::Kind::ambiguous;
    return out;
  }
  for (size_t i = 0; i + 1 < spans.size(); ++i) {
    if (sys_seconds{x - spans[i].offset} >= spans[i].end &&
        sys_seconds{x - spans[i + 1].offset} < spans[i + 1].begin) {
      out.kind = LocalSpans::Kind::nonexistent;
      out.first = spans[i];
      out.second = spans[i + 1];
      return out;
    }
  }
  // Not reached with offsets in range (parse checks them): read it by the
  // offset in force at the same UTC clock reading.
  out.first = at(sys_seconds{x});
  return out;
}

}  // namespace runbook
