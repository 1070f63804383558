#pragma once

// What the alert rules remember, so that remediation cannot run away: which
// deliveries started a run (dedup), each group's run in progress and last
// start (cooldown), each rule's starts in the last hour (rate limit) and its
// circuit breaker. Kept in memory for the decisions and written through to
// STATE/server/alerts.db (SQLite), so that it survives a restart. Used on the
// server's io_context thread only.

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runbook/events.hpp"
#include "serve/alert_payload.hpp"
#include "serve/server_config.hpp"

namespace runbook::store {
class Database;
}

namespace runbook::serve {

class AlertState {
 public:
  // Deliveries are remembered this long, and at most this many.
  static constexpr auto kDeliveryRetention = std::chrono::hours(24 * 7);
  static constexpr size_t kMaxDeliveries = 100'000;

  struct Breaker {
    int failures = 0;                     // failed runs in a row
    std::optional<SystemTime> opened_at;  // set while open (or half-open)
    std::string trial_run;                // the half-open run going through
    bool escalated = false;               // escalated once for this opening
  };
  struct ActiveRun {
    std::string rule, group, run_id;
  };
  // How a run's end moved the breaker.
  enum class BreakerChange { none, opened, closed };

  // Opens STATE/server/alerts.db, creating it unless `read_only`; a missing
  // database read-only is an empty state. Throws std::runtime_error.
  static std::unique_ptr<AlertState> open(const std::string& state_dir, bool read_only);
  // An empty state that writes nothing (for tests).
  AlertState();
  ~AlertState();
  AlertState(const AlertState&) = delete;
  AlertState& operator=(const AlertState&) = delete;

  // Whether `rule` already started a run for this delivery of the alert.
  bool delivered(const std::string& rule, const Alert& alert) const;
  // The run of `rule` for `group` that is queued or running; "" when none.
  std::string active_run(const std::string& rule, const std::string& group) const;
  std::optional<SystemTime> last_start(const std::string& rule, const std::string& group) const;
  // Starts of `rule` in the hour before `now`, oldest first.
  std::vector<SystemTime> starts_in_last_hour(const std::string& rule, SystemTime now) const;
  Breaker breaker(const std::string& rule) const;
  std::vector<ActiveRun> active_runs() const;

  // A run of `rule` for `group` was queued for `alert`; `trial` when it is
  // the breaker's half-open run.
  void record_start(const std::string& rule, const std::string& group, const Alert& alert,
                    const std::string& run_id, SystemTime now, bool trial);
  // The run ended. `counts` is false for a run that did not start (it then
  // neither fails nor closes the breaker); `failed` says how it ended.
  BreakerChange record_end(const std::string& rule, const std::string& run_id, bool counts,
                           bool failed, SystemTime now, const std::optional<BreakerConfig>& config);
  // True once per opening of the rule's breaker: the first alert it
  // suppresses escalates, the next ones do not.
  bool take_breaker_escalation(const std::string& rule);

 private:
  struct Group {
    std::string active_run;
    std::optional<SystemTime> last_start;
  };
  struct Start {
    std::string rule, group;
    bool trial = false;
  };
  static std::string delivery_key(const std::string& rule, const Alert& alert);
  void load();
  void save_breaker(const std::string& rule);
  void prune(SystemTime now);

  std::unique_ptr<store::Database> db_;  // null: memory only
  std::map<std::pair<std::string, std::string>, Group> groups_;
  std::map<std::string, std::deque<SystemTime>> starts_;  // by rule, oldest first
  std::map<std::string, Breaker> breakers_;
  std::map<std::string, Start> active_;  // by run id
  std::set<std::string> deliveries_;
  std::deque<std::pair<SystemTime, std::string>> delivery_order_;  // oldest first
};

// The key of the group an alert belongs to under `rule`: "instance=db1,
// mountpoint=/" for group_by labels, else "fingerprint=FP".
std::string alert_group(const AlertRule& rule, const Alert& alert);

// What a rule does with one alert, and why.
struct AlertDecision {
  // started, deduplicated, in_progress, cooldown, rate_limited,
  // breaker_open, paused, invalid_params (no_match has no rule).
  std::string decision;
  std::string reason;  // for people
  std::string group;
  bool trial = false;  // started as the breaker's half-open run
};

// The decision for `alert` under `rule` (which matched it), in the order of
// docs/alerts.md. `check_params` is asked only when the earlier checks pass;
// it returns "" or what is wrong with the rendered params.
AlertDecision decide_alert(const AlertRule& rule, const Alert& alert, const AlertState& state,
                           SystemTime now, bool paused,
                           const std::function<std::string()>& check_params);

}  // namespace runbook::serve
