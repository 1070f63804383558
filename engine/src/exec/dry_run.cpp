#include <sstream>

#include "exec/run_environment.hpp"
#include "runbook/executor.hpp"
#include "runbook/expr.hpp"
#include "runbook/graph.hpp"
#include "runbook/params.hpp"

namespace runbook {
namespace {

// What the plan shows for a template: values known before the run resolved,
// the rest as written.
struct PlanRender {
  ExprContext context;
  const SecretMasker* masker;

  std::string operator()(const std::string& text) const {
    Expected<Template> tpl = parse_template(text);
    if (!tpl) return text;
    std::string out;
    for (const TemplatePart& part : tpl.value().parts) {
      if (!part.expression) {
        out += part.literal;
        continue;
      }
      std::string src = part.expression->source();
      src.erase(0, src.find_first_not_of(" \t"));
      src.erase(src.find_last_not_of(" \t") + 1);
      bool later = src.find("steps.") != std::string::npos ||
                   src.find("item") != std::string::npos || src.find("index") != std::string::npos;
      Expected<Value> v =
          later ? Expected<Value>(ExprError{}) : evaluate(*part.expression, context);
      out += v ? masker->mask(v.value().to_text()) : "${{ " + src + " }}";
    }
    return out;
  }
};

std::string indent(const std::string& text, const std::string& prefix) {
  std::string out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) out += prefix + line + "\n";
  return out;
}

std::string describe_body(const StepBody& body, const std::string& prefix, const PlanRender& show) {
  std::string out;
  switch (body.kind) {
    case ActionKind::run:
      out += prefix + "run (" + (body.shell.empty() ? "bash -eo pipefail" : body.shell) + "):\n";
      out += indent(show(body.run.value), prefix + "  | ");
      break;
    case ActionKind::exec: {
      out += prefix + "exec:";
      for (const Text& t : body.exec) out += " " + show(t.value);
      out += "\n";
      break;
    }
    case ActionKind::uses:
      out += prefix + "uses: " + body.uses + "\n";
      break;
    case ActionKind::none:
      break;
  }
  std::string limits;
  if (body.timeout) limits += "timeout " + format_duration(*body.timeout);
  if (body.retry.attempts > 1) {
    if (!limits.empty()) limits += ", ";
    limits += std::to_string(body.retry.attempts) + " attempts";
    if (body.retry.delay.count() > 0) limits += ", delay " + format_duration(body.retry.delay);
    if (body.retry.backoff > 1.0) {
      std::ostringstream f;
      f << body.retry.backoff;
      limits += " ×" + f.str();
    }
    if (body.retry.max_delay) limits += " up to " + format_duration(*body.retry.max_delay);
    limits += " on";
    if (body.retry.on_failure) limits += " failure";
    if (body.retry.on_timeout) limits += " timeout";
  }
  if (!body.workdir) {
  } else {
    out += prefix + "workdir: " + show(body.workdir->value) + "\n";
  }
  for (const auto& [name, text] : body.env)
    out += prefix + "env " + name + "=" + show(text.value) + "\n";
  if (!limits.empty()) out += prefix + limits + "\n";
  return out;
}

// The for_each line, and the items when they are known before the run (a
// literal list, or an expression that reads no step's result).
std::string describe_for_each(const Step& step, const PlanRender& show) {
  std::string out = "    for_each: ";
  out += step.for_each ? step.for_each->value : step.for_each_list->to_json();
  if (step.for_each_parallel > 0)
    out += "  (up to " + std::to_string(step.for_each_parallel) + " at once)";
  out += "\n";
  if (step.for_each && step.for_each->value.find("steps.") != std::string::npos) return out;
  Expected<Value::List> items = expand_for_each(step, show.context);
  if (!items) return out + "      (cannot get the items: " + items.error().format() + ")\n";
  if (items.value().empty()) return out + "      no items: nothing will run\n";
  constexpr size_t kShown = 20;
  for (size_t i = 0; i < items.value().size() && i < kShown; ++i) {
    const Value& item = items.value()[i];
    out += "      [" + std::to_string(i) + "] " +
           show.masker->mask(item.is_list() || item.is_map() ? item.to_json() : item.to_text()) +
           "\n";
  }
  if (items.value().size() > kShown)
    out += "      … and " + std::to_string(items.value().size() - kShown) + " more\n";
  return out;
}

}  // namespace

std::string describe_plan(const Runbook& runbook, const RunOptions& options) {
  int max_parallel = options.max_parallel.value_or(runbook.effective_max_parallel());
  SecretMasker masker(options.secrets);
  StringMap env;
  for (const auto& [name, text] : runbook.env) env[name] = text.value;
  PlanRender show{ExprContext{}, &masker};
  show.context.params = &options.params;
  show.context.env = &env;
  show.context.run_trigger = options.trigger;
  Graph graph(runbook.steps);
  std::string out = "plan for " + runbook.name + " (" + std::to_string(runbook.steps.size()) +
                    " steps, up to " + std::to_string(max_parallel) + " at once";
  if (runbook.timeout) out += ", run timeout " + format_duration(*runbook.timeout);
  out += std::string(", on failure: ") +
         (runbook.on_failure == OnFailure::rollback ? "rollback" : "stop") + ")\n";
  auto waves = graph.waves();
  int rollbacks = 0;
  for (size_t w = 0; w < waves.size(); ++w) {
    out += "\nwave " + std::to_string(w + 1) + ":\n";
    for (int i : waves[w]) {
      const Step& step = runbook.steps[size_t(i)];
      out += "  " + step.id;
      if (!step.needs.empty()) {
        out += "  (needs";
        for (const std::string& n : step.needs) out += " " + n;
        out += ")";
      }
      out += "\n" + describe_body(step.body, "    ", show);
      if (step.deadline) out += "    deadline " + format_duration(*step.deadline) + "\n";
      if (step.when) out += "    when: " + step.when->value + "\n";
      if (step.confirm) out += "    asks: " + show(step.confirm->value) + "\n";
      if (step.for_each || step.for_each_list) out += describe_for_each(step, show);
      if (step.allow_failure.enabled()) out += "    allowed to fail\n";
      if (step.rollback) {
        ++rollbacks;
        out += "    rollback:\n" + describe_body(*step.rollback, "      ", show);
      }
    }
  }
  auto hooks = [&](const char* name, const std::vector<Step>& steps) {
    if (steps.empty()) return;
    out += std::string("\nhooks.") + name + ":\n";
    for (const Step& s : steps) out += "  " + s.id + "\n" + describe_body(s.body, "    ", show);
  };
  hooks("on_success", runbook.hooks.on_success);
  hooks("on_failure", runbook.hooks.on_failure);
  hooks("finally", runbook.hooks.finally);
  out += "\n" + std::to_string(rollbacks) + " rollback(s) registered; nothing was run.\n";
  return out;
}

}  // namespace runbook
