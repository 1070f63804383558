// `runbook graph`: the real binary on runbooks under tests/data/graph/.

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "run_binary.hpp"

namespace {

namespace fs = std::filesystem;
using runbook::testing::run_binary;
using runbook::testing::RunResult;

RunResult run_runbook(std::vector<std::string> args) {
  args.insert(args.begin(), RUNBOOK_BINARY);
  return run_binary(args);
}

bool have_graphviz() {
  return run_binary({"sh", "-c", "command -v dot"}).exit_code == 0;
}

// Renders DOT text to SVG with Graphviz.
RunResult dot_to_svg(const std::string& dot) {
  return run_binary({"dot", "-Tsvg"}, {}, dot);
}

std::string data(const std::string& name) {
  return std::string(RUNBOOK_TEST_DATA) + "/graph/" + name;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("runbook graph prints the waves with needs, kinds and markers as text" *
          doctest::timeout(30)) {
  RunResult r = run_runbook({"graph", data("diamond.yaml"), "--format", "text"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  INFO(r.out);
  CHECK(contains(r.out, "graph-diamond: 4 steps in 3 waves"));
  CHECK(r.out.find("wave 1") < r.out.find("fetch"));
  CHECK(r.out.find("wave 2") < r.out.find("build"));
  CHECK(r.out.find("wave 3") < r.out.find("deploy"));
  CHECK(contains(r.out, "needs fetch  [rollback]"));
  CHECK(contains(r.out, "exec"));
  CHECK(contains(r.out, "uses http  needs build, test  [confirm]"));
  CHECK(contains(r.out, "[when]"));
  CHECK(contains(r.out, "finally: notify"));
}

TEST_CASE("runbook graph prints text when no format is given" * doctest::timeout(30)) {
  RunResult plain = run_runbook({"graph", data("diamond.yaml")});
  RunResult text = run_runbook({"graph", data("diamond.yaml"), "--format", "text"});
  REQUIRE(plain.exit_code == 0);
  CHECK(plain.out == text.out);
}

TEST_CASE("runbook graph --format dot is a digraph that Graphviz renders" * doctest::timeout(30)) {
  RunResult r = run_runbook({"graph", data("diamond.yaml"), "--format", "dot"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  INFO(r.out);
  CHECK(r.out.rfind("digraph \"graph-diamond\" {", 0) == 0);
  CHECK(contains(r.out, "\"fetch\" -> \"build\";"));
  CHECK(contains(r.out, "\"fetch\" -> \"test\";"));
  CHECK(contains(r.out, "\"build\" -> \"deploy\";"));
  CHECK(contains(r.out, "\"test\" -> \"deploy\";"));
  CHECK(contains(r.out, "bold"));          // build has a rollback
  CHECK(contains(r.out, "color=orange"));  // deploy asks

  if (!have_graphviz()) {
    MESSAGE("skipped rendering: Graphviz `dot` is not installed");
    return;
  }
  RunResult svg = dot_to_svg(r.out);
  INFO(svg.err);
  CHECK(svg.exit_code == 0);
  CHECK(svg.err.empty());
  CHECK(contains(svg.out, "<svg"));
}

TEST_CASE("runbook graph --format mermaid is a flowchart with an edge per need" *
          doctest::timeout(30)) {
  RunResult r = run_runbook({"graph", data("diamond.yaml"), "--format", "mermaid"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  INFO(r.out);
  CHECK(r.out.rfind("flowchart TD\n", 0) == 0);
  CHECK(contains(r.out, "s0[\"fetch<br/>run\"]"));
  CHECK(contains(r.out, "s0 --> s1"));
  CHECK(contains(r.out, "s0 --> s2"));
  CHECK(contains(r.out, "s1 --> s3"));
  CHECK(contains(r.out, "s2 --> s3"));
  CHECK(contains(r.out, "class s1 rollback"));
  CHECK(contains(r.out, "class s3 confirm"));
}

TEST_CASE("runbook graph keeps step ids that are Mermaid or DOT keywords out of the syntax" *
          doctest::timeout(30)) {
  RunResult mermaid = run_runbook({"graph", data("reserved.yaml"), "--format", "mermaid"});
  INFO(mermaid.err);
  REQUIRE(mermaid.exit_code == 0);
  CHECK(contains(mermaid.out, "s0[\"end<br/>run\"]"));
  CHECK(contains(mermaid.out, "s0 --> s3"));
  CHECK_FALSE(contains(mermaid.out, "\n  end"));

  RunResult dot = run_runbook({"graph", data("reserved.yaml"), "--format", "dot"});
  REQUIRE(dot.exit_code == 0);
  CHECK(contains(dot.out, "\"end\" -> \"graph\";"));
  if (have_graphviz()) CHECK(dot_to_svg(dot.out).exit_code == 0);
}

TEST_CASE("runbook graph on a runbook with a cycle prints diagnostics and exits 2" *
          doctest::timeout(30)) {
  RunResult r = run_runbook({"graph", data("cycle.yaml")});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "cycle.yaml:"));
  CHECK(contains(r.err, "error"));
}

TEST_CASE("runbook graph on a missing file exits 2" * doctest::timeout(30)) {
  RunResult r = run_runbook({"graph", data("no-such-file.yaml")});
  CHECK(r.exit_code == 2);
  CHECK_FALSE(r.err.empty());
}

TEST_CASE("runbook graph refuses an unknown format as a usage error" * doctest::timeout(30)) {
  RunResult r = run_runbook({"graph", data("diamond.yaml"), "--format", "png"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
}

TEST_CASE("runbook graph renders examples/diamond.yaml in every format" * doctest::timeout(30)) {
  std::string example = std::string(RUNBOOK_SOURCE_DIR) + "/examples/diamond.yaml";
  if (!fs::exists(example)) {
    MESSAGE("skipped: examples/diamond.yaml does not exist yet");
    return;
  }
  for (const char* format : {"text", "dot", "mermaid"}) {
    RunResult r = run_runbook({"graph", example, "--format", format});
    INFO(format, r.err);
    CHECK(r.exit_code == 0);
    CHECK_FALSE(r.out.empty());
  }
}

}  // namespace
