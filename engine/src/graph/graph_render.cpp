#include "runbook/graph_render.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "runbook/graph.hpp"

namespace runbook {

namespace {

std::string kind_of(const StepBody& body) {
  switch (body.kind) {
    case ActionKind::run:
      return "run";
    case ActionKind::exec:
      return "exec";
    case ActionKind::uses:
      return "uses " + body.uses;
    case ActionKind::none:
      break;
  }
  return "-";
}

// What sets a step apart at a glance, in a fixed order.
std::vector<std::string> markers_of(const Step& step) {
  std::vector<std::string> out;
  if (step.rollback) out.emplace_back("rollback");
  if (step.confirm) out.emplace_back("confirm");
  if (step.when) out.emplace_back("when");
  if (step.for_each) out.emplace_back("for_each");
  if (step.allow_failure.enabled()) out.emplace_back("allow_failure");
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

// Inside a double-quoted DOT string only `"` and `\` are special.
std::string dot_quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
  return out;
}

// Mermaid labels are HTML inside a quoted string: entity-code what would end
// the string or open a tag.
std::string mermaid_text(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "#quot;";
        break;
      case '<':
        out += "#lt;";
        break;
      case '>':
        out += "#gt;";
        break;
      case '&':
        out += "#amp;";
        break;
      case '#':
        out += "#35;";
        break;
      case '\n':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

void text_hooks(const char* name, const std::vector<Step>& hooks, std::string& out) {
  if (hooks.empty()) return;
  std::vector<std::string> ids;
  ids.reserve(hooks.size());
  for (const Step& s : hooks) ids.push_back(s.id);
  out += "  ";
  out += name;
  out += ": ";
  out += join(ids, ", ");
  out += '\n';
}

}  // namespace

std::optional<GraphFormat> parse_graph_format(std::string_view name) {
  if (name == "text") return GraphFormat::text;
  if (name == "dot") return GraphFormat::dot;
  if (name == "mermaid") return GraphFormat::mermaid;
  return std::nullopt;
}

std::string render_graph_text(const Runbook& runbook) {
  Graph graph(runbook.steps);
  std::vector<std::vector<int>> waves = graph.waves();

  size_t id_width = 0, kind_width = 0;
  for (const Step& s : runbook.steps) {
    id_width = std::max(id_width, s.id.size());
    kind_width = std::max(kind_width, kind_of(s.body).size());
  }

  std::string out = runbook.name.empty() ? std::string("runbook") : runbook.name;
  out += ": " + std::to_string(runbook.steps.size()) +
         (runbook.steps.size() == 1 ? " step" : " steps") + " in " + std::to_string(waves.size()) +
         (waves.size() == 1 ? " wave" : " waves") + "\n";

  auto step_line = [&](int i) {
    const Step& s = runbook.steps[i];
    std::string line = "  " + pad(s.id, id_width) + "  " + pad(kind_of(s.body), kind_width);
    std::vector<std::string> needs;
    for (int d : graph.dependencies(i)) needs.push_back(graph.id(d));
    if (!needs.empty()) line += "  needs " + join(needs, ", ");
    std::vector<std::string> markers = markers_of(s);
    if (!markers.empty()) line += "  [" + join(markers, ", ") + "]";
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + '\n';
  };

  size_t placed = 0;
  for (size_t w = 0; w < waves.size(); ++w) {
    out += "\nwave " + std::to_string(w + 1) + "\n";
    for (int i : waves[w]) step_line(i);
    placed += waves[w].size();
  }

  if (placed < runbook.steps.size()) {
    std::vector<bool> in_wave(runbook.steps.size(), false);
    for (const auto& wave : waves)
      for (int i : wave) in_wave[i] = true;
    out += "\nnot placed (in or behind a dependency cycle)\n";
    for (size_t i = 0; i < runbook.steps.size(); ++i)
      if (!in_wave[i]) step_line(static_cast<int>(i));
  }

  const Hooks& hooks = runbook.hooks;
  if (!hooks.on_success.empty() || !hooks.on_failure.empty() || !hooks.finally.empty()) {
    out += "\nhooks\n";
    text_hooks("on_success", hooks.on_success, out);
    text_hooks("on_failure", hooks.on_failure, out);
    text_hooks("finally", hooks.finally, out);
  }
  return out;
}

std::string render_graph_dot(const Runbook& runbook) {
  Graph graph(runbook.steps);
  std::string out = "digraph " + dot_quoted(runbook.name.empty() ? "runbook" : runbook.name) +
                    " {\n"
                    "  rankdir=TB;\n"
                    "  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
                    "  edge [arrowsize=0.8];\n";
  for (const Step& s : runbook.steps) {
    std::string label = s.id + "\n" + kind_of(s.body);
    std::vector<std::string> markers = markers_of(s);
    if (!markers.empty()) label += "\n[" + join(markers, ", ") + "]";
    std::string style = "rounded";
    if (s.rollback) style += ",bold";
    if (s.when) style += ",dashed";
    out += "  " + dot_quoted(s.id) + " [label=" + dot_quoted(label);
    if (style != "rounded") out += ", style=" + dot_quoted(style);
    if (s.confirm) out += ", color=orange";
    out += "];\n";
  }
  for (size_t i = 0; i < runbook.steps.size(); ++i)
    for (int d : graph.dependencies(static_cast<int>(i)))
      out += "  " + dot_quoted(graph.id(d)) + " -> " + dot_quoted(runbook.steps[i].id) + ";\n";
  out += "}\n";
  return out;
}

std::string render_graph_mermaid(const Runbook& runbook) {
  Graph graph(runbook.steps);
  std::string out = "flowchart TD\n";
  if (!runbook.name.empty()) out += "  %% runbook: " + runbook.name + "\n";
  std::vector<std::string> with_rollback, with_confirm, conditional;
  for (size_t i = 0; i < runbook.steps.size(); ++i) {
    const Step& s = runbook.steps[i];
    std::string node = "s" + std::to_string(i);
    std::string label = mermaid_text(s.id) + "<br/>" + mermaid_text(kind_of(s.body));
    std::vector<std::string> markers = markers_of(s);
    if (!markers.empty()) label += "<br/>[" + mermaid_text(join(markers, ", ")) + "]";
    out += "  ";
    out += node;
    out += "[\"";
    out += label;
    out += "\"]\n";
    if (s.rollback) with_rollback.push_back(node);
    if (s.confirm) with_confirm.push_back(node);
    if (s.when) conditional.push_back(node);
  }
  for (size_t i = 0; i < runbook.steps.size(); ++i)
    for (int d : graph.dependencies(static_cast<int>(i)))
      out += "  s" + std::to_string(d) + " --> s" + std::to_string(i) + "\n";

  auto add_class = [&](const char* name, const char* style, const std::vector<std::string>& nodes) {
    if (nodes.empty()) return;
    out += std::string("  classDef ") + name + " " + style + "\n";
    out += "  class " + join(nodes, ",") + " " + name + "\n";
  };
  add_class("rollback", "stroke-width:3px", with_rollback);
  add_class("confirm", "stroke:#e67e22,stroke-width:2px", with_confirm);
  add_class("conditional", "stroke-dasharray:5 5", conditional);
  return out;
}

std::string render_graph(const Runbook& runbook, GraphFormat format) {
  switch (format) {
    case GraphFormat::text:
      return render_graph_text(runbook);
    case GraphFormat::dot:
      return render_graph_dot(runbook);
    case GraphFormat::mermaid:
      return render_graph_mermaid(runbook);
  }
  return {};
}

}  // namespace runbook
