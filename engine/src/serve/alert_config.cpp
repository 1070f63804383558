// Reading `alerts:` of the server config, and what a rule's `match:` and
// `on:` take.

#include <exception>
#include <map>
#include <set>

#include "runbook/executor.hpp"
#include "runbook/expr.hpp"
#include "serve/config_parts.hpp"

namespace runbook::serve {

Expected<LabelMatcher, std::string> parse_label_matcher(const std::string& label,
                                                        const std::string& value) {
  LabelMatcher m;
  m.label = label;
  std::string_view v = value;
  if (v.starts_with("=~")) {
    m.op = LabelMatcher::Op::regex;
    v.remove_prefix(2);
  } else if (v.starts_with("!~")) {
    m.op = LabelMatcher::Op::not_regex;
    v.remove_prefix(2);
  } else if (v.starts_with("!=")) {
    m.op = LabelMatcher::Op::not_equal;
    v.remove_prefix(2);
  } else if (v.starts_with("=")) {
    v.remove_prefix(1);
  }
  m.value = std::string(v);
  if (m.op == LabelMatcher::Op::regex || m.op == LabelMatcher::Op::not_regex) {
    try {
      // Anchored: Prometheus and Alertmanager regexes match the whole value.
      m.regex = std::make_shared<const std::regex>("^(?:" + m.value + ")$",
                                                   std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return std::string("invalid regex '") + m.value + "': " + e.what();
    }
  }
  return m;
}

bool LabelMatcher::matches(const std::map<std::string, std::string>& labels) const {
  auto it = labels.find(label);
  const std::string& v = it == labels.end() ? std::string() : it->second;
  switch (op) {
    case Op::equal:
      return v == value;
    case Op::not_equal:
      return v != value;
    case Op::regex:
    case Op::not_regex:
      if (v.size() > kMaxRegexInput) return false;
      try {
        return std::regex_match(v, *regex) == (op == Op::regex);
      } catch (const std::exception&) {
        return false;  // regex_error (complexity): never a match
      }
  }
  return false;
}

bool AlertRule::matches(const std::map<std::string, std::string>& labels) const {
  for (const LabelMatcher& m : match)
    if (!m.matches(labels)) return false;
  return true;
}

bool AlertRule::takes(const std::string& status) const {
  if (on == AlertOn::both) return true;
  return status == (on == AlertOn::firing ? "firing" : "resolved");
}

namespace config_parts {
namespace {

using load::Entry;

const std::vector<std::string_view> kRuleKeys = {
    "name",    "match",    "on",          "runbook",
    "params",  "group_by", "cooldown",    "max_runs_per_hour",
    "breaker", "escalate", "auto_approve"};
const std::vector<std::string_view> kBreakerKeys = {"failures", "open_for"};
const std::vector<std::string_view> kEscalateKeys = {"exec", "timeout"};

// Checks that a template parses; reports at `mark`.
bool check_template(Section& s, const std::string& text, Mark mark, const std::string& what) {
  Expected<Template> t = parse_template(text);
  if (t) return true;
  s.reader.error(mark, "in " + what + ": " + t.error().format(),
                 "alert rules may read alert.labels.X and alert.annotations.X");
  return false;
}

class RuleLoader {
 public:
  explicit RuleLoader(Section& s) : s_(s) {}

  std::vector<AlertRule> load(const Entry& e) {
    std::vector<AlertRule> rules;
    if (!e.value || e.value.IsNull()) return rules;
    if (!e.value.IsSequence()) {
      s_.reader.error(load::value_mark(e),
                      "'alerts' must be a list, not " + load::describe(e.value));
      return rules;
    }
    size_t index = 0;
    for (const load::yaml::Node& item : e.value) {
      ++index;
      if (!item.IsMap()) {
        s_.reader.error(item.IsNull() ? load::value_mark(e) : load::mark_of(item),
                        "an alert rule must be a map with 'name', 'match' and 'runbook', not " +
                            load::describe(item));
        continue;
      }
      if (std::optional<AlertRule> rule = load_rule(item, index)) rules.push_back(std::move(*rule));
    }
    return rules;
  }

 private:
  std::optional<AlertRule> load_rule(const load::yaml::Node& map, size_t index) {
    const size_t errors_before = s_.diags.size();
    AlertRule rule;
    rule.mark = load::mark_of(map);
    std::string label = "alert rule " + std::to_string(index);
    const std::vector<Entry> entries = s_.reader.entries(map);
    for (const Entry& e : entries) {
      if (e.key != "name") continue;
      std::optional<std::string> name = s_.reader.string(e, "name");
      if (!name) break;
      if (!load::is_valid_id(*name)) {
        s_.reader.error(load::value_mark(e), "invalid alert rule name '" + *name + "'",
                        "names are lowercase letters, digits, '_' and '-', starting with a "
                        "letter or digit");
        break;
      }
      rule.name = *name;
      label = "alert rule '" + rule.name + "'";
      auto [first, inserted] = names_.emplace(rule.name, load::mark_of(e.value));
      if (!inserted)
        s_.reader.error(load::value_mark(e), "duplicate alert rule name '" + rule.name + "'",
                        "first at line " + std::to_string(first->second.line));
    }

    const Entry* runbook_entry = nullptr;
    const Entry* params_entry = nullptr;
    bool has_name = false, has_match = false;
    for (const Entry& e : entries) {
      const std::string& k = e.key;
      if (k == "name") {
        has_name = true;
      } else if (k == "match") {
        has_match = true;
        load_match(e, rule);
      } else if (k == "on") {
        if (auto v = read_choice(s_.reader, e, "on", {"firing", "resolved", "both"}))
          rule.on = *v == 0 ? AlertOn::firing : *v == 1 ? AlertOn::resolved : AlertOn::both;
      } else if (k == "runbook") {
        runbook_entry = &e;
      } else if (k == "params") {
        params_entry = &e;
        load_params(e, rule);
      } else if (k == "group_by") {
        if (auto labels = s_.reader.text_list(e, "group_by", false))
          for (const Text& t : *labels) rule.group_by.push_back(t.value);
      } else if (k == "cooldown") {
        if (auto d = s_.reader.duration(e, "cooldown")) rule.cooldown = *d;
      } else if (k == "max_runs_per_hour") {
        if (auto n = s_.reader.integer(e, "max_runs_per_hour", 1, 1'000'000))
          rule.max_runs_per_hour = int(*n);
      } else if (k == "breaker") {
        load_breaker(e, rule);
      } else if (k == "escalate") {
        load_escalate(e, rule);
      } else if (k == "auto_approve") {
        if (auto b = s_.reader.boolean(e, "auto_approve")) rule.auto_approve = *b;
      } else if (k.starts_with("x-")) {
        // Extension keys are for the author, as in runbooks; ignored.
      } else {
        s_.reader.unknown_key(e, kRuleKeys, "in " + label);
      }
    }
    if (!has_name) s_.reader.error(rule.mark, label + " is missing required key 'name'");
    if (!has_match)
      s_.reader.error(rule.mark, label + " is missing required key 'match'",
                      "a rule that matched every alert would remediate anything");
    if (runbook_entry == nullptr) {
      s_.reader.error(rule.mark, label + " is missing required key 'runbook'");
    } else if (std::optional<std::string> path = s_.reader.string(*runbook_entry, "runbook")) {
      if (path->empty()) {
        s_.reader.error(load::value_mark(*runbook_entry), "'runbook' must not be empty");
      } else {
        rule.runbook_path = resolve_path(s_.runbooks_dir, *path);
        rule.runbook = s_.load_runbook(rule.runbook_path, load::value_mark(*runbook_entry));
      }
    }
    if (rule.runbook) check_runbook(rule, label, *runbook_entry, params_entry);
    if (s_.diags.size() != errors_before || !rule.runbook) return std::nullopt;
    return rule;
  }

  void load_match(const Entry& e, AlertRule& rule) {
    if (!s_.reader.is_map(e, "match")) return;
    if (!e.value || e.value.IsNull() || e.value.size() == 0) {
      s_.reader.error(load::value_mark(e), "'match' must name at least one label",
                      "a rule that matched every alert would remediate anything");
      return;
    }
    for (const Entry& m : s_.reader.entries(e.value)) {
      std::optional<std::string> value = s_.reader.string(m, "match." + m.key);
      if (!value) continue;
      Expected<LabelMatcher, std::string> matcher = parse_label_matcher(m.key, *value);
      if (!matcher) {
        s_.reader.error(load::value_mark(m), "match." + m.key + ": " + matcher.error(),
                        "regexes are ECMAScript, matched against the whole label value");
        continue;
      }
      rule.match.push_back(matcher.value());
    }
  }

  void load_params(const Entry& e, AlertRule& rule) {
    if (!s_.reader.is_map(e, "params") || !e.value || e.value.IsNull()) return;
    for (const Entry& p : s_.reader.entries(e.value)) {
      std::optional<Value> v = s_.reader.value(p.value, "params." + p.key);
      if (!v) continue;
      if (v->is_string())
        check_template(s_, v->as_string(), load::value_mark(p), "params." + p.key);
      rule.params[p.key] = std::move(*v);
      param_marks_[p.key] = load::mark_of(p.key_node);
    }
  }

  void load_breaker(const Entry& e, AlertRule& rule) {
    if (!s_.reader.is_map(e, "breaker") || !e.value || e.value.IsNull()) return;
    BreakerConfig breaker;
    for (const Entry& b : s_.reader.entries(e.value)) {
      if (b.key == "failures") {
        if (auto n = s_.reader.integer(b, "breaker.failures", 1, 1000)) breaker.failures = int(*n);
      } else if (b.key == "open_for") {
        if (auto d = s_.reader.duration(b, "breaker.open_for")) breaker.open_for = *d;
      } else {
        s_.reader.unknown_key(b, kBreakerKeys, "in breaker");
      }
    }
    rule.breaker = breaker;
  }

  void load_escalate(const Entry& e, AlertRule& rule) {
    if (!s_.reader.is_map(e, "escalate") || !e.value || e.value.IsNull()) return;
    bool has_exec = false;
    for (const Entry& x : s_.reader.entries(e.value)) {
      if (x.key == "exec") {
        has_exec = true;
        std::optional<std::vector<Text>> argv = s_.reader.text_list(x, "escalate.exec", false);
        if (!argv) continue;
        if (argv->empty()) {
          s_.reader.error(load::value_mark(x), "'escalate.exec' must not be empty",
                          "the command and its arguments, like [notify-oncall, '--page']");
          continue;
        }
        for (const Text& t : *argv) {
          check_template(s_, t.value, t.mark, "escalate.exec");
          rule.escalate.push_back(t.value);
        }
      } else if (x.key == "timeout") {
        if (auto d = s_.reader.duration(x, "escalate.timeout")) rule.escalate_timeout = *d;
      } else {
        s_.reader.unknown_key(x, kEscalateKeys, "in escalate");
      }
    }
    if (!has_exec) s_.reader.error(load::value_mark(e), "'escalate' needs 'exec'");
  }

  // What can be known before an alert fills the params in: every name is a
  // param of the runbook, every param the runbook requires is given, and a
  // runbook asking for confirmation is allowed to run unattended.
  void check_runbook(const AlertRule& rule, const std::string& label, const Entry& runbook_entry,
                     const Entry* params_entry) {
    const Runbook& rb = *rule.runbook;
    std::vector<std::string_view> known;
    for (const Param& p : rb.params) known.push_back(p.name);
    for (const auto& [name, value] : rule.params) {
      if (rb.find_param(name)) continue;
      const std::string near = nearest_word(name, known);
      s_.reader.error(param_marks_[name],
                      "unknown param '" + name + "' for runbook '" + rb.name + "'",
                      near.empty() ? std::string() : "did you mean '" + near + "'?");
    }
    for (const Param& p : rb.params) {
      const bool given = rule.params.count(p.name) != 0;
      const bool has_source = p.default_value || p.from_env || p.from_file || !p.required;
      if (given || has_source) continue;
      s_.reader.error(params_entry ? load::value_mark(*params_entry) : rule.mark,
                      "runbook '" + rb.name + "' requires param '" + p.name + "'",
                      "add it to the params of " + label + ", e.g. from a label: " + p.name +
                          ": \"${{ alert.labels." + p.name + " }}\"");
    }
    const std::vector<std::string> confirming = steps_that_confirm(rb);
    if (!confirming.empty() && !rule.auto_approve) {
      s_.reader.error(load::value_mark(runbook_entry),
                      "runbook '" + rb.name + "' asks for confirmation (" +
                          name_list("step", confirming) + ") but an alert runs it unattended",
                      "set 'auto_approve: true' on " + label + " to answer yes");
    }
  }

  Section& s_;
  std::map<std::string, Mark> names_;
  std::map<std::string, Mark> param_marks_;
};

}  // namespace

std::vector<AlertRule> load_alert_rules(const load::Entry& e, Section& section) {
  return RuleLoader(section).load(e);
}

}  // namespace config_parts
}  // namespace runbook::serve
