#include <doctest/doctest.h>

#include "runbook/load.hpp"

using namespace runbook;
using namespace std::chrono_literals;

TEST_CASE("a merge key copies a map's keys into a step, and the step's own keys win") {
  LoadResult r = load_runbook_text(R"(version: 1
name: merge
x-base: &base
  timeout: 5s
  retry: {attempts: 3}
  run: echo base
steps:
  - id: a
    <<: *base
  - id: b
    <<: *base
    timeout: 9s
    run: echo own
)",
                                   "t.yaml");
  INFO(r.diagnostics.format());
  REQUIRE(r.ok());
  const Step& a = r.runbook->steps[0];
  CHECK(a.body.run.value == "echo base");
  CHECK(a.body.timeout == Duration{5s});
  CHECK(a.body.retry.attempts == 3);
  const Step& b = r.runbook->steps[1];
  CHECK(b.body.run.value == "echo own");
  CHECK(b.body.timeout == Duration{9s});
  CHECK(b.body.retry.attempts == 3);
}

TEST_CASE("in a merge list, earlier maps win over later ones") {
  LoadResult r = load_runbook_text(R"(version: 1
name: merge
x-fast: &fast {timeout: 1s, kill_grace: 1s}
x-slow: &slow {timeout: 1h, kill_grace: 1m, deadline: 2h}
steps:
  - id: a
    run: "true"
    <<: [*fast, *slow]
  - id: b
    run: "true"
    <<: [*slow, *fast]
)",
                                   "t.yaml");
  INFO(r.diagnostics.format());
  REQUIRE(r.ok());
  const Step& a = r.runbook->steps[0];
  CHECK(a.body.timeout == Duration{1s});
  CHECK(a.body.kill_grace == Duration{1s});
  CHECK(a.deadline == Duration{2h});
  const Step& b = r.runbook->steps[1];
  CHECK(b.body.timeout == Duration{1h});
  CHECK(b.body.kill_grace == Duration{1min});
}

TEST_CASE("merged maps may merge others, and merging works inside with maps") {
  LoadResult r = load_runbook_text(R"(version: 1
name: merge
x-a: &a {x: 1, y: 1}
x-b: &b {<<: *a, y: 2}
steps:
  - id: s
    uses: http
    with: {<<: *b, z: 3}
)",
                                   "t.yaml");
  INFO(r.diagnostics.format());
  REQUIRE(r.ok());
  CHECK(r.runbook->steps[0].body.with == Value(Value::Map{{"x", 1}, {"y", 2}, {"z", 3}}));
}

TEST_CASE("a merge key that is not a map is reported") {
  LoadResult r = load_runbook_text(R"(version: 1
name: merge
steps:
  - id: s
    run: "true"
    <<: [1, 2]
)",
                                   "t.yaml");
  CHECK(r.diagnostics.format() ==
        "t.yaml:6:9: error: '<<' must merge a map or a list of maps, not a list\n");
}

TEST_CASE("a quoted '<<' is an ordinary key") {
  LoadResult r =
      load_runbook_text("version: 1\nname: m\nsteps: [{id: s, run: 'true', '<<': {}}]\n", "t.yaml");
  CHECK(r.diagnostics.format() == "t.yaml:3:30: error: unknown key '<<' in step 's'\n");
}

TEST_CASE("plain aliases reuse a node anywhere") {
  LoadResult r = load_runbook_text(R"(version: 1
name: alias
steps:
  - id: a
    exec: &argv [echo, hi]
  - id: b
    exec: *argv
)",
                                   "t.yaml");
  INFO(r.diagnostics.format());
  REQUIRE(r.ok());
  CHECK(r.runbook->steps[1].body.exec.size() == 2);
}

TEST_CASE("an alias inside the node it names is refused") {
  LoadResult r = load_runbook_text(R"(version: 1
name: alias
steps:
  - id: a
    uses: http
    with: &loop {again: *loop}
)",
                                   "t.yaml");
  CHECK_FALSE(r.ok());
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics.items()[0].message.find("is inside the node it names") != std::string::npos);
  CHECK(r.diagnostics.items()[0].mark.line == 6);
}

TEST_CASE("aliases that expand exponentially are stopped by the work budget") {
  std::string text = "version: 1\nname: bomb\nx-0: &l0 [a, a, a, a, a, a, a, a, a, a]\n";
  for (int k = 1; k < 9; ++k) {
    const std::string prev = "*l" + std::to_string(k - 1);
    text += "x-" + std::to_string(k) + ": &l" + std::to_string(k) + " [";
    for (int i = 0; i < 10; ++i) text += (i ? ", " : "") + prev;
    text += "]\n";
  }
  text += "steps: [{id: a, uses: http, with: {v: *l8}}]\n";
  LoadResult r = load_runbook_text(text, "t.yaml");
  CHECK_FALSE(r.ok());
  CHECK(r.diagnostics.format().find("too large once its aliases are expanded") !=
        std::string::npos);
}
