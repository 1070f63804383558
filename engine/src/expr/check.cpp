#include "expr/check.hpp"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "expr/ast.hpp"
#include "expr/template.hpp"

namespace runbook::expr {

namespace {

const std::vector<std::string_view>& root_names() {
  static const std::vector<std::string_view> names = {"params", "env",  "steps", "run",
                                                      "alert",  "item", "index"};
  return names;
}

std::string list_words(const std::vector<std::string_view>& words) {
  std::string out;
  for (size_t k = 0; k < words.size(); ++k) {
    if (k > 0) out += k + 1 == words.size() ? " or " : ", ";
    out += words[k];
  }
  return out;
}

std::string suggest(std::string_view word, const std::vector<std::string_view>& known) {
  std::string near = nearest_word(word, known);
  return near.empty() ? std::string() : "did you mean '" + near + "'?";
}

}  // namespace

struct TextChecker::Scope {
  const Text* text = nullptr;
  std::string field;
  const Step* step = nullptr;  // null at the top level
  bool any_step = false;       // rollbacks and hooks run after the steps
  bool has_item = false;
  bool with_mark = false;  // strings in `with` carry the map's mark: no columns
  std::string where;       // "'run' of step 'deploy'"
};

// One static part of a path: `.name`, `['name']` or `[0]`.
struct TextChecker::PathPart {
  std::string name;
  bool is_index = false;  // `[0]`
  size_t offset = 0;
};

bool TextChecker::is_hook(const Step* step) const {
  for (const std::vector<Step>* list :
       {&rb_.hooks.on_success, &rb_.hooks.on_failure, &rb_.hooks.finally}) {
    for (const Step& s : *list) {
      if (&s == step) return true;
    }
  }
  return false;
}

// True when `id` is among the steps that `step` needs, directly or not.
bool TextChecker::needs(const Step& step, const std::string& id) {
  auto found = ancestors_.find(&step);
  if (found == ancestors_.end()) {
    std::unordered_map<std::string_view, const Step*> by_id;
    for (const Step& s : rb_.steps) by_id.emplace(s.id, &s);
    std::unordered_set<std::string> seen;
    std::vector<const Step*> pending{&step};
    while (!pending.empty()) {
      const Step* s = pending.back();
      pending.pop_back();
      for (const std::string& need : s->needs) {
        auto it = by_id.find(need);
        if (it != by_id.end() && seen.insert(need).second) pending.push_back(it->second);
      }
    }
    found = ancestors_.emplace(&step, std::move(seen)).first;
  }
  return found->second.contains(id);
}

void TextChecker::report(const ExprError& e, const Scope& scope) {
  if (scope.with_mark) {
    std::string message = "in " + scope.where + ": " + e.message;
    diags_.error(rb_.path, scope.text->mark, std::move(message), e.hint);
    return;
  }
  diags_.add(expr_diagnostic(rb_.path, *scope.text, e, scope.where, source_));
}

void TextChecker::check(const Text& text, std::string_view field, const Step* step) {
  Scope scope;
  scope.text = &text;
  scope.field = std::string(field);
  scope.step = step;
  scope.where = "'" + scope.field + "'";
  if (step != nullptr && !step->id.empty()) scope.where += " of step '" + step->id + "'";
  scope.any_step = is_hook(step) || field.starts_with("rollback.");
  scope.has_item =
      step != nullptr && (step->for_each || step->for_each_list) && field != "for_each";
  scope.with_mark = field == "with" || field == "rollback.with";

  std::vector<Expression> expressions;
  if (field == "when" || field == "for_each") {
    Expected<Expression> e = parse_condition(text.value);
    if (!e) {
      // Kept as the loader always reported it: at the scalar.
      if (is_unclosed_template(e.error())) {
        diags_.error(rb_.path, text.mark,
                     "unclosed template in " + scope.where + ": " + std::string(kUnclosedTemplate));
        return;
      }
      report(e.error(), scope);
      return;
    }
    expressions.push_back(std::move(e).value());
  } else {
    Expected<Template> t = parse_template(text.value);
    if (!t) {
      if (is_unclosed_template(t.error())) {
        diags_.error(rb_.path, text.mark,
                     "unclosed template in " + scope.where + ": " + std::string(kUnclosedTemplate));
        return;
      }
      report(t.error(), scope);
      return;
    }
    for (const TemplatePart& part : t.value().parts) {
      if (part.expression) expressions.push_back(*part.expression);
    }
  }
  for (const Expression& e : expressions) check_node(e.root(), scope);
}

void TextChecker::check_node(const Node& n, const Scope& scope) {
  switch (n.kind) {
    case NodeKind::literal:
      return;
    case NodeKind::call:
    case NodeKind::logical_not:
    case NodeKind::binary:
      for (const auto& operand : n.operands) check_node(*operand, scope);
      return;
    case NodeKind::name:
    case NodeKind::member:
    case NodeKind::index:
      break;
  }
  // A path: collect its static parts from the root outwards.
  std::vector<const Node*> chain;
  const Node* at = &n;
  while (at->kind == NodeKind::member || at->kind == NodeKind::index) {
    chain.push_back(at);
    at = at->operands[0].get();
  }
  std::vector<PathPart> path;
  bool dynamic = false;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Node& step = **it;
    if (step.kind == NodeKind::index) check_node(*step.operands[1], scope);
    if (dynamic) continue;
    if (step.kind == NodeKind::member) {
      path.push_back(PathPart{step.name, false, step.offset});
      continue;
    }
    const Node& key = *step.operands[1];
    if (key.kind == NodeKind::literal && key.literal.is_string()) {
      path.push_back(PathPart{key.literal.as_string(), false, key.offset});
    } else if (key.kind == NodeKind::literal && key.literal.is_int()) {
      path.push_back(PathPart{std::to_string(key.literal.as_int()), true, key.offset});
    } else {
      dynamic = true;
    }
  }
  if (at->kind == NodeKind::name) {
    check_path(*at, path, scope);
  } else {
    check_node(*at, scope);
  }
}

void TextChecker::check_path(const Node& root, const std::vector<PathPart>& path,
                             const Scope& scope) {
  const std::string& name = root.name;
  std::string text = name;
  for (const PathPart& part : path) text += part.is_index ? "[" + part.name + "]" : "." + part.name;
  auto error = [&](size_t offset, std::string message, std::string hint = {}) {
    report(ExprError{std::move(message), std::move(hint), offset}, scope);
  };
  const PathPart* first = path.empty() || path[0].is_index ? nullptr : &path[0];

  if (name == "params") {
    if (first != nullptr && rb_.find_param(first->name) == nullptr) {
      std::vector<std::string_view> known;
      for (const Param& p : rb_.params) known.push_back(p.name);
      std::string hint = suggest(first->name, known);
      if (hint.empty())
        hint = known.empty() ? "the runbook declares no params" : "declare it under params:";
      error(first->offset, "unknown param '" + first->name + "'", std::move(hint));
    }
  } else if (name == "steps") {
    if (first == nullptr) return;
    check_step_reference(*first, text, scope);
    if (path.size() >= 2 && !path[1].is_index) {
      static const std::vector<std::string_view> fields = {"outputs", "status", "exit_code"};
      if (std::find(fields.begin(), fields.end(), path[1].name) == fields.end()) {
        std::string hint = suggest(path[1].name, fields);
        if (hint.empty()) hint = "use " + list_words(fields);
        error(path[1].offset, "steps." + first->name + " has no field '" + path[1].name + "'",
              std::move(hint));
      }
    }
  } else if (name == "run") {
    static const std::vector<std::string_view> fields = {"id", "trigger"};
    if (first != nullptr && first->name != "id" && first->name != "trigger") {
      std::string hint = suggest(first->name, fields);
      error(first->offset, "run has no field '" + first->name + "'",
            hint.empty() ? "use run.id or run.trigger" : hint);
    }
  } else if (name == "alert") {
    static const std::vector<std::string_view> fields = {"labels", "annotations"};
    if (first != nullptr && first->name != "labels" && first->name != "annotations") {
      std::string hint = suggest(first->name, fields);
      error(first->offset, "alert has no field '" + first->name + "'",
            hint.empty() ? "use alert.labels.X or alert.annotations.X" : hint);
    }
  } else if (name == "item" || name == "index") {
    if (scope.field == "for_each" && scope.step != nullptr) {
      error(root.offset, "'" + name + "' cannot be used in for_each itself",
            "for_each gives the items; 'item' and 'index' are for the step's other fields");
    } else if (!scope.has_item) {
      error(root.offset, "'" + name + "' is only defined in a step with for_each");
    }
  } else if (name != "env") {
    std::string hint;
    if (rb_.find_step(name) != nullptr) {
      hint = "did you mean 'steps." + name + "'?";
    } else if (rb_.find_param(name) != nullptr) {
      hint = "did you mean 'params." + name + "'?";
    } else {
      hint = suggest(name, root_names());
      if (hint.empty()) {
        hint = "names start with " + list_words(root_names()) + "; quote text as 'text'";
      }
    }
    error(root.offset, "unknown name '" + name + "'", std::move(hint));
  }
}

void TextChecker::check_step_reference(const PathPart& id, const std::string& path,
                                       const Scope& scope) {
  auto error = [&](std::string message, std::string hint = {}) {
    report(ExprError{std::move(message), std::move(hint), id.offset}, scope);
  };
  const Step* target = rb_.find_step(id.name);
  if (target == nullptr) {
    std::vector<std::string_view> known;
    for (const std::vector<Step>* list :
         {&rb_.steps, &rb_.hooks.on_success, &rb_.hooks.on_failure, &rb_.hooks.finally}) {
      for (const Step& s : *list) known.push_back(s.id);
    }
    error("unknown step '" + id.name + "' in " + path, suggest(id.name, known));
    return;
  }
  if (scope.step == nullptr) {
    error(path + " cannot be used here: the runbook's " + scope.field +
          " is resolved before any step runs");
    return;
  }
  if (scope.any_step) return;
  const std::string who = "step '" + scope.step->id + "'";
  // Messages that name the step itself read best without the "in …:" prefix.
  auto step_error = [&](std::string message, std::string hint) {
    Scope bare = scope;
    bare.where.clear();
    ExprError e{std::move(message), std::move(hint), id.offset};
    if (bare.with_mark) {
      diags_.error(rb_.path, scope.text->mark, e.message, e.hint);
    } else {
      diags_.add(expr_diagnostic(rb_.path, *scope.text, e, {}, source_));
    }
  };
  if (target == scope.step) {
    step_error(who + " uses its own result " + path + " in '" + scope.field + "'",
               "a step's outputs, status and exit code exist only after it ends; a rollback may "
               "use them");
  } else if (is_hook(target)) {
    step_error(who + " uses " + path + " in '" + scope.field + "', but hooks run after every step",
               "");
  } else if (!needs(*scope.step, id.name)) {
    step_error(
        who + " uses " + path + " in '" + scope.field + "' but does not need '" + id.name + "'",
        "add '" + id.name + "' to its needs");
  }
}

}  // namespace runbook::expr
