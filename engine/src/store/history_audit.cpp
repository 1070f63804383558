// What the history lost of a run's steps, taken back from the audit log.
//
// The history is committed without waiting for the disk (SQLite's
// synchronous=NORMAL): a power cut may lose its last commits. The audit log
// is fsync'd before each step starts, so a step that started is always there.

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <map>
#include <string>

#include "runbook/store.hpp"

namespace runbook {

bool complete_from_audit_log(const std::string& audit_file, RecordedRun& run, std::string* error) {
  struct stat st {};
  if (::stat(audit_file.c_str(), &st) != 0 && errno == ENOENT) return true;
  std::optional<std::vector<AuditEntry>> records =
      tail_audit_log(audit_file, SIZE_MAX, run.id, error);
  if (!records) return false;
  // Each step's last start or end in the audit log, oldest record first.
  std::map<std::string, const AuditEntry*> last;
  std::map<std::string, const AuditEntry*> started;
  for (const AuditEntry& e : *records) {
    if (e.step_id.empty() || e.step_id.find('[') != std::string::npos) continue;  // items
    if (e.event == "step.started") {
      last[e.step_id] = &e;
      started[e.step_id] = &e;
    } else if (e.event == "step.ended") {
      last[e.step_id] = &e;
    }
  }
  int next_order = 1;
  for (const StepRecord& s : run.steps) next_order = std::max(next_order, s.start_order + 1);
  for (const auto& [id, e] : last) {
    StepRecord* step = nullptr;
    for (StepRecord& s : run.steps)
      if (s.id == id) step = &s;
    // Timestamps of one format compare as text: newer in the audit log
    // means the history lost it.
    if (step && e->ts <= std::max(step->started_at, step->ended_at)) continue;
    if (!step) {
      run.steps.push_back(StepRecord{});
      step = &run.steps.back();
      step->id = id;
    }
    if (e->event == "step.started") {
      step->state = "running";
      step->started_at = e->ts;
      step->ended_at.clear();
      step->exit_code.reset();
    } else {
      step->state = e->state;
      step->ended_at = e->ts;
      if (e->exit_code) step->exit_code = int(*e->exit_code);
      if (auto s = started.find(id); s != started.end() && step->started_at.empty())
        step->started_at = s->second->ts;
    }
    if (step->started() && step->start_order == 0) step->start_order = next_order++;
  }
  return true;
}

}  // namespace runbook
