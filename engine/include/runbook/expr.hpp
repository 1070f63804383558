#pragma once

// Expressions and templates: `${{ expr }}` in runbook strings, the context they
// read, and the ways a template becomes text (plain, shell-safe, for display).
// Also the outputs file a step writes to `$RUNBOOK_OUTPUT`.
//
// Semantics, in short (the unit tests in tests/unit/expr/ are the full spec):
// - Names: params.X, env.X, steps.ID.outputs.K, steps.ID.status,
//   steps.ID.exit_code, run.id, run.trigger, alert.labels.X,
//   alert.annotations.X, item, index; `a.b` and `a['b']` are the same, and
//   `list[0]` indexes a list. A missing key reads as null, except outputs, env
//   variables and alert labels/annotations, which read as '' (like GitHub
//   Actions). Reading a field of a string, number or bool gives null.
// - `==`/`!=`: null, bools, numbers (int and float alike), strings (byte-wise,
//   case-sensitive), lists and maps (deeply) compare with their own kind. Across
//   kinds: a number and a string that reads fully as a number compare as
//   numbers; a bool and the string 'true'/'false' compare as bools (outputs are
//   strings); anything else is unequal.
// - `< <= > >=`: numbers (and numeric strings against numbers) numerically, two
//   strings byte-wise; other pairs are an error.
// - Truthiness (`when:`, `!`, `&&`, `||`): false, null, 0, 0.0, '', 'false',
//   an empty list and an empty map are false; everything else is true.
//   `a && b` and `a || b` give one of their operands, as in GitHub Actions, so
//   `params.x || 'default'` works; `!a` gives a bool.
// - Functions: contains(a, b) (substring of a string, member of a list, key of
//   a map), startsWith(a, b), endsWith(a, b), len(x) (bytes of a string, items
//   of a list or map), join(list, sep = ','), toJSON(x), fromJSON(s).

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "runbook/diagnostics.hpp"
#include "runbook/expected.hpp"
#include "runbook/model.hpp"
#include "runbook/value.hpp"

namespace runbook {

class SecretMasker;  // runbook/params.hpp

// What went wrong in an expression, and where: `offset` is the byte in the
// Text's value (not in the expression) where the problem starts.
struct ExprError {
  std::string message;  // "unknown function 'lenght'"
  std::string hint;     // "did you mean 'len'?"; may be empty
  size_t offset = 0;

  // "MESSAGE; HINT" (or just the message).
  std::string format() const;
};

namespace expr {
struct Node;  // the syntax tree, internal to engine/src/expr
}

// One parsed expression. Immutable and cheap to copy (the tree is shared).
class Expression {
 public:
  Expression(std::shared_ptr<const expr::Node> root, std::string source, size_t offset)
      : root_(std::move(root)), source_(std::move(source)), offset_(offset) {}

  const expr::Node& root() const { return *root_; }
  // The expression as written, without `${{ }}`.
  const std::string& source() const { return source_; }
  // Where the expression starts in its Text's value.
  size_t offset() const { return offset_; }

 private:
  std::shared_ptr<const expr::Node> root_;
  std::string source_;
  size_t offset_ = 0;
};

// A string with `${{ }}` in it, split into literal text and expressions.
struct TemplatePart {
  std::string literal;                   // when `expression` is empty
  std::optional<Expression> expression;  //
  size_t offset = 0;                     // of the part in the Text's value
};

struct Template {
  std::vector<TemplatePart> parts;

  bool has_expressions() const;
  // Exactly one `${{ }}` and nothing around it: its value keeps its type.
  bool is_single_expression() const;
};

// Limits that keep a hostile or broken runbook from using much stack or time.
inline constexpr size_t kMaxExpressionDepth = 64;

// Splits `text` into literals and expressions and parses each. A `}}` inside
// a quoted string does not close the expression, so `${{ '${{' }}` writes a
// literal `${{`. Errors: an unclosed `${{` and the first syntax error.
Expected<Template> parse_template(std::string_view text);

// Parses `text` as one expression; `offset` is where it starts in its Text.
Expected<Expression> parse_expression(std::string_view text, size_t offset = 0);

// For `when:` and `for_each:`: a bare expression (`params.x == 'a'`) or one
// that is wholly `${{ … }}`. Anything mixing text and `${{ }}` is an error,
// because as a string it would always be true.
Expected<Expression> parse_condition(std::string_view text);

// What `steps.ID` reads for a step that has ended (or not yet: the executor
// may list every step, with status "pending" or "not_run").
struct StepResult {
  std::string status;  // a StepState name: "succeeded", "failed", "skipped", …
  std::optional<int> exit_code;
  std::map<std::string, std::string> outputs;
};

using StringMap = std::map<std::string, std::string>;

// Everything an expression may read. Non-owning and cheap to build per step:
// the pointed-to maps belong to the caller and must outlive every call that
// is given the context. A null pointer reads as an empty map.
struct ExprContext {
  const Value::Map* params = nullptr;  // resolved params (params.hpp)
  const StringMap* env = nullptr;      // env.X
  const std::map<std::string, StepResult>* steps = nullptr;
  std::string_view run_id;                       // run.id
  std::string_view run_trigger;                  // run.trigger: cli, cron, alert, api
  const StringMap* alert_labels = nullptr;       // alert.labels.X
  const StringMap* alert_annotations = nullptr;  // alert.annotations.X
  const Value* item = nullptr;                   // inside for_each: the item
  std::optional<int64_t> index;                  // and its index, from 0
};

// The value of `e`, or an error (a type error in a function or a comparison,
// fromJSON of bad JSON). Never throws on user input.
Expected<Value> evaluate(const Expression& e, const ExprContext& context);

// See "Truthiness" above.
bool is_truthy(const Value& v);

// Plain substitution, for `with`, `env`, `exec` items, `confirm`, `lock`,
// `workdir`: each expression's Value::to_text().
Expected<std::string> render_text(const Template& t, const ExprContext& context);

// Like render_text, but a template that is a single expression keeps the type
// of its value (`"${{ params.batch }}"` gives the int).
Expected<Value> render_value(const Template& t, const ExprContext& context);

// Every string in a `with:` value rendered with render_value; maps and lists
// are walked, other values kept.
Expected<Value> render_with(const Value& with, const ExprContext& context);

// A `run:` script made safe: each `${{ expr }}` becomes `${RUNBOOK_EXPR_N}`
// (N from 1, in order) and `env` maps each name to its value, so the shell
// sees the value exactly as if the author had written `${NAME}`: one word
// inside double quotes, split outside, never run as code. The executor adds
// `env` to the step's environment. POSIX shells only (bash, sh, zsh, ksh).
struct ShellScript {
  std::string script;
  std::vector<std::pair<std::string, std::string>> env;
};
inline constexpr std::string_view kExprEnvPrefix = "RUNBOOK_EXPR_";
// Errors: evaluation errors, and a value with a NUL byte (an environment
// variable cannot hold one).
Expected<ShellScript> render_script(const Template& t, const ExprContext& context);

// For --dry-run and the audit log: the script as a person reads it, each
// expression replaced by its value with every secret in it shown as `***`.
Expected<std::string> render_script_for_display(const Template& t, const ExprContext& context,
                                                const SecretMasker& masker);

// Parses and evaluates a `when:` Text; true when the step should run.
Expected<bool> evaluate_condition(const Text& when, const ExprContext& context);

// The items of a for_each step: Step::for_each_list as written, or the value
// of Step::for_each, which must be a list (or a string holding a JSON list,
// as an output would). A step without for_each gives an error.
Expected<Value::List> expand_for_each(const Step& step, const ExprContext& context);

// Where byte `offset` of `text.value` is in the runbook. With `source` (the
// runbook's text) plain, quoted and literal block (`|`) scalars map exactly;
// without it a single-line value is taken as a plain scalar (mark + offset)
// and a multi-line one gives the scalar's own mark.
Mark locate(const Text& text, size_t offset, std::string_view source = {});

// An expression error as a diagnostic at its place in `file`, its message
// prefixed with `where` ("in 'run' of step 'deploy': …") when not empty.
Diagnostic expr_diagnostic(const std::string& file, const Text& text, const ExprError& error,
                           std::string_view where = {}, std::string_view source = {});

// ---- Outputs ($RUNBOOK_OUTPUT) ----

inline constexpr size_t kMaxOutputBytes = 1024 * 1024;

// "outputs of step 'x' are over the 1 MiB limit (N bytes)": for a caller that
// checks the file's size before reading it.
std::string outputs_too_large(std::string_view step_id, uint64_t bytes);

// The outputs a step wrote, with GitHub Actions semantics: `key=value` lines
// and `key<<DELIM` … `DELIM` blocks (the lines between, joined by '\n'); '\r'
// before '\n' ignored, blank lines skipped, a later key wins. Keys are
// [A-Za-z_][A-Za-z0-9_-]*. The error names the line ("line 3: …") or the size.
Expected<StringMap, std::string> parse_outputs(std::string_view file_text,
                                               std::string_view step_id);

}  // namespace runbook
