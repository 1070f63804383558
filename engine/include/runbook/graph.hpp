#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runbook/model.hpp"

namespace runbook {

// The DAG of a runbook's steps, by index into Runbook::steps. Pure: no
// processes, no clock. Built once per run; cheap enough for 10,000 steps.
class Graph {
 public:
  // `needs` naming unknown steps (or the step itself) are left out; the loader
  // reports them.
  explicit Graph(const std::vector<Step>& steps);
  // The index's keys view ids_: a copy rebuilds it, a move keeps it.
  Graph(const Graph& other);
  Graph& operator=(const Graph& other);
  Graph(Graph&&) noexcept = default;
  Graph& operator=(Graph&&) noexcept = default;
  ~Graph() = default;

  size_t size() const { return ids_.size(); }
  const std::string& id(int step) const { return ids_[step]; }
  // -1 when no step has that id.
  int index_of(std::string_view id) const;
  const std::vector<int>& dependencies(int step) const { return deps_[step]; }
  const std::vector<int>& dependents(int step) const { return dependents_[step]; }

  // One cycle, as the steps in dependency order with the first repeated at the
  // end; nullopt when acyclic. The arrow of a printed cycle means "needs":
  // [a, b, c, a] reads "a -> b -> c -> a", i.e. a needs b, b needs c, c needs a.
  // A cycle starts at its step that comes first in the file and is a shortest
  // cycle through that step. O(V+E), no recursion.
  std::optional<std::vector<int>> find_cycle() const;
  // One cycle per tangle (strongly connected set of two or more steps), in file
  // order of their first steps; each in the form find_cycle() gives. Steps that
  // share several cycles are reported once, in one of them. O(V+E).
  std::vector<std::vector<int>> find_cycles() const;

  // Every step after all it needs; of the steps ready at once, the earliest in
  // the file comes first (a file already in dependency order comes back as
  // is). Steps in or behind a cycle are left out. O(V log V + E).
  std::vector<int> topological_order() const;
  // Steps grouped by depth: wave 0 needs nothing, wave k needs something in
  // wave k-1 and nothing in wave k or later. What could run in parallel. Each wave is in
  // file order; steps in or behind a cycle are left out. O(V+E).
  std::vector<std::vector<int>> waves() const;
  // True when `ancestor` is reachable through `needs` from `step` (a step
  // depends on itself only through a cycle). O(V+E).
  bool depends_on(int step, int ancestor) const;

 private:
  void build_index();

  std::vector<std::string> ids_;
  std::unordered_map<std::string_view, int> index_;
  std::vector<std::vector<int>> deps_;
  std::vector<std::vector<int>> dependents_;
};

// Which steps may start, given the ones that ended (ninja's Plan). The
// executor asks it; it never starts anything itself. Not thread-safe: use it
// from one thread (the executor's strand). A whole run through the plan costs
// O(V+E): each step and each edge is looked at a bounded number of times.
class Plan {
 public:
  // `graph` must be acyclic (steps in a cycle never become ready) and must
  // outlive the plan. At first, the steps that need nothing are ready, in file
  // order.
  explicit Plan(const Graph& graph);

  // Takes the next step whose dependencies all ended well, in the order they
  // became ready (several at once: in file order); nullopt when none is ready
  // now. The step counts as started until mark_ended().
  std::optional<int> take_ready();
  // True when take_ready() may return a step. After abandon(), false.
  bool has_ready() const { return ready_head_ < ready_.size(); }

  // Records that `step`, handed out by take_ready(), ended. `ok` is true for
  // succeeded, skipped or an allowed failure. When false, every step that
  // (transitively) needs it and is not yet decided will never start; those are
  // appended to `not_run` (may be null) in file order. Ending a step that was
  // not handed out, or twice, throws std::logic_error (a programmer error).
  // Still valid after abandon(), for the steps that were running.
  void mark_ended(int step, bool ok, std::vector<int>* not_run);
  // Records that no more steps will start (failure or cancel): every step not
  // yet handed out is appended to `not_run` (may be null), in file order. Steps
  // already handed out still need mark_ended().
  void abandon(std::vector<int>* not_run);

  // Steps neither ended nor given up (not_run): waiting, ready or running. Zero
  // when the run's graph part is over.
  size_t remaining() const { return remaining_; }

 private:
  enum class Mark : unsigned char { waiting, ready, started, ended, not_run };
  const Graph& graph_;
  std::vector<int> waiting_for_;  // dependencies not yet ended, per step
  std::vector<Mark> marks_;
  std::vector<int> ready_;
  size_t ready_head_ = 0;
  size_t remaining_ = 0;
};

}  // namespace runbook
