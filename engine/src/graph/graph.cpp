#include "runbook/graph.hpp"

#include <algorithm>
#include <functional>
#include <queue>
#include <stdexcept>

namespace runbook {

Graph::Graph(const std::vector<Step>& steps) {
  const int n = static_cast<int>(steps.size());
  ids_.reserve(steps.size());
  for (const Step& s : steps) ids_.push_back(s.id);
  build_index();

  deps_.resize(steps.size());
  dependents_.resize(steps.size());
  // seen_by[d] == i marks `d` as already a dependency of `i`: deduplicates in
  // O(1) per entry without a set per step.
  std::vector<int> seen_by(steps.size(), -1);
  for (int i = 0; i < n; ++i) {
    for (const std::string& need : steps[i].needs) {
      int d = index_of(need);
      if (d < 0 || d == i || seen_by[d] == i) continue;
      seen_by[d] = i;
      deps_[i].push_back(d);
      dependents_[d].push_back(i);  // i grows, so each list is in file order
    }
  }
}

Graph::Graph(const Graph& other)
    : ids_(other.ids_), deps_(other.deps_), dependents_(other.dependents_) {
  build_index();
}

Graph& Graph::operator=(const Graph& other) {
  if (this == &other) return *this;
  ids_ = other.ids_;
  deps_ = other.deps_;
  dependents_ = other.dependents_;
  build_index();
  return *this;
}

// ids_ no longer grows, so views into it stay valid. A duplicate id keeps its
// first step; the loader reports the duplicate.
void Graph::build_index() {
  index_.clear();
  index_.reserve(ids_.size());
  for (size_t i = 0; i < ids_.size(); ++i) index_.emplace(ids_[i], static_cast<int>(i));
}

int Graph::index_of(std::string_view id) const {
  auto it = index_.find(id);
  return it == index_.end() ? -1 : it->second;
}

namespace {

// Strongly connected components by Tarjan's algorithm, with an explicit stack so
// that a long chain cannot overflow the call stack. Returns the component number
// of every step.
std::vector<int> strongly_connected(const Graph& g, int* component_count) {
  const int n = static_cast<int>(g.size());
  std::vector<int> order(n, -1), low(n, 0), component(n, -1);
  std::vector<bool> on_stack(n, false);
  std::vector<int> stack;
  struct Frame {
    int step;
    size_t next_dep;
  };
  std::vector<Frame> frames;
  int counter = 0, components = 0;

  for (int root = 0; root < n; ++root) {
    if (order[root] >= 0) continue;
    frames.push_back({root, 0});
    order[root] = low[root] = counter++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!frames.empty()) {
      Frame& f = frames.back();
      const std::vector<int>& deps = g.dependencies(f.step);
      if (f.next_dep < deps.size()) {
        int d = deps[f.next_dep++];
        if (order[d] < 0) {
          order[d] = low[d] = counter++;
          stack.push_back(d);
          on_stack[d] = true;
          frames.push_back({d, 0});  // invalidates f
        } else if (on_stack[d]) {
          low[f.step] = std::min(low[f.step], order[d]);
        }
        continue;
      }
      int v = f.step;
      frames.pop_back();
      if (!frames.empty()) low[frames.back().step] = std::min(low[frames.back().step], low[v]);
      if (low[v] == order[v]) {
        int w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          component[w] = components;
        } while (w != v);
        ++components;
      }
    }
  }
  *component_count = components;
  return component;
}

// The shortest cycle through `start` whose steps all lie in `start`'s component,
// found breadth-first along `needs`: [start, ..., start].
std::vector<int> shortest_cycle_through(const Graph& g, int start,
                                        const std::vector<int>& component,
                                        std::vector<int>& came_from) {
  std::vector<int> touched;
  std::queue<int> frontier;
  frontier.push(start);
  int last = -1;  // the step whose `needs` include `start`
  while (!frontier.empty() && last < 0) {
    int v = frontier.front();
    frontier.pop();
    for (int d : g.dependencies(v)) {
      if (component[d] != component[start]) continue;
      if (d == start) {
        last = v;
        break;
      }
      if (came_from[d] >= 0) continue;
      came_from[d] = v;
      touched.push_back(d);
      frontier.push(d);
    }
  }
  std::vector<int> cycle;
  for (int v = last; v != start; v = came_from[v]) cycle.push_back(v);
  cycle.push_back(start);
  std::reverse(cycle.begin(), cycle.end());
  cycle.push_back(start);
  for (int v : touched) came_from[v] = -1;
  return cycle;
}

}  // namespace

std::optional<std::vector<int>> Graph::find_cycle() const {
  std::vector<std::vector<int>> cycles = find_cycles();
  if (cycles.empty()) return std::nullopt;
  return std::move(cycles.front());
}

std::vector<std::vector<int>> Graph::find_cycles() const {
  const int n = static_cast<int>(size());
  int count = 0;
  std::vector<int> component = strongly_connected(*this, &count);
  std::vector<int> members(count, 0);
  for (int c : component) ++members[c];

  // Self-needs are dropped when the graph is built, so a component is cyclic
  // exactly when it has two or more steps. Each is reported once, from its
  // first step in file order; walking steps in file order sorts the cycles.
  std::vector<std::vector<int>> cycles;
  std::vector<bool> reported(count, false);
  std::vector<int> came_from(n, -1);
  for (int i = 0; i < n; ++i) {
    int c = component[i];
    if (members[c] < 2 || reported[c]) continue;
    reported[c] = true;
    cycles.push_back(shortest_cycle_through(*this, i, component, came_from));
  }
  return cycles;
}

std::vector<int> Graph::topological_order() const {
  const int n = static_cast<int>(size());
  std::vector<int> waiting(n);
  // A min-heap of indices: of all the steps ready at a moment, the earliest in
  // the file goes first, so a file already in dependency order comes back as is.
  std::priority_queue<int, std::vector<int>, std::greater<>> ready;
  for (int i = 0; i < n; ++i) {
    waiting[i] = static_cast<int>(deps_[i].size());
    if (waiting[i] == 0) ready.push(i);
  }
  std::vector<int> order;
  order.reserve(n);
  while (!ready.empty()) {
    int v = ready.top();
    ready.pop();
    order.push_back(v);
    for (int d : dependents_[v])
      if (--waiting[d] == 0) ready.push(d);
  }
  return order;
}

std::vector<std::vector<int>> Graph::waves() const {
  const int n = static_cast<int>(size());
  std::vector<int> waiting(n), depth(n, -1), queue;
  queue.reserve(n);
  for (int i = 0; i < n; ++i) {
    waiting[i] = static_cast<int>(deps_[i].size());
    if (waiting[i] == 0) {
      depth[i] = 0;
      queue.push_back(i);
    }
  }
  int deepest = -1;
  for (size_t head = 0; head < queue.size(); ++head) {
    int v = queue[head];
    deepest = std::max(deepest, depth[v]);
    for (int d : dependents_[v]) {
      depth[d] = std::max(depth[d], depth[v] + 1);
      if (--waiting[d] == 0) queue.push_back(d);
    }
  }
  std::vector<std::vector<int>> waves(deepest + 1);
  for (int i = 0; i < n; ++i)
    if (waiting[i] == 0) waves[depth[i]].push_back(i);  // steps in a cycle are left out
  return waves;
}

bool Graph::depends_on(int step, int ancestor) const {
  std::vector<bool> visited(size(), false);
  std::vector<int> stack(deps_[step].begin(), deps_[step].end());
  while (!stack.empty()) {
    int v = stack.back();
    stack.pop_back();
    if (v == ancestor) return true;
    if (visited[v]) continue;
    visited[v] = true;
    stack.insert(stack.end(), deps_[v].begin(), deps_[v].end());
  }
  return false;
}

Plan::Plan(const Graph& graph)
    : graph_(graph),
      waiting_for_(graph.size()),
      marks_(graph.size(), Mark::waiting),
      remaining_(graph.size()) {
  for (size_t i = 0; i < graph.size(); ++i) {
    waiting_for_[i] = static_cast<int>(graph.dependencies(static_cast<int>(i)).size());
    if (waiting_for_[i] == 0) {
      marks_[i] = Mark::ready;
      ready_.push_back(static_cast<int>(i));
    }
  }
}

std::optional<int> Plan::take_ready() {
  while (ready_head_ < ready_.size()) {
    int step = ready_[ready_head_++];
    // abandon() may have given up on a step still in the queue.
    if (marks_[step] != Mark::ready) continue;
    marks_[step] = Mark::started;
    return step;
  }
  return std::nullopt;
}

void Plan::mark_ended(int step, bool ok, std::vector<int>* not_run) {
  if (marks_[step] != Mark::started)
    throw std::logic_error("Plan::mark_ended: step " + graph_.id(step) + " was not started");
  marks_[step] = Mark::ended;
  --remaining_;

  if (ok) {
    for (int d : graph_.dependents(step)) {
      if (--waiting_for_[d] == 0 && marks_[d] == Mark::waiting) {
        marks_[d] = Mark::ready;
        ready_.push_back(d);
      }
    }
    return;
  }

  // Everything downstream will never start. A step already marked not_run was
  // reached before, with all of its own dependents, so each edge is walked once
  // over the whole run.
  size_t first = not_run ? not_run->size() : 0;
  std::vector<int> stack(graph_.dependents(step).begin(), graph_.dependents(step).end());
  while (!stack.empty()) {
    int v = stack.back();
    stack.pop_back();
    if (marks_[v] != Mark::waiting) continue;
    marks_[v] = Mark::not_run;
    --remaining_;
    if (not_run) not_run->push_back(v);
    const std::vector<int>& next = graph_.dependents(v);
    stack.insert(stack.end(), next.begin(), next.end());
  }
  if (not_run) std::sort(not_run->begin() + static_cast<std::ptrdiff_t>(first), not_run->end());
}

void Plan::abandon(std::vector<int>* not_run) {
  for (size_t i = 0; i < marks_.size(); ++i) {
    if (marks_[i] != Mark::waiting && marks_[i] != Mark::ready) continue;
    marks_[i] = Mark::not_run;
    --remaining_;
    if (not_run) not_run->push_back(static_cast<int>(i));
  }
  ready_head_ = ready_.size();
}

}  // namespace runbook
