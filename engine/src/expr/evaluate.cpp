// The evaluator: a walk over the tree. Names are read through a cursor that
// points into the caller's maps, so `steps.x.outputs.k` copies one string,
// not every step's outputs.

#include <charconv>
#include <cmath>

#include "expr/ast.hpp"
#include "expr/evaluate.hpp"
#include "expr/json_reader.hpp"

namespace runbook {

namespace expr {

namespace {

// Thrown inside the evaluator only, caught by evaluate().
struct EvalFailure {
  ExprError error;
};

[[noreturn]] void fail(const Node& at, std::string message, std::string hint = {}) {
  throw EvalFailure{ExprError{std::move(message), std::move(hint), at.offset}};
}

// For errors about a whole argument: at its first character.
[[noreturn]] void fail_argument(const Node& arg, std::string message, std::string hint = {}) {
  throw EvalFailure{ExprError{std::move(message), std::move(hint), start_offset(arg)}};
}

const StringMap& empty_strings() {
  static const StringMap empty;
  return empty;
}

const StepResult& empty_step() {
  static const StepResult empty;
  return empty;
}

// Where a path like `steps.x.outputs` has got to.
struct Cursor {
  enum class Scope { value, params, steps, step, strings, run, alert };
  Scope scope = Scope::value;
  const Value* borrowed = nullptr;  // Scope::value, pointing into the context
  Value owned;                      // Scope::value otherwise
  const StepResult* step = nullptr;
  const StringMap* strings = nullptr;

  static Cursor of(Value v) {
    Cursor c;
    c.owned = std::move(v);
    return c;
  }
  static Cursor of(const Value* v) {
    Cursor c;
    c.borrowed = v;
    return c;
  }
  static Cursor of(Scope scope) {
    Cursor c;
    c.scope = scope;
    return c;
  }
  static Cursor of(const StringMap* strings) {
    Cursor c;
    c.scope = Scope::strings;
    c.strings = strings != nullptr ? strings : &empty_strings();
    return c;
  }
  const Value& value() const { return borrowed != nullptr ? *borrowed : owned; }
};

Value step_value(const StepResult& step) {
  Value::Map m;
  m["status"] = Value(step.status);
  m["exit_code"] = step.exit_code ? Value(*step.exit_code) : Value();
  Value::Map outputs;
  for (const auto& [k, v] : step.outputs) outputs[k] = Value(v);
  m["outputs"] = Value(std::move(outputs));
  return Value(std::move(m));
}

Value strings_value(const StringMap& strings) {
  Value::Map m;
  for (const auto& [k, v] : strings) m[k] = Value(v);
  return Value(std::move(m));
}

class Evaluator {
 public:
  explicit Evaluator(const ExprContext& context) : ctx_(context) {}

  Value eval(const Node& n) {
    switch (n.kind) {
      case NodeKind::literal:
        return n.literal;
      case NodeKind::name:
      case NodeKind::member:
      case NodeKind::index:
        return materialize(walk(n));
      case NodeKind::call:
        return call(n);
      case NodeKind::logical_not:
        return Value(!is_truthy(eval(*n.operands[0])));
      case NodeKind::binary:
        return binary(n);
    }
    return Value();
  }

 private:
  Cursor root(const Node& n) {
    const std::string& name = n.name;
    if (name == "params") return Cursor::of(Cursor::Scope::params);
    if (name == "steps") return Cursor::of(Cursor::Scope::steps);
    if (name == "env") return Cursor::of(ctx_.env);
    if (name == "run") return Cursor::of(Cursor::Scope::run);
    if (name == "alert") return Cursor::of(Cursor::Scope::alert);
    if (name == "item") return ctx_.item != nullptr ? Cursor::of(ctx_.item) : Cursor::of(Value());
    if (name == "index") return Cursor::of(ctx_.index ? Value(*ctx_.index) : Value());
    fail(n, "unknown name '" + name + "'");
  }

  // Follows a chain of `.name` and `[key]` from its root, iteratively.
  Cursor walk(const Node& n) {
    std::vector<const Node*> chain;
    const Node* at = &n;
    while (at->kind == NodeKind::member || at->kind == NodeKind::index) {
      chain.push_back(at);
      at = at->operands[0].get();
    }
    Cursor c = at->kind == NodeKind::name ? root(*at) : Cursor::of(eval(*at));
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      const Node& step = **it;
      c = step.kind == NodeKind::member ? descend(c, Value(step.name))
                                        : descend(c, eval(*step.operands[1]));
    }
    return c;
  }

  Cursor descend(const Cursor& c, const Value& key) {
    using Scope = Cursor::Scope;
    const std::string* name = key.is_string() ? &key.as_string() : nullptr;
    switch (c.scope) {
      case Scope::params: {
        if (name == nullptr || ctx_.params == nullptr) return Cursor::of(Value());
        auto it = ctx_.params->find(*name);
        return it == ctx_.params->end() ? Cursor::of(Value()) : Cursor::of(&it->second);
      }
      case Scope::strings: {
        // Unset outputs, env variables and labels read as '', like the shell.
        if (name == nullptr) return Cursor::of(Value());
        auto it = c.strings->find(*name);
        return Cursor::of(Value(it == c.strings->end() ? std::string() : it->second));
      }
      case Scope::steps: {
        if (name == nullptr) return Cursor::of(Value());
        Cursor s = Cursor::of(Scope::step);
        s.step = &empty_step();
        if (ctx_.steps != nullptr) {
          auto it = ctx_.steps->find(*name);
          if (it != ctx_.steps->end()) s.step = &it->second;
        }
        return s;
      }
      case Scope::step:
        if (name == nullptr) return Cursor::of(Value());
        if (*name == "outputs") return Cursor::of(&c.step->outputs);
        if (*name == "status") return Cursor::of(Value(c.step->status));
        if (*name == "exit_code")
          return Cursor::of(c.step->exit_code ? Value(*c.step->exit_code) : Value());
        return Cursor::of(Value());
      case Scope::run:
        if (name != nullptr && *name == "id") return Cursor::of(Value(std::string(ctx_.run_id)));
        if (name != nullptr && *name == "trigger")
          return Cursor::of(Value(std::string(ctx_.run_trigger)));
        return Cursor::of(Value());
      case Scope::alert:
        if (name != nullptr && *name == "labels") return Cursor::of(ctx_.alert_labels);
        if (name != nullptr && *name == "annotations") return Cursor::of(ctx_.alert_annotations);
        return Cursor::of(Value());
      case Scope::value:
        break;
    }
    const Value& v = c.value();
    if (v.is_map() && name != nullptr) {
      auto it = v.as_map().find(*name);
      if (it == v.as_map().end()) return Cursor::of(Value());
      return c.borrowed != nullptr ? Cursor::of(&it->second) : Cursor::of(it->second);
    }
    if (v.is_list() && key.is_int()) {
      const Value::List& list = v.as_list();
      const int64_t k = key.as_int();
      if (k < 0 || static_cast<uint64_t>(k) >= list.size()) return Cursor::of(Value());
      const Value& item = list[static_cast<size_t>(k)];
      return c.borrowed != nullptr ? Cursor::of(&item) : Cursor::of(item);
    }
    return Cursor::of(Value());
  }

  Value materialize(const Cursor& c) {
    using Scope = Cursor::Scope;
    switch (c.scope) {
      case Scope::value:
        return c.value();
      case Scope::params:
        return ctx_.params != nullptr ? Value(*ctx_.params) : Value(Value::Map{});
      case Scope::strings:
        return strings_value(*c.strings);
      case Scope::step:
        return step_value(*c.step);
      case Scope::steps: {
        Value::Map m;
        if (ctx_.steps != nullptr) {
          for (const auto& [id, step] : *ctx_.steps) m[id] = step_value(step);
        }
        return Value(std::move(m));
      }
      case Scope::run: {
        Value::Map m;
        m["id"] = Value(std::string(ctx_.run_id));
        m["trigger"] = Value(std::string(ctx_.run_trigger));
        return Value(std::move(m));
      }
      case Scope::alert: {
        Value::Map m;
        m["labels"] = strings_value(ctx_.alert_labels ? *ctx_.alert_labels : empty_strings());
        m["annotations"] =
            strings_value(ctx_.alert_annotations ? *ctx_.alert_annotations : empty_strings());
        return Value(std::move(m));
      }
    }
    return Value();
  }

  Value binary(const Node& n) {
    if (n.op == BinaryOp::logical_or) {
      Value left = eval(*n.operands[0]);
      return is_truthy(left) ? left : eval(*n.operands[1]);
    }
    if (n.op == BinaryOp::logical_and) {
      Value left = eval(*n.operands[0]);
      return is_truthy(left) ? eval(*n.operands[1]) : left;
    }
    const Value a = eval(*n.operands[0]);
    const Value b = eval(*n.operands[1]);
    switch (n.op) {
      case BinaryOp::equal:
        return Value(loose_equal(a, b));
      case BinaryOp::not_equal:
        return Value(!loose_equal(a, b));
      default:
        break;
    }
    std::optional<int> order = compare(a, b);
    if (!order) {
      fail(n,
           "cannot compare " + describe_kind(a) + " with " + describe_kind(b) + " using '" +
               std::string(to_string(n.op)) + "'",
           "'<', '<=', '>' and '>=' compare numbers, or two strings");
    }
    switch (n.op) {
      case BinaryOp::less:
        return Value(*order < 0);
      case BinaryOp::less_equal:
        return Value(*order <= 0);
      case BinaryOp::greater:
        return Value(*order > 0);
      default:
        return Value(*order >= 0);
    }
  }

  // A scalar as text for string functions; lists and maps are an error.
  std::string scalar_text(const Node& call, const Node& arg, const Value& v) {
    if (v.is_list() || v.is_map()) {
      fail_argument(arg, call.name + "() needs a string here, not " + describe_kind(v),
                    v.is_list() ? "use contains(list, x) for a member of a list" : std::string());
    }
    return v.to_text();
  }

  Value call(const Node& n) {
    std::vector<Value> args;
    args.reserve(n.operands.size());
    for (const auto& arg : n.operands) args.push_back(eval(*arg));
    const std::string& f = n.name;
    if (f == "contains") {
      const Value& hay = args[0];
      if (hay.is_list()) {
        for (const Value& item : hay.as_list()) {
          if (loose_equal(item, args[1])) return Value(true);
        }
        return Value(false);
      }
      if (hay.is_map()) {
        if (!args[1].is_string()) return Value(false);
        return Value(hay.as_map().contains(args[1].as_string()));
      }
      if (hay.is_null()) return Value(false);
      const std::string needle = scalar_text(n, *n.operands[1], args[1]);
      return Value(hay.to_text().find(needle) != std::string::npos);
    }
    if (f == "startsWith" || f == "endsWith") {
      const std::string s = scalar_text(n, *n.operands[0], args[0]);
      const std::string affix = scalar_text(n, *n.operands[1], args[1]);
      return Value(f == "startsWith" ? s.starts_with(affix) : s.ends_with(affix));
    }
    if (f == "len") {
      const Value& v = args[0];
      if (v.is_string()) return Value(static_cast<int64_t>(v.as_string().size()));
      if (v.is_list()) return Value(static_cast<int64_t>(v.as_list().size()));
      if (v.is_map()) return Value(static_cast<int64_t>(v.as_map().size()));
      if (v.is_null()) return Value(int64_t{0});
      fail_argument(*n.operands[0], "len() needs a string, list or map, not " + describe_kind(v));
    }
    if (f == "join") {
      const std::string sep = args.size() > 1 ? scalar_text(n, *n.operands[1], args[1]) : ",";
      const Value& v = args[0];
      if (v.is_null()) return Value(std::string());
      if (!v.is_list()) return Value(scalar_text(n, *n.operands[0], v));
      std::string out;
      for (size_t k = 0; k < v.as_list().size(); ++k) {
        if (k > 0) out += sep;
        out += v.as_list()[k].to_text();
      }
      return Value(std::move(out));
    }
    if (f == "toJSON") return Value(args[0].to_json());
    if (f == "fromJSON") {
      if (!args[0].is_string())
        fail_argument(*n.operands[0], "fromJSON() needs a string, not " + describe_kind(args[0]));
      Expected<Value, std::string> v = read_json(args[0].as_string());
      if (!v) fail_argument(*n.operands[0], "fromJSON(): not valid JSON: " + v.error());
      return std::move(v).value();
    }
    fail(n, "unknown function '" + f + "'");
  }

  const ExprContext& ctx_;
};

// A string that reads wholly as a number: "42", "-1.5", "1e3".
std::optional<double> numeric_string(const std::string& s) {
  if (s.empty()) return std::nullopt;
  const char c = s.front();
  if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return std::nullopt;
  double d = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

std::optional<double> number_of(const Value& v) {
  if (v.is_number()) return v.as_number();
  return std::nullopt;
}

}  // namespace

std::string describe_kind(const Value& v) {
  if (v.is_null()) return "null";
  if (v.is_bool()) return "a bool";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_list()) return "a list";
  return "a map";
}

bool loose_equal(const Value& a, const Value& b) {
  if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
  if (a.is_number() && b.is_number()) return a.as_number() == b.as_number();
  if (a.is_number() && b.is_string()) {
    std::optional<double> d = numeric_string(b.as_string());
    return d && *d == a.as_number();
  }
  if (a.is_string() && b.is_number()) return loose_equal(b, a);
  if (a.is_bool() && b.is_string()) {
    return b.as_string() == (a.as_bool() ? "true" : "false");
  }
  if (a.is_string() && b.is_bool()) return loose_equal(b, a);
  if (a.is_list() && b.is_list()) {
    const Value::List &x = a.as_list(), &y = b.as_list();
    if (x.size() != y.size()) return false;
    for (size_t k = 0; k < x.size(); ++k) {
      if (!loose_equal(x[k], y[k])) return false;
    }
    return true;
  }
  if (a.is_map() && b.is_map()) {
    const Value::Map &x = a.as_map(), &y = b.as_map();
    if (x.size() != y.size()) return false;
    for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j) {
      if (i->first != j->first || !loose_equal(i->second, j->second)) return false;
    }
    return true;
  }
  return a == b;  // null, bool, string: with their own kind only
}

std::optional<int> compare(const Value& a, const Value& b) {
  std::optional<double> x = number_of(a), y = number_of(b);
  if (x && !y && b.is_string()) y = numeric_string(b.as_string());
  if (y && !x && a.is_string()) x = numeric_string(a.as_string());
  if (x && y) {
    if (a.is_int() && b.is_int()) {
      return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
    }
    return *x < *y ? -1 : *x > *y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  return std::nullopt;
}

}  // namespace expr

bool is_truthy(const Value& v) {
  if (v.is_null()) return false;
  if (v.is_bool()) return v.as_bool();
  if (v.is_number()) return v.as_number() != 0;
  if (v.is_string()) return !v.as_string().empty() && v.as_string() != "false";
  if (v.is_list()) return !v.as_list().empty();
  return !v.as_map().empty();
}

Expected<Value> evaluate(const Expression& e, const ExprContext& context) {
  try {
    return expr::Evaluator(context).eval(e.root());
  } catch (const expr::EvalFailure& failure) {
    return failure.error;
  }
}

}  // namespace runbook
