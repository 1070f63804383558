#include "serve/alert_state.hpp"

#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "runbook/duration.hpp"
#include "store/sqlite_db.hpp"
#include "util/files.hpp"

namespace runbook::serve {
namespace {

using store::Database;
using store::Statement;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS deliveries (
  key TEXT PRIMARY KEY,
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS starts (
  run_id TEXT PRIMARY KEY,
  rule TEXT NOT NULL,
  grp TEXT NOT NULL,
  at INTEGER NOT NULL,
  trial INTEGER NOT NULL DEFAULT 0,
  ended INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS starts_by_rule ON starts (rule, at);
CREATE TABLE IF NOT EXISTS breakers (
  rule TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  opened_at INTEGER,
  trial_run TEXT,
  escalated INTEGER NOT NULL DEFAULT 0
);
)sql";

long long to_ms(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

SystemTime from_ms(long long ms) {
  return SystemTime(std::chrono::milliseconds(ms));
}

constexpr auto kHour = std::chrono::hours(1);

// Runs a write to the database. The decisions are taken from memory, so a
// failed write (a full disk) is logged and the server goes on; what it could
// not write is lost at the next restart.
template <class F>
void persist(Database* db, F write) {
  if (db == nullptr) return;
  try {
    write(*db);
  } catch (const std::exception& e) {
    spdlog::error("cannot write the alert state in {}: {}", db->path(), e.what());
  }
}

}  // namespace

AlertState::AlertState() = default;
AlertState::~AlertState() = default;

std::unique_ptr<AlertState> AlertState::open(const std::string& state_dir, bool read_only) {
  auto state = std::make_unique<AlertState>();
  const std::string dir = state_dir + "/server";
  const std::string path = dir + "/alerts.db";
  try {
    if (read_only) {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) return state;
      state->db_ = std::make_unique<Database>(path, Database::Mode::read_only);
    } else {
      std::string error;
      if (!make_directories(dir, &error, 0700)) throw std::runtime_error(error);
      state->db_ = std::make_unique<Database>(path, Database::Mode::read_write_create);
      state->db_->exec("PRAGMA journal_mode=WAL");
      state->db_->exec("PRAGMA synchronous=NORMAL");
      state->db_->exec(kSchema);
    }
    state->load();
  } catch (const store::SqliteError& e) {
    throw std::runtime_error(e.what());
  }
  if (read_only) state->db_.reset();  // never written
  return state;
}

void AlertState::load() {
  const long long oldest = to_ms(std::chrono::system_clock::now() - kDeliveryRetention);
  Statement d = db_->prepare("SELECT key, at FROM deliveries WHERE at >= ? ORDER BY at");
  d.bind(1, oldest);
  while (d.step()) {
    deliveries_.insert(d.text(0));
    delivery_order_.emplace_back(from_ms(d.integer(1)), d.text(0));
  }
  Statement s = db_->prepare("SELECT run_id, rule, grp, at, trial, ended FROM starts ORDER BY at");
  while (s.step()) {
    const std::string run_id = s.text(0), rule = s.text(1), group = s.text(2);
    const SystemTime at = from_ms(s.integer(3));
    Group& g = groups_[{rule, group}];
    g.last_start = at;
    starts_[rule].push_back(at);
    if (s.integer(5) == 0) {
      g.active_run = run_id;
      active_[run_id] = Start{rule, group, s.integer(4) != 0};
    }
  }
  Statement b =
      db_->prepare("SELECT rule, failures, opened_at, trial_run, escalated FROM breakers");
  while (b.step()) {
    Breaker& br = breakers_[b.text(0)];
    br.failures = int(b.integer(1));
    if (auto at = b.maybe_integer(2)) br.opened_at = from_ms(*at);
    br.trial_run = b.text(3);
    br.escalated = b.integer(4) != 0;
  }
}

std::string AlertState::delivery_key(const std::string& rule, const Alert& alert) {
  std::string key = rule;
  for (const std::string* part : {&alert.fingerprint, &alert.delivery, &alert.status}) {
    key += '\x1f';
    key += *part;
  }
  return key;
}

bool AlertState::delivered(const std::string& rule, const Alert& alert) const {
  return deliveries_.count(delivery_key(rule, alert)) != 0;
}

std::string AlertState::active_run(const std::string& rule, const std::string& group) const {
  auto it = groups_.find({rule, group});
  return it == groups_.end() ? std::string() : it->second.active_run;
}

std::optional<SystemTime> AlertState::last_start(const std::string& rule,
                                                 const std::string& group) const {
  auto it = groups_.find({rule, group});
  return it == groups_.end() ? std::nullopt : it->second.last_start;
}

std::vector<SystemTime> AlertState::starts_in_last_hour(const std::string& rule,
                                                        SystemTime now) const {
  std::vector<SystemTime> out;
  auto it = starts_.find(rule);
  if (it == starts_.end()) return out;
  for (SystemTime t : it->second)
    if (t > now - kHour) out.push_back(t);
  return out;
}

AlertState::Breaker AlertState::breaker(const std::string& rule) const {
  auto it = breakers_.find(rule);
  return it == breakers_.end() ? Breaker{} : it->second;
}

std::vector<AlertState::ActiveRun> AlertState::active_runs() const {
  std::vector<ActiveRun> out;
  for (const auto& [id, start] : active_) out.push_back({start.rule, start.group, id});
  return out;
}

void AlertState::record_start(const std::string& rule, const std::string& group, const Alert& alert,
                              const std::string& run_id, SystemTime now, bool trial) {
  const std::string key = delivery_key(rule, alert);
  deliveries_.insert(key);
  delivery_order_.emplace_back(now, key);
  Group& g = groups_[{rule, group}];
  g.active_run = run_id;
  g.last_start = now;
  starts_[rule].push_back(now);
  active_[run_id] = Start{rule, group, trial};
  if (trial) breakers_[rule].trial_run = run_id;
  persist(db_.get(), [&](Database& db) {
    store::Transaction tx(db);
    Statement d = db.prepare("INSERT OR REPLACE INTO deliveries (key, at) VALUES (?, ?)");
    d.bind(1, key).bind(2, to_ms(now)).run();
    Statement s = db.prepare(
        "INSERT OR REPLACE INTO starts (run_id, rule, grp, at, trial, ended) VALUES (?, ?, ?, ?, "
        "?, 0)");
    s.bind(1, run_id).bind(2, rule).bind(3, group).bind(4, to_ms(now)).bind(5, trial ? 1 : 0).run();
    tx.commit();
  });
  if (trial) save_breaker(rule);
  prune(now);
}

AlertState::BreakerChange AlertState::record_end(const std::string& rule, const std::string& run_id,
                                                 bool counts, bool failed, SystemTime now,
                                                 const std::optional<BreakerConfig>& config) {
  auto it = active_.find(run_id);
  if (it == active_.end()) return BreakerChange::none;
  const Start start = it->second;
  active_.erase(it);
  Group& g = groups_[{start.rule, start.group}];
  if (g.active_run == run_id) g.active_run.clear();
  persist(db_.get(), [&](Database& db) {
    Statement s = db.prepare("UPDATE starts SET ended = 1 WHERE run_id = ?");
    s.bind(1, run_id).run();
  });

  BreakerChange change = BreakerChange::none;
  Breaker& b = breakers_[rule];
  const bool trial = b.trial_run == run_id;
  if (trial) b.trial_run.clear();
  if (config && counts) {
    if (!failed) {
      if (b.opened_at) change = BreakerChange::closed;
      b = Breaker{};
    } else if (trial) {
      b.opened_at = now;  // the half-open run failed: open again
      b.escalated = false;
      change = BreakerChange::opened;
    } else if (!b.opened_at && ++b.failures >= config->failures) {
      b.opened_at = now;
      b.escalated = false;
      change = BreakerChange::opened;
    }
  }
  if (config) save_breaker(rule);
  return change;
}

bool AlertState::take_breaker_escalation(const std::string& rule) {
  Breaker& b = breakers_[rule];
  if (b.escalated) return false;
  b.escalated = true;
  save_breaker(rule);
  return true;
}

void AlertState::save_breaker(const std::string& rule) {
  const Breaker& b = breakers_[rule];
  persist(db_.get(), [&](Database& db) {
    Statement s = db.prepare(
        "INSERT OR REPLACE INTO breakers (rule, failures, opened_at, trial_run, escalated) "
        "VALUES (?, ?, ?, ?, ?)");
    std::optional<long long> opened;
    if (b.opened_at) opened = to_ms(*b.opened_at);
    s.bind(1, rule).bind(2, b.failures).bind(3, opened).bind(4, b.trial_run);
    s.bind(5, b.escalated ? 1 : 0).run();
  });
}

// Forgets deliveries past their retention (or beyond the cap) and starts
// older than an hour that no cooldown can still need.
void AlertState::prune(SystemTime now) {
  const SystemTime oldest = now - kDeliveryRetention;
  size_t dropped = 0;
  while (!delivery_order_.empty() &&
         (delivery_order_.front().first < oldest || delivery_order_.size() > kMaxDeliveries)) {
    deliveries_.erase(delivery_order_.front().second);
    delivery_order_.pop_front();
    ++dropped;
  }
  for (auto& [rule, times] : starts_)
    while (!times.empty() && times.front() < now - kHour) times.pop_front();
  if (dropped == 0) return;
  const SystemTime cut = delivery_order_.empty() ? now : delivery_order_.front().first;
  persist(db_.get(), [&](Database& db) {
    Statement d = db.prepare("DELETE FROM deliveries WHERE at < ?");
    d.bind(1, to_ms(cut)).run();
  });
}

std::string alert_group(const AlertRule& rule, const Alert& alert) {
  if (rule.group_by.empty()) return "fingerprint=" + alert.fingerprint;
  std::string group;
  for (const std::string& label : rule.group_by) {
    auto it = alert.labels.find(label);
    if (!group.empty()) group += ',';
    group += label + "=" + (it == alert.labels.end() ? std::string() : it->second);
  }
  return group;
}

AlertDecision decide_alert(const AlertRule& rule, const Alert& alert, const AlertState& state,
                           SystemTime now, bool paused,
                           const std::function<std::string()>& check_params) {
  AlertDecision d;
  d.group = alert_group(rule, alert);
  auto decided = [&](const char* decision, std::string reason) {
    d.decision = decision;
    d.reason = std::move(reason);
    return d;
  };
  if (paused) return decided("paused", "automatic remediation is paused (runbook unpause resumes)");
  if (state.delivered(rule.name, alert))
    return decided("deduplicated",
                   "this alert (same fingerprint and startsAt) already started a run");
  if (std::string problem = check_params ? check_params() : ""; !problem.empty())
    return decided("invalid_params", problem);
  if (std::string run = state.active_run(rule.name, d.group); !run.empty())
    return decided("in_progress", "run " + run + " for " + d.group + " is still going");
  if (rule.cooldown.count() > 0) {
    if (std::optional<SystemTime> last = state.last_start(rule.name, d.group)) {
      const SystemTime until = *last + rule.cooldown;
      if (now < until)
        return decided("cooldown",
                       "a run for " + d.group + " started " +
                           format_duration(std::chrono::ceil<std::chrono::seconds>(now - *last)) +
                           " ago; cooldown " + format_duration(rule.cooldown));
    }
  }
  if (rule.max_runs_per_hour > 0) {
    const size_t count = state.starts_in_last_hour(rule.name, now).size();
    if (count >= size_t(rule.max_runs_per_hour))
      return decided("rate_limited", std::to_string(count) +
                                         " runs in the last hour (max_runs_per_hour " +
                                         std::to_string(rule.max_runs_per_hour) + ")");
  }
  if (rule.breaker) {
    const AlertState::Breaker b = state.breaker(rule.name);
    if (b.opened_at) {
      const SystemTime half_open = *b.opened_at + rule.breaker->open_for;
      if (now < half_open)
        return decided(
            "breaker_open",
            std::to_string(rule.breaker->failures) +
                " runs failed in a row; the breaker lets one run through in " +
                format_duration(std::chrono::ceil<std::chrono::seconds>(half_open - now)));
      if (!b.trial_run.empty())
        return decided("breaker_open",
                       "half-open: run " + b.trial_run + " decides whether the breaker closes");
      d.trial = true;
      return decided("started", "half-open breaker: this run decides whether it closes");
    }
  }
  return decided("started", "");
}

}  // namespace runbook::serve
