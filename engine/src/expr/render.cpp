// From templates to text: plain, typed, shell-safe and for display; and the
// step fields that are whole expressions (when, for_each).

#include "expr/evaluate.hpp"
#include "expr/json_reader.hpp"
#include "runbook/expr.hpp"
#include "runbook/params.hpp"

namespace runbook {

Expected<std::string> render_text(const Template& t, const ExprContext& context) {
  std::string out;
  for (const TemplatePart& part : t.parts) {
    if (!part.expression) {
      out += part.literal;
      continue;
    }
    Expected<Value> v = evaluate(*part.expression, context);
    if (!v) return v.error();
    out += v.value().to_text();
  }
  return out;
}

Expected<Value> render_value(const Template& t, const ExprContext& context) {
  if (t.is_single_expression()) return evaluate(*t.parts.front().expression, context);
  Expected<std::string> s = render_text(t, context);
  if (!s) return s.error();
  return Value(std::move(s).value());
}

namespace {

Expected<Value> render_with_at(const Value& v, const ExprContext& context, int depth) {
  // The loader bounds the nesting of `with:`; this only guards the stack.
  if (depth > 256) return ExprError{"'with' nested too deeply", {}, 0};
  if (v.is_string()) {
    Expected<Template> t = parse_template(v.as_string());
    if (!t) return t.error();
    return render_value(t.value(), context);
  }
  if (v.is_list()) {
    Value::List out;
    out.reserve(v.as_list().size());
    for (const Value& item : v.as_list()) {
      Expected<Value> r = render_with_at(item, context, depth + 1);
      if (!r) return r.error();
      out.push_back(std::move(r).value());
    }
    return Value(std::move(out));
  }
  if (v.is_map()) {
    Value::Map out;
    for (const auto& [key, item] : v.as_map()) {
      Expected<Value> r = render_with_at(item, context, depth + 1);
      if (!r) return r.error();
      out.emplace(key, std::move(r).value());
    }
    return Value(std::move(out));
  }
  return v;
}

}  // namespace

Expected<Value> render_with(const Value& with, const ExprContext& context) {
  return render_with_at(with, context, 0);
}

Expected<ShellScript> render_script(const Template& t, const ExprContext& context) {
  ShellScript out;
  for (const TemplatePart& part : t.parts) {
    if (!part.expression) {
      out.script += part.literal;
      continue;
    }
    Expected<Value> v = evaluate(*part.expression, context);
    if (!v) return v.error();
    std::string text = v.value().to_text();
    if (text.find('\0') != std::string::npos) {
      return ExprError{"the value of '" + part.expression->source() +
                           "' holds a NUL byte, which an environment variable cannot carry",
                       {},
                       part.offset};
    }
    std::string name = std::string(kExprEnvPrefix) + std::to_string(out.env.size() + 1);
    // Braces keep the name apart from text that follows: `${{ x }}_suffix`.
    out.script += "${" + name + "}";
    out.env.emplace_back(std::move(name), std::move(text));
  }
  return out;
}

Expected<std::string> render_script_for_display(const Template& t, const ExprContext& context,
                                                const SecretMasker& masker) {
  std::string out;
  for (const TemplatePart& part : t.parts) {
    if (!part.expression) {
      out += part.literal;
      continue;
    }
    Expected<Value> v = evaluate(*part.expression, context);
    if (!v) return v.error();
    out += masker.mask(v.value().to_text());
  }
  return out;
}

Expected<bool> evaluate_condition(const Text& when, const ExprContext& context) {
  Expected<Expression> e = parse_condition(when.value);
  if (!e) return e.error();
  Expected<Value> v = evaluate(e.value(), context);
  if (!v) return v.error();
  return is_truthy(v.value());
}

Expected<Value::List> expand_for_each(const Step& step, const ExprContext& context) {
  if (step.for_each_list) {
    if (step.for_each_list->is_list()) return step.for_each_list->as_list();
    return ExprError{"for_each of step '" + step.id + "' is not a list", {}, 0};
  }
  if (!step.for_each) return ExprError{"step '" + step.id + "' has no for_each", {}, 0};
  Expected<Expression> e = parse_condition(step.for_each->value);
  if (!e) return e.error();
  Expected<Value> v = evaluate(e.value(), context);
  if (!v) return v.error();
  const Value& items = v.value();
  if (items.is_list()) return items.as_list();
  // Outputs are strings: a step may hand over a list as JSON.
  if (items.is_string()) {
    Expected<Value, std::string> parsed = expr::read_json(items.as_string());
    if (parsed && parsed.value().is_list()) return parsed.value().as_list();
  }
  std::string shown = items.to_json();
  if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
  return ExprError{"for_each of step '" + step.id + "' must give a list, not " +
                       expr::describe_kind(items) + " (" + shown + ")",
                   "a list param, a literal list, or a string holding a JSON list",
                   e.value().offset()};
}

}  // namespace runbook
