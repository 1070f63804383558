#pragma once

// The expression checks of `runbook validate`: every `${{ }}` parses, and
// every name it reads can exist where it is used. Called by the loader's
// validator for each Text (load::visit_texts).

#include <map>
#include <string>
#include <string_view>
#include <unordered_set>

#include "runbook/diagnostics.hpp"
#include "runbook/expr.hpp"
#include "runbook/model.hpp"

namespace runbook::expr {

// Checks the Texts of one runbook. `source` is the runbook's text, for exact
// columns (may be empty). Holds references: `runbook` and `diags` must
// outlive it.
class TextChecker {
 public:
  TextChecker(const Runbook& runbook, Diagnostics& diags, std::string_view source)
      : rb_(runbook), diags_(diags), source_(source) {}

  // `field` and `step` as load::visit_texts gives them.
  void check(const Text& text, std::string_view field, const Step* step);

 private:
  struct Scope;
  struct PathPart;
  void check_node(const Node& n, const Scope& scope);
  void check_path(const Node& root, const std::vector<PathPart>& path, const Scope& scope);
  void check_step_reference(const PathPart& id, const std::string& path, const Scope& scope);
  void report(const ExprError& e, const Scope& scope);
  bool is_hook(const Step* step) const;
  bool needs(const Step& step, const std::string& id);

  const Runbook& rb_;
  Diagnostics& diags_;
  std::string_view source_;
  std::map<const Step*, std::unordered_set<std::string>> ancestors_;  // filled on demand
};

}  // namespace runbook::expr
