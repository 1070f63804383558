#include "load/validate.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "expr/check.hpp"
#include "load/yaml_reader.hpp"
#include "runbook/graph.hpp"

namespace runbook::load {

namespace {

void check_ids(const Runbook& rb, Diagnostics& diags) {
  std::unordered_map<std::string_view, Mark> first_seen;
  first_seen.reserve(rb.steps.size());
  for (const std::vector<Step>* list :
       {&rb.steps, &rb.hooks.on_success, &rb.hooks.on_failure, &rb.hooks.finally}) {
    for (const Step& step : *list) {
      if (step.id.empty()) continue;  // reported as missing or empty by the step loader
      if (!is_valid_id(step.id)) {
        diags.error(rb.path, step.id_mark, "invalid step id '" + step.id + "'",
                    "ids are lowercase letters, digits, '_' and '-', starting with a letter or "
                    "digit");
      }
      auto [it, inserted] = first_seen.emplace(step.id, step.id_mark);
      if (!inserted) {
        diags.error(rb.path, step.id_mark, "duplicate step id '" + step.id + "'",
                    "first defined at line " + std::to_string(it->second.line));
      }
    }
  }
}

void check_needs(const Runbook& rb, Diagnostics& diags) {
  std::unordered_set<std::string_view> ids;
  ids.reserve(rb.steps.size());
  for (const Step& step : rb.steps) ids.insert(step.id);
  std::vector<std::string_view> all_ids;  // built on the first unknown need only

  for (const Step& step : rb.steps) {
    for (size_t k = 0; k < step.needs.size(); ++k) {
      const std::string& need = step.needs[k];
      const Mark at = step.needs_marks[k];
      const std::string who = step.id.empty() ? "a step" : "step '" + step.id + "'";
      if (need == step.id) {
        diags.error(rb.path, at, who + " needs itself");
      } else if (!ids.contains(need)) {
        if (all_ids.empty()) {
          all_ids.reserve(rb.steps.size());
          for (const Step& s : rb.steps) all_ids.push_back(s.id);
        }
        std::string near = nearest_word(need, all_ids);
        diags.error(rb.path, at, who + " needs unknown step '" + need + '\'',
                    near.empty() ? std::string() : "did you mean '" + near + "'?");
      } else if (std::find(step.needs.begin(), step.needs.begin() + static_cast<long>(k), need) !=
                 step.needs.begin() + static_cast<long>(k)) {
        std::string message = who;
        message += " lists '" + need + "' in 'needs' twice";
        diags.error(rb.path, at, std::move(message));
      }
    }
  }
}

void check_cycles(const Runbook& rb, Diagnostics& diags) {
  const Graph graph(rb.steps);
  for (std::vector<int> cycle : graph.find_cycles()) {
    if (cycle.size() < 2) continue;
    // [a, b, c, a]: start at the step written first, so the report is stable.
    cycle.pop_back();
    std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
    cycle.push_back(cycle.front());
    std::string path;
    for (int step : cycle) path += (path.empty() ? "" : " -> ") + graph.id(step);
    diags.error(rb.path, rb.steps[static_cast<size_t>(cycle.front())].id_mark,
                "dependency cycle: " + path);
  }
}

void visit_body(const StepBody& body, const Step* step, const TextVisitor& visit, bool rollback) {
  auto field = [rollback](std::string_view name) -> std::string_view {
    if (!rollback) return name;
    if (name == "run") return "rollback.run";
    if (name == "exec") return "rollback.exec";
    if (name == "env") return "rollback.env";
    if (name == "workdir") return "rollback.workdir";
    return "rollback.with";
  };
  if (body.kind == ActionKind::run) visit(body.run, field("run"), step);
  for (const Text& arg : body.exec) visit(arg, field("exec"), step);
  for (const auto& [name, value] : body.env) visit(value, field("env"), step);
  if (body.workdir) visit(*body.workdir, field("workdir"), step);
  // `with` holds plain values; its strings are visited with the map's mark.
  std::vector<const Value*> pending{&body.with};
  while (!pending.empty()) {
    const Value* v = pending.back();
    pending.pop_back();
    if (v->is_string()) {
      visit(Text{v->as_string(), body.with_mark}, field("with"), step);
    } else if (v->is_list()) {
      for (const Value& item : v->as_list()) pending.push_back(&item);
    } else if (v->is_map()) {
      for (const auto& [key, item] : v->as_map()) pending.push_back(&item);
    }
  }
}

void visit_step(const Step& step, const TextVisitor& visit) {
  visit_body(step.body, &step, visit, false);
  if (step.when) visit(*step.when, "when", &step);
  if (step.confirm) visit(*step.confirm, "confirm", &step);
  if (step.for_each) visit(*step.for_each, "for_each", &step);
  if (step.rollback) visit_body(*step.rollback, &step, visit, true);
}

}  // namespace

void visit_texts(const Runbook& rb, const TextVisitor& visit) {
  for (const auto& [name, value] : rb.env) visit(value, "env", nullptr);
  if (rb.lock) visit(*rb.lock, "lock", nullptr);
  for (const std::vector<Step>* list :
       {&rb.steps, &rb.hooks.on_success, &rb.hooks.on_failure, &rb.hooks.finally}) {
    for (const Step& step : *list) visit_step(step, visit);
  }
}

void check_templates(const Runbook& rb, Diagnostics& diags, std::string_view source) {
  expr::TextChecker checker(rb, diags, source);
  visit_texts(rb, [&](const Text& text, std::string_view field, const Step* step) {
    checker.check(text, field, step);
  });
}

void validate_runbook(const Runbook& rb, Diagnostics& diags, std::string_view source) {
  check_ids(rb, diags);
  check_needs(rb, diags);
  check_cycles(rb, diags);
  check_templates(rb, diags, source);
}

}  // namespace runbook::load
