#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace runbook::exec {

// The environment variable that marks every process of one attempt, so that
// descendants which left the attempt's process group can still be found.
inline constexpr std::string_view kProcessTagVariable = "RUNBOOK_PROCESS_TAG";

// True while any process is in process group `pgid`.
bool process_group_alive(pid_t pgid);

// The engine's own children that could be a step's: those of the calling
// thread (which spawns steps) and of the main thread (which adopts orphans,
// the engine being their subreaper). Other threads start no steps.
std::vector<pid_t> engine_children();

// Whether process `pid` carries RUNBOOK_PROCESS_TAG=`tag` in its environment;
// unknown when its environment cannot be read (a zombie, a process in the
// middle of exec, or one that cleared its environment).
enum class TagMatch { yes, no, unknown };
TagMatch process_tag(pid_t pid, std::string_view tag);
inline bool process_has_tag(pid_t pid, std::string_view tag) {
  return process_tag(pid, tag) == TagMatch::yes;
}

// Every process whose tag starts with `prefix` ("RUN_ID/": all of a run's).
std::vector<pid_t> find_processes_with_tag_prefix(std::string_view prefix);

// Every process on the machine carrying the tag (a /proc scan: the slow path,
// used only when stopping a step).
std::vector<pid_t> find_tagged_processes(std::string_view tag);

// What is left of one attempt: its process group, and tagged processes that
// left it. Without `full_scan` only the engine's adopted children are looked
// at (cheap: a step that ends cleanly pays for this on every attempt); the
// processes the engine started itself and has not reaped (`started`, sorted)
// are the main processes of other attempts, and are passed over.
struct Stragglers {
  bool group_alive = false;
  std::vector<pid_t> tagged;
  // Adopted children whose environment could not be read: they may be ours,
  // caught mid-exec. Not signalled; the sweep looks again a little later.
  size_t uncertain = 0;
  bool empty() const { return !group_alive && tagged.empty(); }
};
Stragglers find_stragglers(pid_t pgid, std::string_view tag, bool full_scan,
                           const std::vector<pid_t>& started = {});

// Sends `sig` to a tagged process and, when it leads a group of its own, to
// that group.
void signal_straggler(pid_t pid, pid_t attempt_pgid, int sig);

}  // namespace runbook::exec
