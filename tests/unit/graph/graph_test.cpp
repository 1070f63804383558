#include "runbook/graph.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace runbook {
namespace {

// Steps built by hand: {id, needs...}.
std::vector<Step> steps(std::vector<std::pair<std::string, std::vector<std::string>>> spec) {
  std::vector<Step> out;
  for (auto& [id, needs] : spec) {
    Step s;
    s.id = id;
    s.needs = needs;
    out.push_back(std::move(s));
  }
  return out;
}

// The ids of `indices`, for readable comparisons.
std::vector<std::string> ids(const Graph& g, const std::vector<int>& indices) {
  std::vector<std::string> out;
  for (int i : indices) out.push_back(g.id(i));
  return out;
}

using Ids = std::vector<std::string>;

std::vector<Step> diamond() {
  return steps({{"a", {}}, {"b", {"a"}}, {"c", {"a"}}, {"d", {"b", "c"}}});
}

std::vector<Step> chain(int n) {
  std::vector<Step> out(n);
  for (int i = 0; i < n; ++i) {
    out[i].id = "s" + std::to_string(i);
    if (i > 0) out[i].needs = {"s" + std::to_string(i - 1)};
  }
  return out;
}

TEST_CASE("a diamond has edges both ways and its dependents in file order") {
  Graph g(diamond());
  REQUIRE(g.size() == 4);
  CHECK(g.index_of("c") == 2);
  CHECK(g.index_of("nope") == -1);
  CHECK(ids(g, g.dependencies(3)) == Ids{"b", "c"});
  CHECK(ids(g, g.dependents(0)) == Ids{"b", "c"});
  CHECK(g.dependents(3).empty());
}

TEST_CASE("a copied or moved graph still finds its steps after the original is gone") {
  std::optional<Graph> original(std::in_place,
                                steps({{"a-step-id-too-long-for-sso", {}}, {"b", {}}}));
  Graph copy = *original;
  Graph assigned(std::vector<Step>{});
  assigned = *original;
  Graph moved = std::move(*original);
  original.reset();
  CHECK(copy.index_of("a-step-id-too-long-for-sso") == 0);
  CHECK(copy.index_of("b") == 1);
  CHECK(assigned.index_of("b") == 1);
  CHECK(moved.index_of("b") == 1);
  CHECK(moved.index_of("a-step-id-too-long-for-sso") == 0);
}

TEST_CASE("a duplicate id names its first step") {
  Graph g(steps({{"a", {}}, {"a", {}}, {"b", {"a"}}}));
  CHECK(g.index_of("a") == 0);
  CHECK(ids(g, g.dependents(0)) == Ids{"b"});
}

TEST_CASE("needs naming unknown steps or the step itself are left out") {
  Graph g(steps({{"a", {"a", "ghost"}}, {"b", {"a", "missing"}}}));
  CHECK(g.dependencies(0).empty());
  CHECK(ids(g, g.dependencies(1)) == Ids{"a"});
  CHECK_FALSE(g.find_cycle().has_value());
}

TEST_CASE("duplicate needs entries count once") {
  Graph g(steps({{"a", {}}, {"b", {"a", "a", "a"}}}));
  CHECK(ids(g, g.dependencies(1)) == Ids{"a"});
  CHECK(ids(g, g.dependents(0)) == Ids{"b"});
}

TEST_CASE("a diamond orders and layers its steps") {
  Graph g(diamond());
  CHECK(ids(g, g.topological_order()) == Ids{"a", "b", "c", "d"});
  auto waves = g.waves();
  REQUIRE(waves.size() == 3);
  CHECK(ids(g, waves[0]) == Ids{"a"});
  CHECK(ids(g, waves[1]) == Ids{"b", "c"});
  CHECK(ids(g, waves[2]) == Ids{"d"});
  CHECK(g.depends_on(3, 0));
  CHECK_FALSE(g.depends_on(0, 3));
  CHECK_FALSE(g.depends_on(1, 2));
  CHECK_FALSE(g.depends_on(0, 0));
}

TEST_CASE("topological order puts dependencies first and breaks ties in file order") {
  // Written out of order: d is needed by a, c needs nothing.
  Graph g(steps({{"a", {"d"}}, {"b", {"a"}}, {"c", {}}, {"d", {}}}));
  CHECK(ids(g, g.topological_order()) == Ids{"c", "d", "a", "b"});
}

TEST_CASE("a wave holds a step at the depth of its longest path") {
  // c needs a (wave 1) and b (wave 2): it belongs in wave 3.
  Graph g(steps({{"a", {}}, {"b", {"a"}}, {"c", {"a", "b"}}}));
  auto waves = g.waves();
  REQUIRE(waves.size() == 3);
  CHECK(ids(g, waves[2]) == Ids{"c"});
}

TEST_CASE("a wide graph is one wave in file order") {
  std::vector<Step> wide;
  for (int i = 0; i < 1000; ++i) wide.push_back(steps({{"w" + std::to_string(i), {}}})[0]);
  Graph g(wide);
  auto waves = g.waves();
  REQUIRE(waves.size() == 1);
  REQUIRE(waves[0].size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(waves[0][i] == i);
  Plan plan(g);
  int taken = 0;
  while (plan.take_ready()) ++taken;
  CHECK(taken == 1000);
}

TEST_CASE("an empty runbook has no order, no waves and nothing to plan") {
  Graph g(std::vector<Step>{});
  CHECK(g.topological_order().empty());
  CHECK(g.waves().empty());
  CHECK_FALSE(g.find_cycle().has_value());
  Plan plan(g);
  CHECK_FALSE(plan.take_ready().has_value());
  CHECK(plan.remaining() == 0);
}

TEST_CASE("a two-step cycle reads in needs order from the first step in the file") {
  Graph g(steps({{"x", {}}, {"a", {"b"}}, {"b", {"a"}}}));
  auto cycle = g.find_cycle();
  REQUIRE(cycle.has_value());
  CHECK(ids(g, *cycle) == Ids{"a", "b", "a"});
}

TEST_CASE("a three-step cycle is reported with arrows meaning needs") {
  // a needs c, c needs b, b needs a: "a -> c -> b -> a".
  Graph g(steps({{"a", {"c"}}, {"b", {"a"}}, {"c", {"b"}}}));
  auto cycle = g.find_cycle();
  REQUIRE(cycle.has_value());
  CHECK(ids(g, *cycle) == Ids{"a", "c", "b", "a"});
}

TEST_CASE("a long cycle is reported whole") {
  Graph g(steps({{"s1", {"s5"}}, {"s2", {"s1"}}, {"s3", {"s2"}}, {"s4", {"s3"}}, {"s5", {"s4"}}}));
  auto cycle = g.find_cycle();
  REQUIRE(cycle.has_value());
  CHECK(ids(g, *cycle) == Ids{"s1", "s5", "s4", "s3", "s2", "s1"});
}

TEST_CASE("a tangle of cycles is reported once with a shortest cycle through its first step") {
  // a -> b -> c -> a and a -> c -> a share steps.
  Graph g(steps({{"a", {"b", "c"}}, {"b", {"c"}}, {"c", {"a"}}}));
  auto cycles = g.find_cycles();
  REQUIRE(cycles.size() == 1);
  CHECK(ids(g, cycles[0]) == Ids{"a", "c", "a"});
}

TEST_CASE("two disjoint cycles are both reported in file order") {
  Graph g(steps({{"ok", {}},
                 {"p", {"q"}},
                 {"x", {"z"}},
                 {"q", {"p", "ok"}},
                 {"y", {"x"}},
                 {"z", {"y"}},
                 {"after", {"q"}}}));
  auto cycles = g.find_cycles();
  REQUIRE(cycles.size() == 2);
  CHECK(ids(g, cycles[0]) == Ids{"p", "q", "p"});
  CHECK(ids(g, cycles[1]) == Ids{"x", "z", "y", "x"});
  CHECK(ids(g, *g.find_cycle()) == Ids{"p", "q", "p"});
}

TEST_CASE("steps in or behind a cycle are left out of order and waves") {
  Graph g(steps({{"ok", {}}, {"p", {"q"}}, {"q", {"p"}}, {"after", {"q"}}}));
  CHECK(ids(g, g.topological_order()) == Ids{"ok"});
  auto waves = g.waves();
  REQUIRE(waves.size() == 1);
  CHECK(ids(g, waves[0]) == Ids{"ok"});
  CHECK(g.depends_on(1, 1));
}

TEST_CASE("an acyclic graph has no cycles") {
  Graph g(diamond());
  CHECK_FALSE(g.find_cycle().has_value());
  CHECK(g.find_cycles().empty());
}

TEST_CASE("a 10,000-step chain is handled without recursion, quickly" * doctest::timeout(10)) {
  const int n = 10000;
  auto start = std::chrono::steady_clock::now();
  Graph g(chain(n));
  CHECK_FALSE(g.find_cycle().has_value());
  auto order = g.topological_order();
  REQUIRE(order.size() == size_t(n));
  CHECK(order.front() == 0);
  CHECK(order.back() == n - 1);
  CHECK(g.waves().size() == size_t(n));
  CHECK(g.depends_on(n - 1, 0));
  CHECK_FALSE(g.depends_on(0, n - 1));

  Plan plan(g);
  std::vector<int> not_run;
  auto first = plan.take_ready();
  REQUIRE(first.has_value());
  plan.mark_ended(*first, false, &not_run);
  CHECK(not_run.size() == size_t(n - 1));
  CHECK(plan.remaining() == 0);

  // The same chain closed into one cycle through every step.
  std::vector<Step> ring = chain(n);
  ring[0].needs = {"s" + std::to_string(n - 1)};
  Graph cyclic(ring);
  auto cycle = cyclic.find_cycle();
  REQUIRE(cycle.has_value());
  CHECK(cycle->size() == size_t(n + 1));
  CHECK(cycle->front() == 0);
  CHECK((*cycle)[1] == n - 1);
  CHECK(cycle->back() == 0);

  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < std::chrono::seconds(2));
}

TEST_CASE("a plan hands out steps as their dependencies end well") {
  Graph g(diamond());
  Plan plan(g);
  CHECK(plan.remaining() == 4);
  REQUIRE(plan.has_ready());
  CHECK(plan.take_ready() == 0);
  CHECK_FALSE(plan.has_ready());
  CHECK_FALSE(plan.take_ready().has_value());

  std::vector<int> not_run;
  plan.mark_ended(0, true, &not_run);
  CHECK(not_run.empty());
  CHECK(plan.take_ready() == 1);
  CHECK(plan.take_ready() == 2);
  plan.mark_ended(2, true, &not_run);
  CHECK_FALSE(plan.take_ready().has_value());  // d still waits for b
  plan.mark_ended(1, true, &not_run);
  CHECK(plan.take_ready() == 3);
  plan.mark_ended(3, true, &not_run);
  CHECK(plan.remaining() == 0);
  CHECK(not_run.empty());
}

TEST_CASE("a failure makes every step that transitively needs it not_run") {
  // a -> b -> c -> d, and e beside them.
  Graph g(steps({{"a", {}}, {"b", {"a"}}, {"c", {"b"}}, {"d", {"c"}}, {"e", {}}}));
  Plan plan(g);
  CHECK(plan.take_ready() == 0);
  CHECK(plan.take_ready() == 4);
  std::vector<int> not_run;
  plan.mark_ended(0, false, &not_run);
  CHECK(ids(g, not_run) == Ids{"b", "c", "d"});
  CHECK(plan.remaining() == 1);  // e is still running
  CHECK_FALSE(plan.has_ready());
  plan.mark_ended(4, true, &not_run);
  CHECK(plan.remaining() == 0);
  CHECK(not_run.size() == 3);
}

TEST_CASE("a step that needs one step that ended ok and one that failed never starts") {
  Graph g(diamond());
  Plan plan(g);
  plan.take_ready();
  std::vector<int> not_run;
  plan.mark_ended(0, true, &not_run);
  CHECK(plan.take_ready() == 1);
  CHECK(plan.take_ready() == 2);
  plan.mark_ended(1, true, &not_run);
  plan.mark_ended(2, false, &not_run);
  CHECK(ids(g, not_run) == Ids{"d"});
  CHECK_FALSE(plan.take_ready().has_value());
  CHECK(plan.remaining() == 0);

  // The other order: the failure first, then the success frees nothing.
  Plan other(g);
  other.take_ready();
  not_run.clear();
  other.mark_ended(0, true, &not_run);
  other.take_ready();
  other.take_ready();
  other.mark_ended(2, false, &not_run);
  CHECK(ids(g, not_run) == Ids{"d"});
  other.mark_ended(1, true, &not_run);
  CHECK_FALSE(other.take_ready().has_value());
  CHECK(not_run.size() == 1);
  CHECK(other.remaining() == 0);
}

TEST_CASE("two failures report a shared dependent once") {
  Graph g(diamond());
  Plan plan(g);
  plan.take_ready();
  plan.mark_ended(0, true, nullptr);
  plan.take_ready();
  plan.take_ready();
  std::vector<int> not_run;
  plan.mark_ended(1, false, &not_run);
  plan.mark_ended(2, false, &not_run);
  CHECK(ids(g, not_run) == Ids{"d"});
  CHECK(plan.remaining() == 0);
}

TEST_CASE("abandon gives up on every step not handed out, running ones still end") {
  Graph g(steps({{"a", {}}, {"b", {}}, {"c", {"a"}}, {"d", {"c"}}}));
  Plan plan(g);
  CHECK(plan.take_ready() == 0);  // a runs; b is ready but not taken
  std::vector<int> not_run;
  plan.abandon(&not_run);
  CHECK(ids(g, not_run) == Ids{"b", "c", "d"});
  CHECK_FALSE(plan.has_ready());
  CHECK_FALSE(plan.take_ready().has_value());
  CHECK(plan.remaining() == 1);

  not_run.clear();
  plan.mark_ended(0, true, &not_run);  // ends well, yet frees nothing
  CHECK(not_run.empty());
  CHECK_FALSE(plan.take_ready().has_value());
  CHECK(plan.remaining() == 0);
}

TEST_CASE("ending a step that was not handed out is a programmer error") {
  Graph g(diamond());
  Plan plan(g);
  CHECK_THROWS_AS(plan.mark_ended(3, true, nullptr), std::logic_error);
  plan.take_ready();
  plan.mark_ended(0, true, nullptr);
  CHECK_THROWS_AS(plan.mark_ended(0, true, nullptr), std::logic_error);
}

TEST_CASE("steps becoming ready together are handed out in file order") {
  Graph g(steps({{"root", {}}, {"z", {"root"}}, {"y", {"root"}}, {"x", {"root"}}}));
  Plan plan(g);
  plan.take_ready();
  plan.mark_ended(0, true, nullptr);
  CHECK(plan.take_ready() == 1);
  CHECK(plan.take_ready() == 2);
  CHECK(plan.take_ready() == 3);
}

}  // namespace
}  // namespace runbook
