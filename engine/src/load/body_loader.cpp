#include "load/body_loader.hpp"

#include <algorithm>
#include <string>

namespace runbook::load {

namespace {

constexpr int kMaxAttempts = 10'000;

// Records where each argument of `with:` is written, for diagnostics a
// plugin reports by path. Bounded: marks past the limits fall back to the
// nearest recorded one.
void mark_with(YamlReader& r, const yaml::Node& node, const std::string& path,
               std::map<std::string, Mark>& marks, int depth) {
  if (depth > 8 || marks.size() > 4096) return;
  if (node.IsMap()) {
    for (const Entry& e : r.muted().entries(node)) {
      std::string at = path.empty() ? e.key : path + "." + e.key;
      marks.emplace(at, value_mark(e));
      mark_with(r, e.value, at, marks, depth + 1);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      std::string at = path + "[" + std::to_string(i) + "]";
      marks.emplace(at, mark_of(node[i]));
      mark_with(r, node[i], at, marks, depth + 1);
    }
  }
}

void load_action(YamlReader& r, const Entry& e, StepBody& body) {
  if (e.key == "run") {
    if (std::optional<Text> run = r.text(e, "run")) {
      if (run->value.find_first_not_of(" \t\r\n") == std::string::npos) {
        r.error(value_mark(e), "'run' must not be empty");
      }
      body.run = std::move(*run);
    }
  } else if (e.key == "exec") {
    if (std::optional<std::vector<Text>> argv = r.text_list(e, "exec", false)) {
      if (argv->empty() || argv->front().value.empty()) {
        r.error(value_mark(e), "'exec' must start with the program to run");
      }
      body.exec = std::move(*argv);
    }
  } else {  // uses
    if (std::optional<std::string> uses = r.string(e, "uses")) {
      if (uses->empty()) r.error(value_mark(e), "'uses' must name a step kind");
      body.uses = std::move(*uses);
    }
  }
}

void load_retry_on(YamlReader& r, const Entry& e, RetryPolicy& retry) {
  std::optional<std::vector<Text>> items = r.text_list(e, "retry.on", true);
  if (!items) return;
  if (items->empty()) {
    r.error(value_mark(e), "'retry.on' must list failure, timeout or both");
    return;
  }
  retry.on_failure = false;
  retry.on_timeout = false;
  for (const Text& item : *items) {
    if (item.value == "failure") {
      retry.on_failure = true;
    } else if (item.value == "timeout") {
      retry.on_timeout = true;
    } else {
      std::string near = nearest_word(item.value, {"failure", "timeout"});
      r.error(item.mark, "'retry.on' items must be failure or timeout, not '" + item.value + "'",
              near.empty() ? std::string() : "did you mean '" + near + "'?");
    }
  }
}

}  // namespace

bool is_action_key(std::string_view key) {
  return key == "run" || key == "exec" || key == "uses";
}

const std::vector<std::string_view>& body_keys() {
  static const std::vector<std::string_view> keys = {
      "run", "exec", "uses", "with", "env", "workdir", "timeout", "retry", "shell", "kill_grace"};
  return keys;
}

bool load_body_field(YamlReader& r, const Entry& e, StepBody& body, std::string_view owner) {
  const std::string& k = e.key;
  if (is_action_key(k)) {
    load_action(r, e, body);
  } else if (k == "shell") {
    if (std::optional<std::string> shell = r.string(e, "shell")) {
      if (shell->empty())
        r.error(value_mark(e), "'shell' must name an interpreter, like sh or python3");
      body.shell = std::move(*shell);
    }
  } else if (k == "with") {
    if (r.is_map(e, "with")) {
      if (std::optional<Value> with = r.value(e.value, "with")) {
        body.with = with->is_null() ? Value(Value::Map{}) : std::move(*with);
        mark_with(r, e.value, "", body.with_marks, 0);
      }
      body.with_mark = value_mark(e);
    }
  } else if (k == "env") {
    if (std::optional<EnvList> env = r.env(e, "env")) body.env = std::move(*env);
  } else if (k == "workdir") {
    if (std::optional<Text> workdir = r.text(e, "workdir")) {
      if (workdir->value.empty()) r.error(value_mark(e), "'workdir' must not be empty");
      body.workdir = std::move(*workdir);
    }
  } else if (k == "timeout") {
    if (std::optional<Duration> d = r.duration(e, "timeout")) body.timeout = *d;
  } else if (k == "kill_grace") {
    if (std::optional<Duration> d = r.duration(e, "kill_grace")) body.kill_grace = *d;
  } else if (k == "retry") {
    if (std::optional<RetryPolicy> retry = load_retry(r, e, owner)) body.retry = std::move(*retry);
  } else {
    return false;
  }
  return true;
}

void settle_action(YamlReader& r, const std::vector<const Entry*>& actions, const Entry* with,
                   StepBody& body, std::string_view owner, Mark owner_mark) {
  if (actions.empty()) {
    r.error(owner_mark, std::string(owner) + " has no 'run', 'exec' or 'uses'",
            "give it exactly one");
    return;
  }
  for (size_t k = 1; k < actions.size(); ++k) {
    r.error(
        mark_of(actions[k]->key_node),
        std::string(owner) + " has both '" + actions[0]->key + "' and '" + actions[k]->key + "'",
        "use exactly one of 'run', 'exec' or 'uses'");
  }
  const Entry& action = *actions.front();
  body.kind_mark = mark_of(action.key_node);
  body.kind = action.key == "run"    ? ActionKind::run
              : action.key == "exec" ? ActionKind::exec
                                     : ActionKind::uses;
  if (with != nullptr && !with->from_defaults && body.kind != ActionKind::uses) {
    r.error(mark_of(with->key_node), "'with' is only for steps that 'uses' a plugin",
            "pass values to a script through 'env'");
  }
}

std::optional<RetryPolicy> load_retry(YamlReader& r, const Entry& e, std::string_view owner) {
  RetryPolicy retry;
  if (e.value.IsScalar() && parse_int(e.value.Scalar())) {
    std::optional<int64_t> attempts = r.integer(e, "retry", 1, kMaxAttempts);
    if (!attempts) return std::nullopt;
    retry.attempts = static_cast<int>(*attempts);
    return retry;
  }
  if (!e.value.IsMap()) {
    r.error(value_mark(e),
            "'retry' must be a number of attempts or a map like "
            "{attempts: 3, delay: 5s}, not " +
                describe(e.value));
    return std::nullopt;
  }
  static const std::vector<std::string_view> keys = {"attempts", "delay", "backoff",   "max_delay",
                                                     "jitter",   "on",    "exit_codes"};
  const std::string where = "in the retry of " + std::string(owner);
  bool ok = true;
  for (const Entry& f : r.entries(e.value)) {
    const std::string& k = f.key;
    if (k == "attempts") {
      std::optional<int64_t> attempts = r.integer(f, "retry.attempts", 1, kMaxAttempts);
      ok = ok && attempts;
      if (attempts) retry.attempts = static_cast<int>(*attempts);
    } else if (k == "delay" || k == "max_delay" || k == "jitter") {
      std::optional<Duration> d = r.duration(f, "retry." + k);
      ok = ok && d;
      if (!d) continue;
      if (k == "delay") retry.delay = *d;
      if (k == "max_delay") retry.max_delay = *d;
      if (k == "jitter") retry.jitter = *d;
    } else if (k == "backoff") {
      std::optional<double> backoff = r.number(f, "retry.backoff", 1.0);
      ok = ok && backoff;
      if (backoff) retry.backoff = *backoff;
    } else if (k == "on") {
      load_retry_on(r, f, retry);
    } else if (k == "exit_codes") {
      std::optional<std::vector<int>> codes = r.int_list(f, "retry.exit_codes", 1, 255);
      ok = ok && codes;
      if (codes) retry.exit_codes = std::move(*codes);
    } else {
      r.unknown_key(f, keys, where);
    }
  }
  if (!ok) return std::nullopt;
  return retry;
}

std::optional<AllowFailure> load_allow_failure(YamlReader& r, const Entry& e,
                                               std::string_view owner) {
  AllowFailure allow;
  if (e.value.IsMap()) {
    static const std::vector<std::string_view> keys = {"exit_codes"};
    for (const Entry& f : r.entries(e.value)) {
      if (f.key != "exit_codes") {
        r.unknown_key(f, keys, "in the allow_failure of " + std::string(owner));
        continue;
      }
      if (auto codes = r.int_list(f, "allow_failure.exit_codes", 1, 255)) {
        allow.exit_codes = std::move(*codes);
      }
    }
    return allow;
  }
  if (e.value.IsScalar()) {
    if (std::optional<bool> any = parse_bool(e.value.Scalar())) {
      allow.any = *any;
      return allow;
    }
  }
  r.error(value_mark(e),
          "'allow_failure' must be true, false or {exit_codes: [..]}, not " + describe(e.value));
  return std::nullopt;
}

std::optional<StepBody> load_rollback(YamlReader& r, const Entry& e, std::string_view owner) {
  StepBody body;
  const std::string rollback_owner = "the rollback of " + std::string(owner);
  if (e.value.IsScalar()) {
    std::vector<const Entry*> actions;
    Entry run{"run", e.key_node, e.value, e.from_defaults};
    actions.push_back(&run);
    load_body_field(r, run, body, rollback_owner);
    settle_action(r, actions, nullptr, body, rollback_owner, mark_of(e.key_node));
    return body;
  }
  if (!e.value.IsMap()) {
    r.error(value_mark(e),
            "'rollback' must be a script or a map with 'run', 'exec' or 'uses', not " +
                describe(e.value));
    return std::nullopt;
  }
  const std::vector<Entry> fields = r.entries(e.value);
  std::vector<const Entry*> actions;
  const Entry* with = nullptr;
  for (const Entry& f : fields) {
    if (!load_body_field(r, f, body, rollback_owner)) {
      r.unknown_key(f, body_keys(), "in " + rollback_owner);
      continue;
    }
    if (is_action_key(f.key)) actions.push_back(&f);
    if (f.key == "with") with = &f;
  }
  settle_action(r, actions, with, body, rollback_owner, mark_of(e.key_node));
  return body;
}

}  // namespace runbook::load
