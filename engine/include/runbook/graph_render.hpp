#pragma once

// Renders a runbook's step graph for `runbook graph`: for people (text), for
// Graphviz (dot) and for Markdown (mermaid). Pure: returns text, prints nothing.

#include <optional>
#include <string>
#include <string_view>

#include "runbook/model.hpp"

namespace runbook {

enum class GraphFormat { text, dot, mermaid };

// "text", "dot" or "mermaid"; nullopt for anything else.
std::optional<GraphFormat> parse_graph_format(std::string_view name);

// The steps wave by wave (what may run in parallel), each with its kind, what it
// needs and markers for rollback, confirm, when and for_each; then the hooks.
// Steps caught in a cycle are listed apart.
std::string render_graph_text(const Runbook& runbook);

// A Graphviz digraph: one node per step (quoted id), edges from a dependency to
// its dependent. Steps with a rollback are drawn bold, steps that ask for
// confirmation in orange, conditional ones dashed; the label says so too.
std::string render_graph_dot(const Runbook& runbook);

// A Mermaid `flowchart TD`: node ids s0, s1, … (file order) so that no step id
// can clash with Mermaid's syntax, labelled with the step ids; edges from a
// dependency to its dependent; classes `rollback`, `confirm`, `conditional`.
std::string render_graph_mermaid(const Runbook& runbook);

// Dispatches on `format`. Every rendering ends with a newline.
std::string render_graph(const Runbook& runbook, GraphFormat format);

}  // namespace runbook
