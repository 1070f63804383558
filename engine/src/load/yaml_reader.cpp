#include "load/yaml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace runbook::load {

Mark mark_of(const yaml::Node& node) {
  const yaml::Mark m = node.GetMark();
  if (m.is_null() || m.line < 0) return {};
  return Mark{m.line + 1, m.column + 1};
}

Mark value_mark(const Entry& e) {
  if (!e.value || e.value.IsNull()) return mark_of(e.key_node);
  return mark_of(e.value);
}

std::string describe(const yaml::Node& node) {
  if (!node || node.IsNull()) return "empty";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  std::string text = node.Scalar();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return "'" + text + "'";
}

bool is_plain(const yaml::Node& node) {
  return node.IsScalar() && node.Tag() == "?";
}

std::optional<int64_t> parse_int(std::string_view text) {
  if (text.empty()) return std::nullopt;
  bool negative = false;
  if (text.front() == '-' || text.front() == '+') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'o')) {
    base = text[1] == 'x' ? 16 : 8;
    text.remove_prefix(2);
  }
  if (text.empty()) return std::nullopt;
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), magnitude, base);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  if (magnitude > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  const auto value = static_cast<int64_t>(magnitude);
  return negative ? -value : value;
}

std::optional<bool> parse_bool(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

bool is_valid_id(std::string_view id) {
  if (id.empty()) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(id.front())) return false;
  for (char c : id) {
    if (!lower_or_digit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

namespace {

bool is_null_scalar(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<double> parse_double(std::string_view s) {
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf") {
    return std::numeric_limits<double>::infinity();
  }
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -std::numeric_limits<double>::infinity();
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  // YAML 1.2 core: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exponent_digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exponent_digits;
    if (exponent_digits == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  std::string_view number = s.front() == '+' ? s.substr(1) : s;
  double d = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), d);
  if (ec != std::errc{}) return std::nullopt;
  return d;
}

Value scalar_value(const yaml::Node& node) {
  const std::string& s = node.Scalar();
  const std::string& tag = node.Tag();
  if (tag == "?") {
    if (is_null_scalar(s)) return {};
    if (auto b = parse_bool(s)) return {*b};
    if (auto i = parse_int(s)) return {*i};
    if (auto d = parse_double(s)) return {*d};
  } else if (tag == "tag:yaml.org,2002:int") {
    if (auto i = parse_int(s)) return {*i};
  } else if (tag == "tag:yaml.org,2002:float") {
    if (auto d = parse_double(s)) return {*d};
  } else if (tag == "tag:yaml.org,2002:bool") {
    if (auto b = parse_bool(s)) return {*b};
  } else if (tag == "tag:yaml.org,2002:null") {
    return {};
  }
  return {s};
}

}  // namespace

void YamlReader::error(Mark mark, std::string message, std::string hint) {
  if (diags_ != nullptr) diags_->error(file_, mark, std::move(message), std::move(hint));
}

bool YamlReader::spend(size_t n, const yaml::Node& at) {
  if (budget_->nodes_left >= n) {
    budget_->nodes_left -= n;
    return true;
  }
  budget_->nodes_left = 0;
  if (!budget_->reported) {
    budget_->reported = true;
    error(mark_of(at), "the document is too large once its aliases are expanded");
  }
  return false;
}

std::vector<Entry> YamlReader::entries(const yaml::Node& map, int merge_depth) {
  std::vector<Entry> out;
  if (!map.IsMap() || !spend(map.size() + 1, map)) return out;
  out.reserve(map.size());
  std::vector<yaml::Node> merged;
  // Most maps are small: a linear scan finds duplicates faster than hashing,
  // until they are not (a runbook with thousands of params or env entries).
  std::unordered_map<std::string, size_t> index;
  auto find = [&](const std::string& key) -> const Entry* {
    if (out.size() <= 16) {
      for (const Entry& e : out) {
        if (e.key == key) return &e;
      }
      return nullptr;
    }
    for (size_t k = index.size(); k < out.size(); ++k) index.emplace(out[k].key, k);
    auto it = index.find(key);
    return it == index.end() ? nullptr : &out[it->second];
  };

  for (auto it = map.begin(); it != map.end(); ++it) {
    const yaml::Node key = it->first;
    if (!key.IsScalar()) {
      error(mark_of(key), "map keys must be strings, not " + describe(key));
      continue;
    }
    if (key.Scalar() == "<<" && is_plain(key)) {
      const yaml::Node source = it->second;
      if (source.IsMap()) {
        merged.push_back(source);
      } else if (source.IsSequence() &&
                 std::all_of(source.begin(), source.end(),
                             [](const yaml::Node& n) { return n.IsMap(); })) {
        for (const yaml::Node& n : source) merged.push_back(n);
      } else {
        error(mark_of(source), "'<<' must merge a map or a list of maps, not " + describe(source));
      }
      continue;
    }
    if (const Entry* first = find(key.Scalar())) {
      error(mark_of(key), "duplicate key '" + key.Scalar() + "'",
            "first at line " + std::to_string(mark_of(first->key_node).line));
      continue;
    }
    out.push_back(Entry{key.Scalar(), key, it->second});
  }

  if (merged.empty()) return out;
  if (merge_depth >= kMaxMergeDepth) {
    error(mark_of(map),
          "merge keys ('<<') are nested more than " + std::to_string(kMaxMergeDepth) + " deep");
    return out;
  }
  for (const yaml::Node& source : merged) {
    for (Entry& e : entries(source, merge_depth + 1)) {
      if (find(e.key) != nullptr) continue;
      e.from_merge = true;
      out.push_back(std::move(e));
    }
  }
  return out;
}

void YamlReader::unknown_key(const Entry& e, const std::vector<std::string_view>& known,
                             std::string_view where) {
  std::string suggestion = nearest_word(e.key, known);
  // A merged map may be merged into many places: say it once, where it is.
  const std::string context = e.from_merge ? "in a map merged with '<<'" : std::string(where);
  error(mark_of(e.key_node), "unknown key '" + e.key + "' " + context,
        suggestion.empty() ? std::string() : "did you mean '" + suggestion + "'?");
}

void YamlReader::wrong(const Entry& e, std::string_view name, std::string_view expected) {
  error(value_mark(e), "'" + std::string(name) + "' must be " + std::string(expected) + ", not " +
                           describe(e.value));
}

std::optional<std::string> YamlReader::string(const Entry& e, std::string_view name) {
  if (!e.value || e.value.IsNull()) return std::string();
  if (!e.value.IsScalar()) {
    wrong(e, name, "a string");
    return std::nullopt;
  }
  return e.value.Scalar();
}

std::optional<Text> YamlReader::text(const Entry& e, std::string_view name) {
  std::optional<std::string> s = string(e, name);
  if (!s) return std::nullopt;
  return Text{std::move(*s), value_mark(e)};
}

std::optional<int64_t> YamlReader::integer(const Entry& e, std::string_view name, int64_t min,
                                           int64_t max) {
  std::optional<int64_t> i;
  if (e.value && e.value.IsScalar()) i = parse_int(e.value.Scalar());
  if (i && *i >= min && *i <= max) return i;
  std::string expected = "an integer";
  if (max == std::numeric_limits<int64_t>::max()) {
    if (min != std::numeric_limits<int64_t>::min()) expected += " >= " + std::to_string(min);
  } else {
    expected += " from " + std::to_string(min) + " to " + std::to_string(max);
  }
  wrong(e, name, expected);
  return std::nullopt;
}

std::optional<double> YamlReader::number(const Entry& e, std::string_view name, double min) {
  std::optional<double> d;
  if (e.value && e.value.IsScalar()) d = parse_double(e.value.Scalar());
  if (d && std::isfinite(*d) && *d >= min) return d;
  wrong(e, name, "a number >= " + Value(min).to_json());
  return std::nullopt;
}

std::optional<bool> YamlReader::boolean(const Entry& e, std::string_view name) {
  std::optional<bool> b;
  if (e.value && e.value.IsScalar()) b = parse_bool(e.value.Scalar());
  if (!b) wrong(e, name, "true or false");
  return b;
}

std::optional<Duration> YamlReader::duration(const Entry& e, std::string_view name) {
  std::optional<Duration> d;
  if (e.value && e.value.IsScalar()) d = parse_duration(e.value.Scalar());
  if (!d) wrong(e, name, "a duration like 30s, 5m or 1h30m");
  return d;
}

std::optional<std::vector<Text>> YamlReader::text_list(const Entry& e, std::string_view name,
                                                       bool allow_single) {
  if (allow_single && e.value.IsScalar())
    return std::vector<Text>{Text{e.value.Scalar(), value_mark(e)}};
  if (!e.value.IsSequence()) {
    wrong(e, name, allow_single ? "a string or a list of strings" : "a list of strings");
    return std::nullopt;
  }
  std::vector<Text> out;
  out.reserve(e.value.size());
  bool ok = true;
  for (const yaml::Node& item : e.value) {
    if (!item.IsScalar()) {
      error(item.IsNull() ? value_mark(e) : mark_of(item),
            "'" + std::string(name) + "' items must be strings, not " + describe(item));
      ok = false;
      continue;
    }
    out.push_back(Text{item.Scalar(), mark_of(item)});
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::vector<int>> YamlReader::int_list(const Entry& e, std::string_view name, int min,
                                                     int max) {
  if (!e.value.IsSequence()) {
    wrong(e, name, "a list of integers");
    return std::nullopt;
  }
  std::vector<int> out;
  bool ok = true;
  for (const yaml::Node& item : e.value) {
    std::optional<int64_t> i;
    if (item.IsScalar()) i = parse_int(item.Scalar());
    if (!i || *i < min || *i > max) {
      error(item.IsNull() ? value_mark(e) : mark_of(item),
            "'" + std::string(name) + "' items must be integers from " + std::to_string(min) +
                " to " + std::to_string(max) + ", not " + describe(item));
      ok = false;
      continue;
    }
    out.push_back(static_cast<int>(*i));
  }
  if (!ok) return std::nullopt;
  return out;
}

bool YamlReader::is_map(const Entry& e, std::string_view name) {
  if (!e.value || e.value.IsNull() || e.value.IsMap()) return true;
  wrong(e, name, "a map");
  return false;
}

std::optional<EnvList> YamlReader::env(const Entry& e, std::string_view name) {
  if (!is_map(e, name)) return std::nullopt;
  EnvList out;
  bool ok = true;
  for (const Entry& var : entries(e.value)) {
    const std::string var_name = std::string(name) + "." + var.key;
    bool valid_name = !var.key.empty() && !std::isdigit(static_cast<unsigned char>(var.key[0]));
    for (char c : var.key) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') valid_name = false;
    }
    if (!valid_name) {
      error(mark_of(var.key_node), "invalid environment variable name '" + var.key +
                                       "': use letters, digits and '_', not starting with a digit");
      ok = false;
      continue;
    }
    std::optional<Text> value = text(var, var_name);
    if (!value) {
      ok = false;
      continue;
    }
    out.emplace_back(var.key, std::move(*value));
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<Value> YamlReader::value(const yaml::Node& node, std::string_view name, int depth) {
  if (!spend(1, node)) return std::nullopt;
  if (!node || node.IsNull()) return Value();
  if (node.IsScalar()) return scalar_value(node);
  if (depth >= kMaxValueDepth) {
    error(mark_of(node),
          "'" + std::string(name) + "' is nested more than " + std::to_string(kMaxValueDepth) +
              " levels deep",
          "does an alias refer to a node that contains it?");
    return std::nullopt;
  }
  if (node.IsSequence()) {
    Value::List list;
    list.reserve(node.size());
    for (const yaml::Node& item : node) {
      std::optional<Value> v = value(item, name, depth + 1);
      if (!v) return std::nullopt;
      list.push_back(std::move(*v));
    }
    return Value(std::move(list));
  }
  Value::Map map;
  for (const Entry& e : entries(node)) {
    std::optional<Value> v = value(e.value, name, depth + 1);
    if (!v) return std::nullopt;
    map.emplace(e.key, std::move(*v));
  }
  return Value(std::move(map));
}

}  // namespace runbook::load
