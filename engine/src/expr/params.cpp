// Resolving a run's params: gather what was given, type it by the param's
// declaration, fill in secrets and defaults, then check every constraint.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <regex>
#include <sstream>

#include "expr/json_reader.hpp"
#include "load/yaml_reader.hpp"
#include "runbook/params.hpp"
#include "util/files.hpp"

namespace runbook {

namespace {

constexpr size_t kMaxParamsFileBytes = 16 * 1024 * 1024;
constexpr size_t kMaxSecretFileBytes = 1024 * 1024;
constexpr int kMaxParamsDepth = 500;

// One value given for a param, with where it came from for diagnostics.
struct Given {
  enum class Kind { text, typed, yaml };
  Kind kind = Kind::text;
  std::string text;
  Value value;
  load::yaml::Node node;
  std::string file;  // "" for the command line
  Mark mark;
  std::string origin;  // "-p", "the params file", …
};

std::string quoted(std::string_view s) {
  std::string shown(s);
  if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
  return "'" + shown + "'";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string type_phrase(ParamType t) {
  switch (t) {
    case ParamType::integer:
      return "an int";
    case ParamType::boolean:
      return "a bool (true, false, yes, no, 1 or 0)";
    case ParamType::list:
      return "a list";
    default:
      return "a string";
  }
}

std::optional<Value> from_text(const Param& p, std::string_view text) {
  switch (p.type) {
    case ParamType::string:
    case ParamType::secret:
      return Value(std::string(text));
    case ParamType::integer: {
      const std::string_view t = trim(text);
      if (t.empty() || t.starts_with("0x") || t.starts_with("0o")) return std::nullopt;
      if (auto i = load::parse_int(t)) return Value(*i);
      return std::nullopt;
    }
    case ParamType::boolean: {
      std::string t(trim(text));
      std::transform(t.begin(), t.end(), t.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (t == "true" || t == "yes" || t == "1") return Value(true);
      if (t == "false" || t == "no" || t == "0") return Value(false);
      return std::nullopt;
    }
    case ParamType::list: {
      const std::string_view t = trim(text);
      if (t.starts_with('[')) {
        Expected<Value, std::string> v = expr::read_json(t);
        if (v && v.value().is_list()) return std::move(v).value();
        return std::nullopt;
      }
      Value::List items;
      if (t.empty()) return Value(std::move(items));
      size_t at = 0;
      while (true) {
        const size_t comma = t.find(',', at);
        items.emplace_back(std::string(trim(t.substr(at, comma - at))));
        if (comma == std::string_view::npos) break;
        at = comma + 1;
      }
      return Value(std::move(items));
    }
  }
  return std::nullopt;
}

std::optional<Value> from_typed(const Param& p, const Value& v) {
  if (v.is_string()) return from_text(p, v.as_string());
  switch (p.type) {
    case ParamType::string:
    case ParamType::secret:
      if (v.is_number() || v.is_bool()) return Value(v.to_text());
      return std::nullopt;
    case ParamType::integer:
      if (v.is_int()) return v;
      return std::nullopt;
    case ParamType::boolean:
      if (v.is_bool()) return v;
      return std::nullopt;
    case ParamType::list:
      if (v.is_list()) return v;
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<Value> from_yaml(const Param& p, const load::yaml::Node& node,
                               const std::string& file) {
  switch (p.type) {
    case ParamType::string:
    case ParamType::secret:
      if (node.IsScalar()) return Value(node.Scalar());  // as written: 8080 is "8080"
      return std::nullopt;
    case ParamType::integer:
      if (node.IsScalar() && load::is_plain(node)) {
        if (auto i = load::parse_int(node.Scalar())) return Value(*i);
      }
      return std::nullopt;
    case ParamType::boolean:
      if (node.IsScalar() && load::is_plain(node)) {
        if (auto b = load::parse_bool(node.Scalar())) return Value(*b);
      }
      return std::nullopt;
    case ParamType::list:
      if (node.IsSequence()) {
        load::Budget budget;
        load::YamlReader reader(file, nullptr, &budget);
        return reader.value(node, p.name);
      }
      return std::nullopt;
  }
  return std::nullopt;
}

std::string describe_given(const Given& g) {
  switch (g.kind) {
    case Given::Kind::text:
      return quoted(g.text);
    case Given::Kind::typed:
      return g.value.is_string() ? quoted(g.value.as_string()) : g.value.to_json();
    case Given::Kind::yaml:
      return load::describe(g.node);
  }
  return {};
}

class Resolver {
 public:
  Resolver(const Runbook& rb, Diagnostics& diags) : rb_(rb), diags_(diags) {}

  void add_values(const Value::Map& values) {
    for (const auto& [name, value] : values) {
      if (value.is_null()) continue;
      Given g;
      g.kind = Given::Kind::typed;
      g.value = value;
      g.origin = "the request";
      put(name, std::move(g));
    }
  }

  void add_file(const std::string& path) {
    std::string error;
    std::optional<std::string> text = read_small_file(path, kMaxParamsFileBytes, &error);
    if (!text) {
      diags_.error(path, {}, "cannot read the params file: " + error);
      return;
    }
    std::vector<load::yaml::Node> documents;
    load::yaml::ParseError parse_error;
    if (!load::yaml::parse(*text, kMaxParamsDepth, &documents, &parse_error)) {
      std::string_view why = parse_error.message;
      if (why.starts_with("invalid YAML: ")) why.remove_prefix(14);
      Mark mark;
      if (!parse_error.mark.is_null())
        mark = Mark{parse_error.mark.line + 1, parse_error.mark.column + 1};
      diags_.error(path, mark, "the params file is not valid YAML or JSON: " + std::string(why));
      return;
    }
    load::yaml::Node root = documents.empty() ? load::yaml::Node() : documents.front();
    if (!root || root.IsNull()) return;
    if (!root.IsMap()) {
      diags_.error(
          path, load::mark_of(root),
          "the params file must be a map of param names to values, not " + load::describe(root));
      return;
    }
    for (auto it = root.begin(); it != root.end(); ++it) {
      const auto& item = it.pair();
      if (!item.first.IsScalar()) {
        diags_.error(path, load::mark_of(item.first), "param names must be strings");
        continue;
      }
      if (!item.second || item.second.IsNull()) continue;
      Given g;
      g.kind = Given::Kind::yaml;
      g.node = item.second;
      g.file = path;
      g.mark = load::mark_of(item.second);
      g.origin = "the params file";
      put(item.first.Scalar(), std::move(g), path, load::mark_of(item.first));
    }
  }

  void add_pair(const std::string& pair) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      diags_.error({}, {}, "-p " + quoted(pair) + " must be NAME=VALUE");
      return;
    }
    Given g;
    g.kind = Given::Kind::text;
    g.text = pair.substr(eq + 1);
    g.origin = "-p";
    put(pair.substr(0, eq), std::move(g));
  }

  ResolvedParams finish() {
    ResolvedParams out;
    for (const Param& p : rb_.params) {
      std::optional<Value> v = resolve_one(p);
      if (v && p.type == ParamType::secret && v->is_string()) {
        if (v->as_string().size() < SecretMasker::kMinSecretLength) {
          diags_.error(rb_.path, p.mark,
                       "secret '" + p.name + "' is too short to mask safely (under " +
                           std::to_string(SecretMasker::kMinSecretLength) + " characters)");
        } else {
          out.secrets.push_back(v->as_string());
        }
      }
      out.values[p.name] = v ? std::move(*v) : Value();
    }
    return out;
  }

 private:
  void put(const std::string& name, Given g, const std::string& file = {}, Mark mark = {}) {
    if (rb_.find_param(name) == nullptr) {
      std::vector<std::string_view> known;
      for (const Param& p : rb_.params) known.push_back(p.name);
      std::string near = nearest_word(name, known);
      std::string hint;
      if (!near.empty()) {
        hint = "did you mean '" + near + "'?";
      } else if (known.empty()) {
        hint = "this runbook has no params";
      } else {
        std::string list;
        for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        hint = "its params are: " + list;
      }
      diags_.error(file, mark, "unknown param '" + name + "'", std::move(hint));
      return;
    }
    given_[name] = std::move(g);  // a later source wins
  }

  // The value of one param (nullopt: none), with its problems reported.
  std::optional<Value> resolve_one(const Param& p) {
    auto it = given_.find(p.name);
    if (it != given_.end()) {
      const Given& g = it->second;
      std::optional<Value> v;
      switch (g.kind) {
        case Given::Kind::text:
          v = from_text(p, g.text);
          break;
        case Given::Kind::typed:
          v = from_typed(p, g.value);
          break;
        case Given::Kind::yaml:
          v = from_yaml(p, g.node, g.file);
          break;
      }
      const std::string what =
          p.type == ParamType::secret ? "secret '" + p.name + "'" : "param '" + p.name + "'";
      if (!v) {
        diags_.error(g.file, g.mark,
                     what + " given by " + g.origin + " must be " + type_phrase(p.type) + ", not " +
                         (p.type == ParamType::secret ? std::string("that") : describe_given(g)));
        return std::nullopt;
      }
      check(p, *v, g.file, g.mark, what + " given by " + g.origin);
      return v;
    }
    if (p.type == ParamType::secret) {
      if (std::optional<Value> v = read_secret(p)) {
        check(p, *v, rb_.path, p.mark, "secret '" + p.name + "'");
        return v;
      }
    }
    if (p.default_value) return p.default_value;  // checked by the loader
    if (p.required) {
      std::string hint = "give it with -p " + p.name + "=VALUE";
      if (p.from_env) hint = "set the environment variable " + *p.from_env + ", or " + hint;
      diags_.error(rb_.path, p.mark,
                   "missing required " +
                       std::string(p.type == ParamType::secret ? "secret" : "param") + " '" +
                       p.name + "'",
                   std::move(hint));
    }
    return std::nullopt;
  }

  std::optional<Value> read_secret(const Param& p) {
    if (p.from_env) {
      const char* v = std::getenv(p.from_env->c_str());
      if (v != nullptr && *v != '\0') return Value(std::string(v));
    }
    if (p.from_file) {
      std::string error;
      std::optional<std::string> text = read_small_file(*p.from_file, kMaxSecretFileBytes, &error);
      if (!text) {
        diags_.error(rb_.path, p.mark,
                     "cannot read secret '" + p.name + "' from " + *p.from_file + ": " + error);
        return std::nullopt;
      }
      if (text->ends_with('\n')) text->pop_back();
      if (text->ends_with('\r')) text->pop_back();
      return Value(std::move(*text));
    }
    return std::nullopt;
  }

  // Pattern, allowed, min and max. Secret values never appear in messages.
  void check(const Param& p, const Value& v, const std::string& file, Mark mark,
             const std::string& label) {
    const bool secret = p.type == ParamType::secret;
    const std::string shown =
        secret ? std::string() : " " + (v.is_string() ? quoted(v.as_string()) : v.to_json());
    if (p.pattern && v.is_string()) {
      try {
        if (!std::regex_match(v.as_string(), std::regex(*p.pattern, std::regex::ECMAScript))) {
          diags_.error(file, mark,
                       label + shown + " does not match its pattern '" + *p.pattern + "'");
        }
      } catch (const std::regex_error&) {
        // An invalid pattern is reported by the loader.
      }
    }
    if (!p.allowed.empty() && std::find(p.allowed.begin(), p.allowed.end(), v) == p.allowed.end()) {
      std::string list;
      for (const Value& a : p.allowed) list += (list.empty() ? "" : ", ") + a.to_text();
      diags_.error(file, mark, label + shown + " is not one of the allowed values: " + list);
    }
    if (secret) return;
    double measure = 0;
    std::string measured;
    if (v.is_int()) {
      measure = static_cast<double>(v.as_int());
      measured = "is";
    } else if (v.is_string()) {
      measure = static_cast<double>(v.as_string().size());
      measured = "has length";
    } else if (v.is_list()) {
      measure = static_cast<double>(v.as_list().size());
      measured = "has length";
    } else {
      return;
    }
    auto number = [](double d) { return std::to_string(static_cast<int64_t>(d)); };
    if (p.min && measure < *p.min) {
      diags_.error(
          file, mark,
          label + " " + measured + " " + number(measure) + ", less than its min " + number(*p.min));
    }
    if (p.max && measure > *p.max) {
      diags_.error(
          file, mark,
          label + " " + measured + " " + number(measure) + ", more than its max " + number(*p.max));
    }
  }

  const Runbook& rb_;
  Diagnostics& diags_;
  std::map<std::string, Given> given_;
};

}  // namespace

ResolvedParams resolve_params(const Runbook& runbook, const ParamSources& sources,
                              Diagnostics& diags) {
  Diagnostics found;
  Resolver r(runbook, found);
  r.add_values(sources.values);
  if (!sources.params_file.empty()) r.add_file(sources.params_file);
  for (const std::string& pair : sources.pairs) r.add_pair(pair);
  ResolvedParams out = r.finish();
  found.sort();
  diags.append(found);
  return out;
}

std::string params_json_masked(const Runbook& runbook, const Value::Map& values) {
  Value::Map out;
  for (const auto& [name, value] : values) {
    const Param* p = runbook.find_param(name);
    const bool secret = p != nullptr && p->type == ParamType::secret;
    out[name] = secret && !value.is_null() ? Value(std::string(SecretMasker::kMask)) : value;
  }
  return Value(std::move(out)).to_json();
}

std::string format_params_help(const Runbook& runbook) {
  if (runbook.params.empty()) return "Runbook '" + runbook.name + "' takes no params.\n";
  size_t width = 0;
  for (const Param& p : runbook.params) width = std::max(width, p.name.size());
  std::string out = "Params of runbook '" + runbook.name + "' (give them with -p NAME=VALUE):\n";
  for (const Param& p : runbook.params) {
    std::string line = "  " + p.name + std::string(width - p.name.size() + 2, ' ');
    line += to_string(p.type);
    if (p.required) {
      line += ", required";
    } else if (p.default_value) {
      line +=
          ", default " + (p.default_value->is_string() ? "\"" + p.default_value->as_string() + "\""
                                                       : p.default_value->to_json());
    } else {
      line += ", optional";
    }
    if (!p.allowed.empty()) {
      std::string list;
      for (const Value& a : p.allowed) list += (list.empty() ? "" : ", ") + a.to_text();
      line += ", one of: " + list;
    }
    if (p.pattern) line += ", pattern " + *p.pattern;
    auto number = [](double d) { return std::to_string(static_cast<int64_t>(d)); };
    const std::string min_max = p.type == ParamType::integer ? "" : " length";
    if (p.min) line += "," + min_max + " min " + number(*p.min);
    if (p.max) line += "," + min_max + " max " + number(*p.max);
    if (p.from_env) line += ", from env " + *p.from_env;
    if (p.from_file) line += ", from file " + *p.from_file;
    out += line + "\n";
    if (!p.description.empty()) out += std::string(width + 4, ' ') + p.description + "\n";
  }
  return out;
}

}  // namespace runbook
