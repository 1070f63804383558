// Checking a runbook's `uses:` steps against the plugins found.

#include <functional>
#include <string_view>

#include "runbook/plugin.h"
#include "runbook/plugins.hpp"

namespace runbook {
namespace {

// Calls `fn` for every body with `uses:`: steps, their rollbacks, hooks.
void for_each_plugin_body(const Runbook& runbook,
                          const std::function<void(const StepBody&, const std::string&)>& fn) {
  auto visit = [&](const Step& step, const std::string& what) {
    if (step.body.kind == ActionKind::uses) fn(step.body, what + " '" + step.id + "'");
    if (step.rollback && step.rollback->kind == ActionKind::uses)
      fn(*step.rollback, "the rollback of step '" + step.id + "'");
  };
  for (const Step& s : runbook.steps) visit(s, "step");
  for (const auto* hooks :
       {&runbook.hooks.on_success, &runbook.hooks.on_failure, &runbook.hooks.finally})
    for (const Step& s : *hooks) visit(s, "hook");
}

// Where the argument at `path` ("a.b[2]") is written: the nearest enclosing
// argument with a mark, else the `with:` map, else the `uses:` key.
Mark mark_of_path(const StepBody& body, std::string path) {
  while (!path.empty()) {
    if (auto it = body.with_marks.find(path); it != body.with_marks.end() && it->second.line > 0)
      return it->second;
    size_t cut = path.find_last_of(".[");
    path = cut == std::string::npos ? "" : path.substr(0, cut);
  }
  return body.with_mark.line > 0 ? body.with_mark : body.kind_mark;
}

struct ValidateContext {
  const Runbook* runbook;
  const StepBody* body;
  const std::string* where;
  std::string kind;
  Diagnostics* diags;
};

void report(void* ctx, const char* path, const char* message) {
  auto& c = *static_cast<ValidateContext*>(ctx);
  std::string at = path ? path : "";
  std::string text = std::string("'") + c.kind + "' in " + *c.where + ": " +
                     (at.empty() ? "" : "with." + at + ": ") + (message ? message : "invalid");
  c.diags->error(c.runbook->path, mark_of_path(*c.body, at), std::move(text));
}

}  // namespace

bool uses_plugins(const Runbook& runbook) {
  bool any = false;
  for_each_plugin_body(runbook, [&](const StepBody&, const std::string&) { any = true; });
  return any;
}

Diagnostics check_plugin_steps(const Runbook& runbook, const PluginRegistry& registry,
                               bool check_arguments) {
  Diagnostics diags;
  for_each_plugin_body(runbook, [&](const StepBody& body, const std::string& where) {
    if (body.uses.empty()) return;  // reported by the loader
    const PluginKind* kind = registry.find(body.uses);
    if (!kind) {
      std::vector<std::string> names = registry.kind_names();
      std::vector<std::string_view> known(names.begin(), names.end());
      std::string near = nearest_word(body.uses, known);
      std::string available;
      for (const std::string& n : names) available += (available.empty() ? "" : ", ") + n;
      std::string hint = !near.empty()       ? "did you mean '" + near + "'?"
                         : available.empty() ? "no plugins were found; see `runbook plugins list`"
                                             : "step kinds available: " + available;
      diags.error(runbook.path, body.kind_mark, "unknown step kind '" + body.uses + "' in " + where,
                  hint);
      return;
    }
    if (!check_arguments || !kind->abi->validate) return;
    ValidateContext ctx{&runbook, &body, &where, body.uses, &diags};
    runbook_validate_host host{&ctx, report};
    std::string with = body.with.is_null() ? "{}" : body.with.to_json();
    kind->abi->validate(&host, with.c_str());
  });
  return diags;
}

}  // namespace runbook
