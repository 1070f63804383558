#include "runbook/graph_render.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace runbook {
namespace {

Step step(std::string id, ActionKind kind, std::vector<std::string> needs = {}) {
  Step s;
  s.id = std::move(id);
  s.body.kind = kind;
  s.needs = std::move(needs);
  if (kind == ActionKind::uses) s.body.uses = "http";
  return s;
}

Runbook diamond() {
  Runbook rb;
  rb.name = "diamond";
  rb.steps.push_back(step("fetch", ActionKind::run));
  rb.steps.push_back(step("build", ActionKind::run, {"fetch"}));
  rb.steps.back().rollback = StepBody{};
  rb.steps.push_back(step("test", ActionKind::exec, {"fetch"}));
  rb.steps.back().when = Text{"true", {}};
  rb.steps.push_back(step("deploy", ActionKind::uses, {"build", "test"}));
  rb.steps.back().confirm = Text{"Deploy?", {}};
  return rb;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("graph formats are parsed by name") {
  CHECK(parse_graph_format("text") == GraphFormat::text);
  CHECK(parse_graph_format("dot") == GraphFormat::dot);
  CHECK(parse_graph_format("mermaid") == GraphFormat::mermaid);
  CHECK_FALSE(parse_graph_format("svg").has_value());
}

TEST_CASE("the text graph lists each wave's steps with kind, needs and markers") {
  std::string text = render_graph_text(diamond());
  CHECK(text ==
        "diamond: 4 steps in 3 waves\n"
        "\n"
        "wave 1\n"
        "  fetch   run\n"
        "\n"
        "wave 2\n"
        "  build   run        needs fetch  [rollback]\n"
        "  test    exec       needs fetch  [when]\n"
        "\n"
        "wave 3\n"
        "  deploy  uses http  needs build, test  [confirm]\n");
}

TEST_CASE("the text graph sets apart steps caught in a cycle") {
  Runbook rb = diamond();
  rb.steps.push_back(step("p", ActionKind::run, {"q"}));
  rb.steps.push_back(step("q", ActionKind::run, {"p"}));
  std::string text = render_graph_text(rb);
  CHECK(contains(text, "not placed (in or behind a dependency cycle)\n  p "));
}

TEST_CASE("the dot graph quotes ids and draws edges from dependency to dependent") {
  Runbook rb = diamond();
  rb.steps.push_back(step("say \"hi\"", ActionKind::run, {"deploy"}));
  std::string dot = render_graph_dot(rb);
  CHECK(dot.rfind("digraph \"diamond\" {\n", 0) == 0);
  CHECK(contains(dot, "\"fetch\" -> \"build\";\n"));
  CHECK(contains(dot, "\"test\" -> \"deploy\";\n"));
  CHECK(contains(dot, "\"deploy\" -> \"say \\\"hi\\\"\";\n"));
  CHECK(contains(dot, "\"build\" [label=\"build\\nrun\\n[rollback]\", style=\"rounded,bold\"];"));
  CHECK(contains(dot, "color=orange"));
  CHECK(dot.back() == '\n');
}

TEST_CASE("the mermaid graph uses s-numbered nodes labelled with escaped ids") {
  Runbook rb = diamond();
  rb.steps.push_back(step("end", ActionKind::run, {"deploy"}));
  rb.steps.push_back(step("a<\"b\">", ActionKind::run));
  std::string mermaid = render_graph_mermaid(rb);
  CHECK(mermaid.rfind("flowchart TD\n", 0) == 0);
  CHECK(contains(mermaid, "  s4[\"end<br/>run\"]\n"));
  CHECK(contains(mermaid, "  s3 --> s4\n"));
  CHECK(contains(mermaid, "s5[\"a#lt;#quot;b#quot;#gt;<br/>run\"]"));
  CHECK(contains(mermaid, "  class s1 rollback\n"));
  CHECK(contains(mermaid, "  class s3 confirm\n"));
  CHECK(contains(mermaid, "  class s2 conditional\n"));
}

}  // namespace
}  // namespace runbook
