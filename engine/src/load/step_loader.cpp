#include "load/step_loader.hpp"

#include <string>

#include "load/body_loader.hpp"

namespace runbook::load {

namespace {

const std::vector<std::string_view>& step_keys() {
  static const std::vector<std::string_view> keys = {
      "id",       "name",         "description", "run",           "shell",    "exec",
      "uses",     "with",         "needs",       "when",          "env",      "workdir",
      "timeout",  "deadline",     "retry",       "allow_failure", "rollback", "confirm",
      "for_each", "max_parallel", "kill_grace",  "idempotent"};
  return keys;
}

// What load_field() saw that the step as a whole is checked against.
struct Seen {
  std::vector<const Entry*> actions;
  const Entry* with = nullptr;
  const Entry* max_parallel = nullptr;
  bool for_each = false;
};

enum class FieldsOf { step, hook, defaults };

// Reads one field of a step (or of `defaults:`) into `step`.
void load_field(YamlReader& r, const Entry& e, Step& step, Seen& seen, FieldsOf of,
                std::string_view owner, std::string_view where) {
  const std::string& k = e.key;
  if (load_body_field(r, e, step.body, owner)) {
    if (is_action_key(k)) seen.actions.push_back(&e);
    if (k == "with") seen.with = &e;
  } else if (k == "id") {
    // Read by load_step() before the other fields; refused in defaults.
    if (of == FieldsOf::defaults) r.error(mark_of(e.key_node), "'id' cannot have a default");
  } else if (k == "name" || k == "description") {
    if (std::optional<std::string> s = r.string(e, k))
      (k == "name" ? step.name : step.description) = *s;
  } else if (k == "needs") {
    if (of == FieldsOf::defaults) {
      r.error(mark_of(e.key_node), "'needs' cannot have a default");
    } else if (of == FieldsOf::hook) {
      r.error(mark_of(e.key_node), "'needs' is not allowed in hook steps",
              "hook steps run one after another, in the order listed");
    } else if (std::optional<std::vector<Text>> needs = r.text_list(e, "needs", true)) {
      step.needs.reserve(needs->size());
      step.needs_marks.reserve(needs->size());
      for (Text& need : *needs) {
        step.needs.push_back(std::move(need.value));
        step.needs_marks.push_back(need.mark);
      }
    }
  } else if (k == "when" || k == "confirm") {
    if (std::optional<Text> t = r.text(e, k)) {
      if (t->value.empty()) r.error(value_mark(e), "'" + k + "' must not be empty");
      (k == "when" ? step.when : step.confirm) = std::move(*t);
    }
  } else if (k == "deadline") {
    if (std::optional<Duration> d = r.duration(e, "deadline")) step.deadline = *d;
  } else if (k == "allow_failure") {
    if (auto allow = load_allow_failure(r, e, owner)) step.allow_failure = std::move(*allow);
  } else if (k == "rollback") {
    if (auto rollback = load_rollback(r, e, owner)) step.rollback = std::move(*rollback);
  } else if (k == "for_each") {
    seen.for_each = true;
    if (e.value.IsSequence()) {
      if (std::optional<Value> list = r.value(e.value, "for_each"))
        step.for_each_list = std::move(*list);
    } else if (e.value.IsScalar() && !e.value.Scalar().empty()) {
      step.for_each = Text{e.value.Scalar(), value_mark(e)};
    } else {
      r.error(value_mark(e),
              "'for_each' must be an expression or a list, not " + describe(e.value));
    }
  } else if (k == "max_parallel") {
    seen.max_parallel = &e;
    if (auto n = r.integer(e, "max_parallel", 1, 1'000'000))
      step.for_each_parallel = static_cast<int>(*n);
  } else if (k == "idempotent") {
    if (std::optional<bool> b = r.boolean(e, "idempotent")) step.idempotent = *b;
  } else {
    r.unknown_key(e, step_keys(), where);
  }
}

const Entry* find_entry(const std::vector<Entry>& entries, std::string_view key) {
  for (const Entry& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

// The step's own fields, then the defaults it does not set.
std::vector<Entry> with_defaults(std::vector<Entry> own, const std::vector<Entry>& defaults) {
  if (defaults.empty()) return own;
  bool has_action = false;
  for (const Entry& e : own) has_action = has_action || is_action_key(e.key);
  const size_t own_count = own.size();
  for (const Entry& d : defaults) {
    if (has_action && is_action_key(d.key)) continue;
    bool set = false;
    for (size_t k = 0; k < own_count && !set; ++k) set = own[k].key == d.key;
    if (set) continue;
    own.push_back(d);
    own.back().from_defaults = true;
  }
  return own;
}

std::optional<Step> load_step(YamlReader& r, YamlReader& muted, const yaml::Node& node,
                              const std::vector<Entry>& defaults, StepRole role,
                              std::string_view list_name, size_t index) {
  const std::string number = "step #" + std::to_string(index + 1) +
                             (role == StepRole::hook ? " of " + std::string(list_name) : "");
  if (!node.IsMap()) {
    r.error(mark_of(node), "a step must be a map with an 'id' and a 'run', not " + describe(node));
    return std::nullopt;
  }
  Step step;
  step.mark = mark_of(node);
  const std::vector<Entry> entries = with_defaults(r.entries(node), defaults);

  std::string owner = number;
  if (const Entry* id = find_entry(entries, "id")) {
    step.id_mark = value_mark(*id);
    if (std::optional<std::string> s = r.string(*id, "id")) {
      step.id = std::move(*s);
      if (!step.id.empty()) owner = "step '" + step.id + "'";
      // An empty id would name no log file and collide with other empty ids.
      if (step.id.empty()) r.error(step.id_mark, "the id of " + number + " is empty");
    }
  } else {
    r.error(step.mark, "missing required key 'id' in " + number);
    step.id_mark = step.mark;
  }

  const std::string where = "in " + owner;
  const FieldsOf of = role == StepRole::hook ? FieldsOf::hook : FieldsOf::step;
  Seen seen;
  for (const Entry& e : entries) {
    load_field(e.from_defaults ? muted : r, e, step, seen, of, owner, where);
  }
  settle_action(r, seen.actions, seen.with, step.body, owner, step.mark);
  if (seen.max_parallel != nullptr && !seen.max_parallel->from_defaults && !seen.for_each) {
    r.error(
        mark_of(seen.max_parallel->key_node),
        "'max_parallel' in a step limits its 'for_each' items, and " + owner + " has no 'for_each'",
        "the run's limit is the top-level 'max_parallel'");
  }
  return step;
}

}  // namespace

std::vector<Entry> load_defaults(YamlReader& r, const Entry& e) {
  if (!r.is_map(e, "defaults") || !e.value || e.value.IsNull()) return {};
  std::vector<Entry> entries = r.entries(e.value);
  Step scratch;
  Seen seen;
  std::vector<Entry> mergeable;
  for (const Entry& field : entries) {
    load_field(r, field, scratch, seen, FieldsOf::defaults, "defaults", "in defaults");
    if (field.key != "id" && field.key != "needs") mergeable.push_back(field);
  }
  return mergeable;
}

std::vector<Step> load_steps(YamlReader& r, const Entry& e, const std::vector<Entry>& defaults,
                             StepRole role, std::string_view list_name) {
  std::vector<Step> steps;
  if (!e.value || e.value.IsNull()) {
    if (role == StepRole::step) r.error(value_mark(e), "'steps' must list at least one step");
    return steps;
  }
  if (!e.value.IsSequence()) {
    r.error(value_mark(e),
            "'" + std::string(list_name) + "' must be a list of steps, not " + describe(e.value));
    return steps;
  }
  if (role == StepRole::step && e.value.size() == 0) {
    r.error(value_mark(e), "'steps' must list at least one step");
  }
  YamlReader muted = r.muted();
  steps.reserve(e.value.size());
  size_t index = 0;
  for (const yaml::Node& node : e.value) {
    if (std::optional<Step> step = load_step(r, muted, node, defaults, role, list_name, index++)) {
      steps.push_back(std::move(*step));
    }
  }
  return steps;
}

}  // namespace runbook::load
