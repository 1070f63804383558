#include "load/params_loader.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <regex>
#include <string>

namespace runbook::load {

namespace {

bool is_valid_param_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::optional<ParamType> param_type(std::string_view s) {
  if (s == "string") return ParamType::string;
  if (s == "int") return ParamType::integer;
  if (s == "bool") return ParamType::boolean;
  if (s == "list") return ParamType::list;
  if (s == "secret") return ParamType::secret;
  return std::nullopt;
}

const std::vector<std::string_view>& param_keys() {
  static const std::vector<std::string_view> keys = {
      "type", "required", "default",     "pattern", "allowed",
      "min",  "max",      "description", "env",     "file"};
  return keys;
}

// A value read for a param of type `type`: strings take any scalar as written
// (a port written 8080 is the string "8080"); the others must have their type.
std::optional<Value> typed_value(YamlReader& r, const yaml::Node& node, ParamType type,
                                 std::string_view name) {
  switch (type) {
    case ParamType::string:
    case ParamType::secret:
      if (node.IsScalar()) return Value(node.Scalar());
      break;
    case ParamType::integer:
      if (node.IsScalar()) {
        if (auto i = parse_int(node.Scalar()); i && is_plain(node)) return Value(*i);
      }
      break;
    case ParamType::boolean:
      if (node.IsScalar()) {
        if (auto b = parse_bool(node.Scalar()); b && is_plain(node)) return Value(*b);
      }
      break;
    case ParamType::list:
      if (node.IsSequence()) return r.value(node, name);
      break;
  }
  return std::nullopt;
}

// A value as it reads in an error: strings quoted like other names.
std::string quoted(const Value& v) {
  return v.is_string() ? "'" + v.as_string() + "'" : v.to_json();
}

// Checks `value` (of the param's type) against pattern, allowed, min and max.
void check_constraints(YamlReader& r, const Param& p, const Value& value, const std::regex* pattern,
                       Mark at, std::string_view what) {
  const std::string label = std::string(what) + " of param '" + p.name + "'";
  if (pattern != nullptr && value.is_string() && !std::regex_match(value.as_string(), *pattern)) {
    r.error(at, label + " " + quoted(value) + " does not match its pattern '" + *p.pattern + "'");
  }
  if (!p.allowed.empty() &&
      std::find(p.allowed.begin(), p.allowed.end(), value) == p.allowed.end()) {
    std::string list;
    for (const Value& a : p.allowed) list += (list.empty() ? "" : ", ") + a.to_text();
    r.error(at, label + " " + quoted(value) + " is not one of the allowed values: " + list);
  }
  double measure = 0;
  std::string measured;
  if (value.is_int()) {
    measure = static_cast<double>(value.as_int());
    measured = "value";
  } else if (value.is_string()) {
    measure = static_cast<double>(value.as_string().size());
    measured = "length";
  } else if (value.is_list()) {
    measure = static_cast<double>(value.as_list().size());
    measured = "length";
  } else {
    return;
  }
  auto number = [](double d) { return Value(static_cast<int64_t>(d)).to_json(); };
  if (p.min && measure < *p.min) {
    r.error(at, label + " has " + measured + " " + number(measure) + ", less than its min " +
                    number(*p.min));
  }
  if (p.max && measure > *p.max) {
    r.error(at, label + " has " + measured + " " + number(measure) + ", more than its max " +
                    number(*p.max));
  }
}

Param load_param(YamlReader& r, const Entry& e) {
  Param p;
  p.name = e.key;
  p.mark = mark_of(e.key_node);
  if (!is_valid_param_name(p.name)) {
    r.error(p.mark, "invalid param name '" + p.name +
                        "': use letters, digits and '_', not starting with a digit");
  }
  if (!e.value.IsMap()) {
    r.error(value_mark(e),
            "param '" + p.name + "' must be a map like {type: string}, not " + describe(e.value));
    return p;
  }
  const std::vector<Entry> fields = r.entries(e.value);
  const std::string where = "in param '" + p.name + "'";
  // The type first: the other fields are read against it.
  for (const Entry& f : fields) {
    if (f.key != "type") continue;
    std::optional<std::string> s = r.string(f, "type");
    if (!s) continue;
    if (std::optional<ParamType> t = param_type(*s)) {
      p.type = *t;
    } else {
      std::string near = nearest_word(*s, {"string", "int", "bool", "list", "secret"});
      r.error(value_mark(f),
              "'type' of param '" + p.name + "' must be string, int, bool, list or secret, not '" +
                  *s + "'",
              near.empty() ? std::string() : "did you mean '" + near + "'?");
    }
  }

  const Entry* default_entry = nullptr;
  for (const Entry& f : fields) {
    const std::string& k = f.key;
    if (k == "type") continue;
    if (k == "required") {
      if (auto b = r.boolean(f, "required")) p.required = *b;
    } else if (k == "default") {
      default_entry = &f;
    } else if (k == "pattern") {
      p.pattern = r.string(f, "pattern");
    } else if (k == "allowed") {
      if (!f.value.IsSequence()) {
        r.error(value_mark(f), "'allowed' must be a list of values, not " + describe(f.value));
        continue;
      }
      for (const yaml::Node& item : f.value) {
        if (auto v = typed_value(r, item, p.type, "allowed")) {
          p.allowed.push_back(std::move(*v));
        } else {
          r.error(mark_of(item), "allowed value " + describe(item) + " of param '" + p.name +
                                     "' is not of its type " + to_string(p.type));
        }
      }
    } else if (k == "min" || k == "max") {
      std::optional<int64_t> n =
          r.integer(f, k, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
      if (n) (k == "min" ? p.min : p.max) = static_cast<double>(*n);
      if (n && (p.type == ParamType::boolean || p.type == ParamType::secret)) {
        r.error(mark_of(f.key_node),
                "'" + k + "' does not apply to a " + to_string(p.type) + " param");
      }
    } else if (k == "description") {
      if (auto s = r.string(f, "description")) p.description = *s;
    } else if (k == "env" || k == "file") {
      std::optional<std::string> s = r.string(f, k);
      if (s && s->empty()) r.error(value_mark(f), "'" + k + "' must not be empty");
      if (s) (k == "env" ? p.from_env : p.from_file) = std::move(*s);
      if (p.type != ParamType::secret) {
        r.error(mark_of(f.key_node), "'" + k + "' applies only to secret params");
      }
    } else {
      r.unknown_key(f, param_keys(), where);
    }
  }
  if (p.min && p.max && *p.min > *p.max) {
    r.error(p.mark, "param '" + p.name + "' has min greater than max");
  }

  std::optional<std::regex> pattern;
  if (p.pattern) {
    try {
      pattern.emplace(*p.pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& err) {
      r.error(p.mark, "'pattern' of param '" + p.name +
                          "' is not a valid regular expression: " + err.what());
    }
  }
  const std::regex* re = pattern ? &*pattern : nullptr;
  for (const Value& allowed : p.allowed)
    check_constraints(r, p, allowed, re, p.mark, "allowed value");
  if (default_entry != nullptr && default_entry->value && !default_entry->value.IsNull()) {
    if (auto v = typed_value(r, default_entry->value, p.type, "default")) {
      check_constraints(r, p, *v, re, value_mark(*default_entry), "default");
      p.default_value = std::move(*v);
    } else {
      r.error(value_mark(*default_entry),
              "default of param '" + p.name + "' must be " +
                  (p.type == ParamType::integer   ? "an int"
                   : p.type == ParamType::boolean ? "a bool (true or false)"
                   : p.type == ParamType::list    ? "a list"
                                                  : "a string") +
                  ", not " + describe(default_entry->value));
    }
  }
  return p;
}

}  // namespace

std::vector<Param> load_params(YamlReader& r, const Entry& e) {
  std::vector<Param> params;
  if (!r.is_map(e, "params") || !e.value || e.value.IsNull()) return params;
  for (const Entry& p : r.entries(e.value)) params.push_back(load_param(r, p));
  return params;
}

}  // namespace runbook::load
