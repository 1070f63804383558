// The loader's entry points: file or text to a validated Runbook, collecting
// every problem as a diagnostic. Nothing here throws on bad input.

#include <algorithm>
#include <exception>
#include <string>

#include "load/params_loader.hpp"
#include "load/step_loader.hpp"
#include "load/validate.hpp"
#include "load/yaml_reader.hpp"
#include "load/yaml_source.hpp"
#include "runbook/load.hpp"
#include "runbook/store.hpp"

namespace runbook {

namespace {

using load::Entry;
using load::YamlReader;

const std::vector<std::string_view>& top_level_keys() {
  static const std::vector<std::string_view> keys = {
      "version",      "name",    "description", "params",     "env",   "defaults",
      "max_parallel", "timeout", "lock",        "on_failure", "steps", "hooks"};
  return keys;
}

bool is_valid_name(std::string_view name) {
  return load::is_valid_id(name);
}

void load_version(YamlReader& r, const Entry& e, Runbook& rb) {
  std::optional<int64_t> version;
  if (e.value.IsScalar()) version = load::parse_int(e.value.Scalar());
  if (version == 1) {
    rb.version = 1;
    return;
  }
  r.error(load::value_mark(e), "unsupported version " + load::describe(e.value),
          "the only version is 1");
}

void load_hooks(YamlReader& r, const Entry& e, const std::vector<Entry>& defaults, Runbook& rb) {
  if (!r.is_map(e, "hooks") || !e.value || e.value.IsNull()) return;
  static const std::vector<std::string_view> keys = {"on_success", "on_failure", "finally"};
  for (const Entry& h : r.entries(e.value)) {
    std::vector<Step>* list = h.key == "on_success"   ? &rb.hooks.on_success
                              : h.key == "on_failure" ? &rb.hooks.on_failure
                              : h.key == "finally"    ? &rb.hooks.finally
                                                      : nullptr;
    if (list == nullptr) {
      r.unknown_key(h, keys, "in hooks");
      continue;
    }
    *list = load::load_steps(r, h, defaults, load::StepRole::hook, "hooks." + h.key);
  }
}

// Reads the top-level map into `rb`, reporting what is wrong or missing.
void load_top_level(YamlReader& r, const load::yaml::Node& root, Runbook& rb) {
  const std::vector<Entry> entries = r.entries(root);
  const Entry* steps = nullptr;
  const Entry* hooks = nullptr;
  std::vector<Entry> defaults;
  bool has_version = false, has_name = false;

  for (const Entry& e : entries) {
    const std::string& k = e.key;
    if (k == "version") {
      has_version = true;
      load_version(r, e, rb);
    } else if (k == "name") {
      has_name = true;
      if (std::optional<std::string> name = r.string(e, "name")) {
        rb.name = std::move(*name);
        if (!is_valid_name(rb.name)) {
          r.error(load::value_mark(e), "invalid runbook name '" + rb.name + "'",
                  "names are lowercase letters, digits, '_' and '-', starting with a letter or "
                  "digit");
        }
      }
    } else if (k == "description") {
      if (auto s = r.string(e, "description")) rb.description = std::move(*s);
    } else if (k == "params") {
      rb.params = load::load_params(r, e);
    } else if (k == "env") {
      if (auto env = r.env(e, "env")) rb.env = std::move(*env);
    } else if (k == "defaults") {
      defaults = load::load_defaults(r, e);
    } else if (k == "max_parallel") {
      if (auto n = r.integer(e, "max_parallel", 1, 1'000'000))
        rb.max_parallel = static_cast<int>(*n);
    } else if (k == "timeout") {
      if (auto d = r.duration(e, "timeout")) rb.timeout = *d;
    } else if (k == "lock") {
      if (auto lock = r.text(e, "lock")) {
        if (lock->value.empty()) r.error(load::value_mark(e), "'lock' must not be empty");
        rb.lock = std::move(*lock);
      }
    } else if (k == "on_failure") {
      std::optional<std::string> s = r.string(e, "on_failure");
      if (s == "rollback") {
        rb.on_failure = OnFailure::rollback;
      } else if (s == "stop") {
        rb.on_failure = OnFailure::stop;
      } else if (s) {
        std::string near = nearest_word(*s, {"rollback", "stop"});
        r.error(load::value_mark(e), "'on_failure' must be rollback or stop, not '" + *s + "'",
                near.empty() ? std::string() : "did you mean '" + near + "'?");
      }
    } else if (k == "steps") {
      steps = &e;
    } else if (k == "hooks") {
      hooks = &e;
    } else if (k.starts_with("x-")) {
      // Extension keys are for the author (anchors to merge into steps); ignored.
    } else {
      r.unknown_key(e, top_level_keys(), "at the top level");
    }
  }

  // Steps after the loop: they take the defaults, wherever those are written.
  if (steps != nullptr) {
    rb.steps = load::load_steps(r, *steps, defaults, load::StepRole::step, "steps");
  }
  if (hooks != nullptr) load_hooks(r, *hooks, defaults, rb);

  const Mark top = load::mark_of(root);
  if (!has_version) r.error(top, "missing required key 'version'", "add 'version: 1'");
  if (!has_name) r.error(top, "missing required key 'name'");
  if (steps == nullptr) r.error(top, "missing required key 'steps'");
}

// Sorted by position, without the repeats that a map merged (`<<`) into
// several places can cause.
void tidy(Diagnostics& diags) {
  diags.sort();
  Diagnostics unique;
  const Diagnostic* last = nullptr;
  for (const Diagnostic& d : diags.items()) {
    if (last != nullptr && last->mark.line == d.mark.line && last->mark.column == d.mark.column &&
        last->message == d.message && last->file == d.file) {
      continue;
    }
    unique.add(d);
    last = &d;
  }
  diags = std::move(unique);
}

LoadResult load_parsed_text(std::string_view text, const std::string& path) {
  LoadResult result;
  if (!load::check_source_text(text, path, result.diagnostics)) return result;
  std::optional<load::yaml::Node> root = load::parse_yaml(text, path, result.diagnostics);
  if (!root) return result;
  if (!*root || root->IsNull()) {
    result.diagnostics.error(path, {}, "the runbook is empty",
                             "a runbook needs at least 'version', 'name' and 'steps'");
    return result;
  }
  if (!root->IsMap()) {
    result.diagnostics.error(path, load::mark_of(*root),
                             "a runbook must be a YAML map of keys like 'version', 'name' and "
                             "'steps', not " +
                                 load::describe(*root));
    return result;
  }
  Runbook rb;
  rb.path = path;
  load::Budget budget;
  YamlReader reader(path, &result.diagnostics, &budget);
  load_top_level(reader, *root, rb);
  load::validate_runbook(rb, result.diagnostics, text);
  result.runbook = std::move(rb);
  return result;
}

}  // namespace

LoadResult load_runbook_text(std::string_view text, const std::string& path) {
  LoadResult result;
  try {
    result = load_parsed_text(text, path);
    if (result.runbook) result.runbook->sha256 = sha256_hex(text);
  } catch (const std::exception& e) {
    // Bad input must not throw; if it does anyway, it is still one diagnostic.
    result.runbook.reset();
    result.diagnostics.error(path, {}, std::string("cannot load runbook: ") + e.what());
  }
  tidy(result.diagnostics);
  return result;
}

LoadResult load_runbook_file(const std::string& path) {
  LoadResult result;
  std::optional<std::string> text;
  try {
    text = load::read_source_file(path, result.diagnostics);
  } catch (const std::exception& e) {
    result.diagnostics.error(path, {}, std::string("cannot read file: ") + e.what());
  }
  if (!text) return result;
  return load_runbook_text(*text, path);
}

}  // namespace runbook
