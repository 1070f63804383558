// A thin, header-only C++ layer over runbook/plugin.h for plugin authors: a
// small JSON value for `with` and the context, wrappers of the host
// callbacks, and the entry point in one macro. Needs C++17 and nothing else.
//
//   #include <runbook/plugin.hpp>
//
//   void check(const runbook::sdk::Json& with, runbook::sdk::Validation& v) {
//     if (!with.get("name").is_string()) v.error("name", "must be a string");
//   }
//   runbook_status greet(runbook::sdk::Attempt& a) {
//     a.log("hello, " + a.with().get("name").as_string() + "\n");
//     a.output("greeted", "yes");
//     return RUNBOOK_SUCCEEDED;
//   }
//   static const runbook_step_kind kinds[] = {
//       runbook::sdk::step_kind<check, greet>("greet", "says hello")};
//   RUNBOOK_PLUGIN("greet", "1.0.0", kinds)
#pragma once

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "runbook/plugin.h"

namespace runbook::sdk {

// A JSON value. Numbers that are integers in the text are kept as int64.
class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::map<std::string, Json>;

  Json() = default;
  Json(bool b) : v_(b) {}
  Json(int i) : v_(int64_t{i}) {}
  Json(int64_t i) : v_(i) {}
  Json(double d) : v_(d) {}
  Json(std::string s) : v_(std::move(s)) {}
  Json(const char* s) : v_(std::string(s)) {}  // not the bool a pointer would become
  Json(Array a) : v_(std::move(a)) {}
  Json(Object o) : v_(std::move(o)) {}

  bool is_null() const { return v_.index() == 0; }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_int() const { return std::holds_alternative<int64_t>(v_); }
  bool is_number() const { return is_int() || std::holds_alternative<double>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_array() const { return std::holds_alternative<Array>(v_); }
  bool is_object() const { return std::holds_alternative<Object>(v_); }

  // The wrong accessor throws std::bad_variant_access (caught by the
  // trampolines below and reported as a failure).
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_number() const { return is_int() ? double(as_int()) : std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const Array& as_array() const { return std::get<Array>(v_); }
  const Object& as_object() const { return std::get<Object>(v_); }

  // The member `key` of an object; null when absent or not an object.
  const Json& get(std::string_view key) const {
    static const Json null;
    if (!is_object()) return null;
    auto it = as_object().find(std::string(key));
    return it == as_object().end() ? null : it->second;
  }
  bool has(std::string_view key) const {
    return is_object() && as_object().count(std::string(key)) > 0;
  }

  // True for a string holding `${{`: in `validate`, a value the engine
  // resolves only at run time, whose type cannot be checked yet.
  bool is_deferred() const { return is_string() && as_string().find("${{") != std::string::npos; }

  // How the value reads as text: strings as they are, others as JSON.
  std::string to_text() const { return is_string() ? as_string() : dump(); }

  std::string dump() const {
    std::string out;
    write(out);
    return out;
  }

  // Parses JSON text into `out`; false (with `error` set) when it is not
  // valid.
  static bool parse(std::string_view text, Json& out, std::string* error = nullptr) {
    Parser p{text};
    if (p.value(out, 0)) {
      p.space();
      if (p.pos == text.size()) return true;
      p.why = "unexpected text after the value";
    }
    if (error) *error = p.why + " at offset " + std::to_string(p.pos);
    return false;
  }
  static std::optional<Json> parse(std::string_view text, std::string* error = nullptr) {
    Json value;
    if (!parse(text, value, error)) return std::nullopt;
    return value;
  }

 private:
  struct Parser {
    std::string_view s;
    size_t pos = 0;
    std::string why = "malformed JSON";

    void space() {
      while (pos < s.size() &&
             (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
        ++pos;
    }
    bool literal(std::string_view word) {
      if (s.substr(pos, word.size()) != word) return false;
      pos += word.size();
      return true;
    }
    bool value(Json& out, int depth) {
      if (depth > 256) return fail("nested too deeply");
      space();
      if (pos >= s.size()) return fail("unexpected end");
      char c = s[pos];
      if (c == '{') return object(out, depth);
      if (c == '[') return array(out, depth);
      if (c == '"') {
        std::string str;
        if (!string(str)) return false;
        out = Json(std::move(str));
        return true;
      }
      if (literal("true")) return out = Json(true), true;
      if (literal("false")) return out = Json(false), true;
      if (literal("null")) return out = Json(), true;
      return number(out);
    }
    bool fail(const char* reason) {
      why = reason;
      return false;
    }
    bool object(Json& out, int depth) {
      Object o;
      ++pos;
      space();
      if (pos < s.size() && s[pos] == '}') return ++pos, out = Json(std::move(o)), true;
      for (;;) {
        space();
        std::string key;
        if (pos >= s.size() || s[pos] != '"' || !string(key)) return fail("expected a key");
        space();
        if (pos >= s.size() || s[pos++] != ':') return fail("expected ':'");
        Json member;
        if (!value(member, depth + 1)) return false;
        o[std::move(key)] = std::move(member);
        space();
        if (pos < s.size() && s[pos] == ',') {
          ++pos;
          continue;
        }
        if (pos < s.size() && s[pos] == '}') return ++pos, out = Json(std::move(o)), true;
        return fail("expected ',' or '}'");
      }
    }
    bool array(Json& out, int depth) {
      Array a;
      ++pos;
      space();
      if (pos < s.size() && s[pos] == ']') return ++pos, out = Json(std::move(a)), true;
      for (;;) {
        Json item;
        if (!value(item, depth + 1)) return false;
        a.push_back(std::move(item));
        space();
        if (pos < s.size() && s[pos] == ',') {
          ++pos;
          continue;
        }
        if (pos < s.size() && s[pos] == ']') return ++pos, out = Json(std::move(a)), true;
        return fail("expected ',' or ']'");
      }
    }
    static void utf8(std::string& out, uint32_t cp) {
      if (cp < 0x80) {
        out += char(cp);
      } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
      } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
      }
    }
    bool hex4(uint32_t& cp) {
      if (pos + 4 > s.size()) return fail("bad \\u escape");
      cp = 0;
      for (int i = 0; i < 4; ++i) {
        char h = s[pos++];
        cp <<= 4;
        if (h >= '0' && h <= '9')
          cp |= uint32_t(h - '0');
        else if (h >= 'a' && h <= 'f')
          cp |= uint32_t(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F')
          cp |= uint32_t(h - 'A' + 10);
        else
          return fail("bad \\u escape");
      }
      return true;
    }
    bool string(std::string& out) {
      ++pos;  // the opening quote
      while (pos < s.size()) {
        char c = s[pos++];
        if (c == '"') return true;
        if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string");
        if (c != '\\') {
          out += c;
          continue;
        }
        if (pos >= s.size()) break;
        char e = s[pos++];
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            uint32_t cp;
            if (!hex4(cp)) return false;
            if (cp >= 0xD800 && cp < 0xDC00 && s.substr(pos, 2) == "\\u") {
              pos += 2;
              uint32_t low;
              if (!hex4(low)) return false;
              if (low < 0xDC00 || low >= 0xE000) return fail("bad surrogate pair in a string");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            utf8(out, cp);
            break;
          }
          default:
            return fail("bad escape in a string");
        }
      }
      return fail("unterminated string");
    }
    bool number(Json& out) {
      size_t start = pos;
      if (pos < s.size() && s[pos] == '-') ++pos;
      bool integral = true;
      while (pos < s.size()) {
        char c = s[pos];
        if (c >= '0' && c <= '9') {
          ++pos;
        } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
          integral = false;
          ++pos;
        } else {
          break;
        }
      }
      std::string text(s.substr(start, pos - start));
      if (text.empty() || text == "-") return fail("unexpected character");
      char* end = nullptr;
      if (integral) {
        errno = 0;
        long long i = std::strtoll(text.c_str(), &end, 10);
        if (errno == 0 && *end == '\0') return out = Json(int64_t(i)), true;
      }
      double d = std::strtod(text.c_str(), &end);
      if (*end != '\0') return fail("malformed number");
      out = Json(d);
      return true;
    }
  };

  static void quote(std::string& out, const std::string& s) {
    out += '"';
    for (unsigned char c : s) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20) {
            const char* digits = "0123456789abcdef";
            out += "\\u00";
            out += digits[c >> 4];
            out += digits[c & 15];
          } else {
            out += char(c);
          }
      }
    }
    out += '"';
  }

  void write(std::string& out) const {
    if (is_null()) {
      out += "null";
    } else if (is_bool()) {
      out += as_bool() ? "true" : "false";
    } else if (is_int()) {
      out += std::to_string(as_int());
    } else if (is_number()) {
      double d = as_number();
      if (!std::isfinite(d)) {
        out += "null";
      } else {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", d);
        out += buf;
      }
    } else if (is_string()) {
      quote(out, as_string());
    } else if (is_array()) {
      out += '[';
      for (size_t i = 0; i < as_array().size(); ++i) {
        if (i) out += ',';
        as_array()[i].write(out);
      }
      out += ']';
    } else {
      out += '{';
      bool first = true;
      for (const auto& [key, member] : as_object()) {
        if (!first) out += ',';
        first = false;
        quote(out, key);
        out += ':';
        member.write(out);
      }
      out += '}';
    }
  }

  std::variant<std::monostate, bool, int64_t, double, std::string, Array, Object> v_;
};

// What `validate` reports to.
class Validation {
 public:
  explicit Validation(const runbook_validate_host* host) : host_(host) {}
  // A problem with the argument at `path` ("url", "expect_json.path"; "" for
  // the whole map).
  void error(const std::string& path, const std::string& message) {
    ++errors_;
    host_->error(host_->ctx, path.c_str(), message.c_str());
  }
  int errors() const { return errors_; }

 private:
  const runbook_validate_host* host_;
  int errors_ = 0;
};

class Attempt;
namespace detail {
template <runbook_status (*R)(Attempt&)>
runbook_status run(const runbook_run_host* host, const char* with_json);
}  // namespace detail

// One attempt of a plugin step, as `run` sees it.
class Attempt {
 public:
  explicit Attempt(const runbook_run_host* host) : host_(host) {}

  // The `with` map, every ${{ }} resolved.
  const Json& with() const { return with_; }
  // run_id, step_id, attempt, tmp_dir, workdir, env (see plugin.h).
  const Json& context() const { return context_; }

  void log(std::string_view text) {
    host_->log(host_->ctx, RUNBOOK_STDOUT, text.data(), text.size());
  }
  void log_error(std::string_view text) {
    host_->log(host_->ctx, RUNBOOK_STDERR, text.data(), text.size());
  }
  void output(const std::string& key, std::string_view value) {
    host_->output(host_->ctx, key.c_str(), value.data(), value.size());
  }
  bool cancelled() const { return host_->cancelled(host_->ctx) != 0; }
  // Milliseconds left before the attempt's timeout or deadline; nullopt: none.
  std::optional<int64_t> remaining_ms() const {
    int64_t ms = host_->remaining_ms(host_->ctx);
    return ms < 0 ? std::nullopt : std::optional<int64_t>(ms);
  }
  // Sleeps up to `ms`; false when woken early because the attempt must stop.
  bool sleep_ms(int64_t ms) { return host_->sleep_ms(host_->ctx, ms) == 0; }

  // Ends the attempt: `return attempt.fail("expected 200, got 404");`.
  runbook_status fail(const std::string& message) {
    host_->message(host_->ctx, message.c_str());
    return RUNBOOK_FAILED;
  }
  runbook_status retryable(const std::string& message) {
    host_->message(host_->ctx, message.c_str());
    return RUNBOOK_RETRYABLE;
  }

 private:
  template <runbook_status (*)(Attempt&)>
  friend runbook_status detail::run(const runbook_run_host*, const char*);

  const runbook_run_host* host_;
  Json with_;
  Json context_;
};

// ---- Helpers for reading arguments the way runbooks write them ----

namespace detail {

// A decimal number at the front of `text` ("30", "1.5", ".5"); consumes it.
inline std::optional<double> take_number(std::string_view& text) {
  size_t i = 0;
  bool digits = false;
  double value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    value = value * 10 + (text[i] - '0');
    digits = true;
    ++i;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    double scale = 0.1;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      value += (text[i] - '0') * scale;
      scale /= 10;
      digits = true;
      ++i;
    }
  }
  if (!digits) return std::nullopt;
  text.remove_prefix(i);
  return value;
}

// Optimal string alignment distance, case-insensitive: a swapped pair of
// letters is one typo.
inline size_t edit_distance(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
  const size_t n = a.size(), m = b.size();
  std::vector<size_t> two_back(m + 1), prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1]))
        cur[j] = std::min(cur[j], two_back[j - 2] + 1);
    }
    std::swap(two_back, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

}  // namespace detail

// Milliseconds in a duration written as in runbooks: "250ms", "30s", "5m",
// "1h30m", "2d", "1.5s" (units from largest to smallest, each at most once),
// or a bare number of seconds ("30"); nullopt for anything else.
inline std::optional<int64_t> parse_duration_ms(std::string_view text) {
  struct Unit {
    std::string_view suffix;
    int64_t millis;
    int rank;  // largest first: "1h30m" is read, "30m1h" refused
  };
  // "ms" before "m", so that milliseconds are not read as minutes.
  static constexpr Unit kUnits[] = {
      {"ms", 1, 4}, {"d", 86'400'000, 0}, {"h", 3'600'000, 1}, {"m", 60'000, 2}, {"s", 1'000, 3}};
  constexpr double kMaxMillis = 1e15;  // far below what int64 holds: sums never overflow
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  double total = 0;
  int last_rank = -1;
  bool first = true;
  while (!text.empty()) {
    std::optional<double> number = detail::take_number(text);
    if (!number) return std::nullopt;
    if (text.empty()) {
      // A bare number is seconds, and only on its own: "1h30" is ambiguous.
      if (!first) return std::nullopt;
      total = *number * 1000;
      break;
    }
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (text.substr(0, u.suffix.size()) == u.suffix) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr || unit->rank <= last_rank) return std::nullopt;
    last_rank = unit->rank;
    text.remove_prefix(unit->suffix.size());
    total += *number * static_cast<double>(unit->millis);
    if (total > kMaxMillis) return std::nullopt;
    first = false;
  }
  return static_cast<int64_t>(std::llround(total));
}

// The word of `known` closest to `word` (a likely typo: "did you mean
// 'interval'?"), or "" when none is close: one edit for words of up to 3
// letters, two up to 5, three beyond, and never a word sharing nothing.
inline std::string nearest_name(std::string_view word, const std::vector<std::string_view>& known) {
  if (word.empty()) return {};
  const size_t limit = word.size() <= 3 ? 1 : word.size() <= 5 ? 2 : 3;
  std::string_view best;
  size_t best_distance = limit + 1;
  for (std::string_view candidate : known) {
    // The distance is at least the difference in length: skip the work.
    const size_t gap = candidate.size() > word.size() ? candidate.size() - word.size()
                                                      : word.size() - candidate.size();
    if (gap >= best_distance) continue;
    const size_t d = detail::edit_distance(word, candidate);
    if (d < best_distance && d < std::max(word.size(), candidate.size())) {
      best = candidate;
      best_distance = d;
    }
  }
  return std::string(best);
}

using ValidateFn = void (*)(const Json& with, Validation& validation);
using RunFn = runbook_status (*)(Attempt& attempt);

namespace detail {

template <ValidateFn V>
void validate(const runbook_validate_host* host, const char* with_json) {
  Validation validation(host);
  try {
    std::string error;
    Json with;
    if (!Json::parse(with_json ? with_json : "{}", with, &error))
      return validation.error("", "malformed arguments: " + error);
    V(with, validation);
  } catch (const std::exception& e) {
    validation.error("", std::string("the plugin failed to check its arguments: ") + e.what());
  } catch (...) {
    validation.error("", "the plugin failed to check its arguments");
  }
}

template <RunFn R>
runbook_status run(const runbook_run_host* host, const char* with_json) {
  try {
    std::string error;
    Attempt attempt(host);
    if (!Json::parse(with_json ? with_json : "{}", attempt.with_, &error) ||
        !Json::parse(host->context_json ? host->context_json : "{}", attempt.context_, &error)) {
      host->message(host->ctx, ("malformed arguments: " + error).c_str());
      return RUNBOOK_FAILED;
    }
    return R(attempt);
  } catch (const std::exception& e) {
    host->message(host->ctx, (std::string("the plugin failed: ") + e.what()).c_str());
  } catch (...) {
    host->message(host->ctx, "the plugin failed");
  }
  return RUNBOOK_FAILED;
}

}  // namespace detail

// A step kind whose `validate` and `run` are the C++ functions V and R.
template <ValidateFn V, RunFn R>
constexpr runbook_step_kind step_kind(const char* name, const char* summary) {
  return runbook_step_kind{name, summary, &detail::validate<V>, &detail::run<R>};
}

}  // namespace runbook::sdk

// Defines the plugin's entry point. KINDS: a static array of runbook_step_kind.
#define RUNBOOK_PLUGIN(NAME, VERSION, KINDS)                                                    \
  extern "C" __attribute__((visibility("default"))) const runbook_plugin* runbook_plugin_entry( \
      uint32_t host_abi_version) {                                                              \
    static const runbook_plugin plugin{RUNBOOK_PLUGIN_ABI_VERSION, NAME, VERSION, KINDS,        \
                                       sizeof(KINDS) / sizeof(KINDS[0])};                       \
    return host_abi_version == RUNBOOK_PLUGIN_ABI_VERSION ? &plugin : nullptr;                  \
  }
