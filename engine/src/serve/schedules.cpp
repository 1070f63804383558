// The server's schedules: one system_timer for the earliest fire time, the
// overlap rules, and catch-up after downtime. The last fire time of each
// schedule is kept in STATE/server/schedules (one "NAME UNIX-SECONDS" line
// each) so that `catch_up: latest` can tell a fire was missed.

#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "runbook/executor.hpp"
#include "serve/server.hpp"
#include "util/files.hpp"

namespace runbook::serve {
namespace {

using std::chrono::sys_seconds;

// The timer wakes at least this often, so that a wall-clock jump (NTP,
// suspend) is noticed within this long.
constexpr auto kMaxSleep = std::chrono::seconds(30);

std::string last_fires_path(const std::string& state_dir) {
  return state_dir + "/server/schedules";
}

std::map<std::string, sys_seconds> read_last_fires(const std::string& state_dir) {
  std::map<std::string, sys_seconds> out;
  std::ifstream in(last_fires_path(state_dir));
  std::string name;
  long long seconds = 0;
  while (in >> name >> seconds) out[name] = sys_seconds(std::chrono::seconds(seconds));
  return out;
}

}  // namespace

void Server::start_schedules(bool at_start) {
  if (at_start) last_fires_ = read_last_fires(state_dir_);
  const auto now = std::chrono::system_clock::now();
  const sys_seconds now_s = std::chrono::floor<std::chrono::seconds>(now);
  std::map<std::string, ScheduleState> states;
  for (const ScheduleConfig& s : config().schedules) {
    ScheduleState state;
    if (auto old = schedules_.find(s.name); old != schedules_.end())
      state = std::move(old->second);  // a reload keeps its run and waiting fire
    if (auto next = next_fire(s.cron, s.zone, now)) state.next = *next;
    states[s.name] = std::move(state);
  }
  for (auto& [name, old] : schedules_) {
    if (states.count(name) || !old.pending) continue;
    RunRequest& r = *old.pending;
    record_not_started(state_dir_, r, RunState::cancelled, "its schedule was removed");
  }
  schedules_ = std::move(states);

  if (at_start) {
    for (const ScheduleConfig& s : config().schedules) {
      auto last = last_fires_.find(s.name);
      if (last == last_fires_.end()) {
        last_fires_[s.name] = now_s;  // from now on, a missed fire can be told
        continue;
      }
      std::optional<sys_seconds> missed = next_fire(s.cron, s.zone, last->second);
      if (!missed || *missed > now_s) continue;
      if (s.catch_up == CatchUp::latest) {
        spdlog::info("schedule {}: catching up on a fire missed while the server was down", s.name);
        fire(s, now_s, true);
      } else {
        spdlog::info("schedule {}: fire times missed while the server was down (catch_up: none)",
                     s.name);
        last_fires_[s.name] = now_s;
      }
    }
    save_last_fires();
  } else {
    // A schedule new in a reloaded config: a fire it misses from now on,
    // while the server is down, can be told. A removed one is forgotten, so
    // that adding it back later does not catch up on the time between.
    bool changed = false;
    for (auto it = last_fires_.begin(); it != last_fires_.end();) {
      const bool kept = config().find_schedule(it->first) != nullptr;
      it = kept ? std::next(it) : last_fires_.erase(it);
      changed = changed || !kept;
    }
    for (const ScheduleConfig& s : config().schedules)
      changed = last_fires_.try_emplace(s.name, now_s).second || changed;
    if (changed) save_last_fires();
  }
  arm_schedule_timer();
}

void Server::arm_schedule_timer() {
  schedule_timer_.cancel();
  if (draining_ || schedules_.empty()) return;
  auto wake = std::chrono::system_clock::now() + kMaxSleep;
  for (const auto& [name, s] : schedules_)
    if (s.next.time_since_epoch().count() > 0 && s.next < wake) wake = s.next;
  schedule_timer_.expires_at(wake);
  schedule_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_schedule_timer();
  });
}

void Server::on_schedule_timer() {
  if (draining_) return;
  const auto now = std::chrono::system_clock::now();
  bool fired = false;
  for (const ScheduleConfig& s : config().schedules) {
    ScheduleState& state = schedules_[s.name];
    if (state.next.time_since_epoch().count() == 0 || state.next > now) continue;
    // However late the timer is (a suspended machine), a schedule fires once.
    const sys_seconds at = state.next;
    if (auto next = next_fire(s.cron, s.zone, now)) state.next = *next;
    fire(s, at, false);
    fired = true;
  }
  if (fired) save_last_fires();
  arm_schedule_timer();
}

RunRequest Server::schedule_request(const ScheduleConfig& s, std::string* error) {
  RunRequest r;
  set_run(r, *s.runbook, s.runbook_path, "cron", s.auto_approve);
  r.schedule = s.name;
  Diagnostics diags;
  prepare_params(*s.runbook, s.params, r, diags);
  if (!diags.empty()) {
    *error = "its params no longer check: " + diags.format();
    while (!error->empty() && error->back() == '\n') error->pop_back();
    r.params_json_masked = "{}";
    return r;  // recorded as not started with the reason
  }
  return r;
}

void Server::fire(const ScheduleConfig& s, sys_seconds at, bool catch_up) {
  ScheduleState& state = schedules_[s.name];
  last_fires_[s.name] = at;
  std::string error;
  RunRequest request = schedule_request(s, &error);
  auto not_started = [&](RunState st, const std::string& reason, const char* outcome) {
    spdlog::info("schedule {}: {}", s.name, reason);
    record_not_started(state_dir_, request, st, reason);
    metrics_.schedule_fired(s.name, outcome);
    metrics_.run_ended(request.runbook_name, st);
  };
  if (!error.empty()) return not_started(RunState::failed, error, "failed");
  const std::string when = s.zone.format(at) + (catch_up ? " (catch-up)" : "");
  if (std::optional<std::string> paused = remediation_paused(state_dir_))
    return not_started(RunState::skipped,
                       "fire at " + when + " skipped: automatic remediation is " + *paused,
                       "paused");
  if (!state.active.empty()) {
    if (s.overlap == Overlap::skip)
      return not_started(RunState::skipped,
                         "fire at " + when + " skipped: run " + state.active + " is still going",
                         "skipped");
    if (state.pending)
      return not_started(RunState::skipped,
                         "fire at " + when + " skipped: run " + state.pending->run_id +
                             " already waits for run " + state.active,
                         "skipped");
    if (s.overlap == Overlap::replace) {
      spdlog::info("schedule {}: fire at {} replaces run {}", s.name, when, state.active);
      metrics_.schedule_fired(s.name, "replaced");
      const std::string replaced = state.active;
      const std::string reason = "replaced by run " + request.run_id + " of schedule " + s.name;
      // Waiting before the cancel: a run still queued ends within cancel(),
      // and its end submits the one waiting.
      state.pending = std::move(request);
      queue_->cancel(replaced, reason);
    } else {
      spdlog::info("schedule {}: fire at {} waits for run {}", s.name, when, state.active);
      metrics_.schedule_fired(s.name, "queued");
      state.pending = std::move(request);
    }
    return;
  }
  if (queue_->full())
    return not_started(RunState::skipped, "fire at " + when + " skipped: the run queue is full",
                       "skipped");
  spdlog::info("schedule {}: fire at {}: run {}", s.name, when, request.run_id);
  state.active = request.run_id;
  metrics_.schedule_fired(s.name, "started");
  submit(std::move(request));
}

void Server::schedule_run_ended(const RunRequest& request) {
  auto it = schedules_.find(request.schedule);
  if (it == schedules_.end() || it->second.active != request.run_id) return;
  ScheduleState& state = it->second;
  state.active.clear();
  if (!state.pending || draining_) return;
  RunRequest next = std::move(*state.pending);
  state.pending.reset();
  state.active = next.run_id;
  if (!submit(next)) {
    state.active.clear();
    record_not_started(state_dir_, next, RunState::skipped, "the run queue is full");
    metrics_.run_ended(next.runbook_name, RunState::skipped);
  }
}

void Server::drop_pending(const std::string& reason) {
  for (auto& [name, state] : schedules_) {
    if (!state.pending) continue;
    RunRequest& r = *state.pending;
    record_not_started(state_dir_, r, RunState::cancelled, reason);
    metrics_.run_ended(r.runbook_name, RunState::cancelled);
    state.pending.reset();
  }
}

void Server::save_last_fires() {
  std::ostringstream text;
  for (const auto& [name, t] : last_fires_)
    text << name << " " << t.time_since_epoch().count() << "\n";
  const std::string path = last_fires_path(state_dir_);
  const std::string tmp = path + ".tmp";
  std::string error;
  if (!make_directories(state_dir_ + "/server", &error, 0700)) {
    spdlog::warn("cannot keep the schedules' last fire times: {}", error);
    return;
  }
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text.str();
    if (!out.flush()) {
      spdlog::warn("cannot write {}", tmp);
      return;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) spdlog::warn("cannot replace {}", path);
}

}  // namespace runbook::serve
