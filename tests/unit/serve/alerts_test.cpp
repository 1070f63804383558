// Alerts in the trigger server, the pure parts: reading webhook payloads and
// the rules' decisions with their safety rails, on a state kept in memory or
// in a real SQLite file that is reopened as a restarted server would.

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>

#include "serve/alert_payload.hpp"
#include "serve/alert_state.hpp"

using namespace runbook;
using namespace runbook::serve;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kTwoAlerts = R"({
  "version": "4", "status": "firing", "receiver": "runbook", "groupKey": "{}:{alertname=\"DiskFull\"}",
  "truncatedAlerts": 3, "groupLabels": {"alertname": "DiskFull"}, "commonLabels": {},
  "commonAnnotations": {}, "externalURL": "http://alertmanager:9093", "extra": [1, 2],
  "alerts": [
    {"status": "firing", "labels": {"alertname": "DiskFull", "instance": "db1"},
     "annotations": {"summary": "disk full"}, "startsAt": "2026-11-21T10:00:00Z",
     "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus/graph",
     "fingerprint": "f00d"},
    {"status": "resolved", "labels": {"instance": "db2", "alertname": "DiskFull"},
     "startsAt": "2026-11-21T09:00:00Z", "endsAt": "2026-11-21T09:30:00Z"}
  ]})";

Alert firing(const std::string& instance, const std::string& starts_at = "t1") {
  Alert a;
  a.status = "firing";
  a.labels = {{"alertname", "DiskFull"}, {"instance", instance}};
  a.fingerprint = label_fingerprint(a.labels);
  a.starts_at = a.delivery = starts_at;
  return a;
}

AlertRule rule_for_instances() {
  AlertRule r;
  r.name = "disk";
  r.group_by = {"instance"};
  return r;
}

AlertDecision decide(const AlertRule& rule, const Alert& alert, const AlertState& state,
                     SystemTime now, bool paused = false) {
  return decide_alert(rule, alert, state, now, paused, [] { return std::string(); });
}

const SystemTime kNow = SystemTime(std::chrono::hours(24 * 365 * 56));

}  // namespace

TEST_CASE("an Alertmanager v4 payload is read alert by alert, unknown fields ignored") {
  Expected<AlertPayload, std::string> p =
      parse_alert_payload(kTwoAlerts, AlertSource::alertmanager);
  REQUIRE(p);
  CHECK(p.value().receiver == "alertmanager");
  CHECK(p.value().truncated == 3);
  REQUIRE(p.value().alerts.size() == 2);
  const Alert& a = p.value().alerts[0];
  CHECK(a.status == "firing");
  CHECK(a.labels.at("instance") == "db1");
  CHECK(a.annotations.at("summary") == "disk full");
  CHECK(a.fingerprint == "f00d");
  CHECK(a.delivery == "2026-11-21T10:00:00Z");
  CHECK(a.generator_url == "http://prometheus/graph");
  const Alert& b = p.value().alerts[1];
  CHECK(b.status == "resolved");
  // No fingerprint sent: one from the labels, whatever their order.
  CHECK(b.fingerprint == label_fingerprint({{"alertname", "DiskFull"}, {"instance", "db2"}}));
  CHECK(b.fingerprint.size() == 16);
}

TEST_CASE("a webhook payload of the wrong shape is refused with what is wrong and where") {
  auto error = [](std::string_view body, AlertSource source = AlertSource::alertmanager) {
    Expected<AlertPayload, std::string> p = parse_alert_payload(body, source);
    return p ? std::string("accepted") : p.error();
  };
  CHECK(error("{not json").starts_with("the body is not JSON: "));
  CHECK(error("[]") == "the body must be a JSON object");
  CHECK(error(R"({"version": "3", "alerts": []})") ==
        "unsupported payload version \"3\" (this receiver takes version \"4\")");
  CHECK(error(R"({"version": "4"})") == "the body has no 'alerts' list");
  CHECK(error(R"({"alerts": {}})") == "'alerts' must be a list");
  CHECK(error(R"({"alerts": [1]})") == "alerts[0] must be an object");
  CHECK(error(R"({"alerts": [{"status": "firing", "labels": {"a": 1}}]})") ==
        "alerts[0].labels must be an object of strings");
  CHECK(
      error(R"({"alerts": [{"status": "firing", "labels": {}}, {"status": "x", "labels": {}}]})") ==
      "alerts[1].status must be \"firing\" or \"resolved\"");
  CHECK(
      error(R"({"ruleName": "cpu", "state": "alerting", "evalMatches": []})", AlertSource::grafana)
          .starts_with("legacy Grafana alerting payloads are not supported"));
  CHECK(error(R"({"version": "1", "orgId": 1, "alerts": []})", AlertSource::grafana) == "accepted");
}

TEST_CASE("a signed hook's body becomes one alert whose labels are its scalar members") {
  Expected<AlertPayload, std::string> p = parse_hook_payload(
      "deploy", R"({"service": "web", "replicas": 3, "canary": true, "hook": "x", "nested": {}})",
      "1700000000");
  REQUIRE(p);
  REQUIRE(p.value().alerts.size() == 1);
  const Alert& a = p.value().alerts[0];
  CHECK(a.status == "firing");
  CHECK(a.labels ==
        LabelMap{{"service", "web"}, {"replicas", "3"}, {"canary", "true"}, {"hook", "deploy"}});
  // The same delivery again is the same alert; another timestamp is not.
  CHECK(parse_hook_payload(
            "deploy",
            R"({"service": "web", "replicas": 3, "canary": true, "hook": "x", "nested": {}})",
            "1700000000")
            .value()
            .alerts[0]
            .delivery == a.delivery);
  CHECK(parse_hook_payload("deploy", R"({"service": "web"})", "1700000001")
            .value()
            .alerts[0]
            .delivery != parse_hook_payload("deploy", R"({"service": "web"})", "1700000000")
                             .value()
                             .alerts[0]
                             .delivery);
  CHECK(parse_hook_payload("h", R"({"status": "resolved"})", "").value().alerts[0].status ==
        "resolved");
  CHECK_FALSE(parse_hook_payload("h", "[1]", ""));
}

TEST_CASE("an alert rule's decisions follow the documented order of its safety rails") {
  AlertState state;
  AlertRule rule = rule_for_instances();
  rule.cooldown = 10min;
  const Alert a = firing("db1");
  CHECK(decide(rule, a, state, kNow, true).decision == "paused");
  AlertDecision first = decide(rule, a, state, kNow);
  CHECK(first.decision == "started");
  CHECK(first.group == "instance=db1");
  state.record_start(rule.name, first.group, a, "run-1", kNow, false);

  CHECK(decide(rule, a, state, kNow).decision == "deduplicated");
  CHECK(decide(rule, a, state, kNow, true).decision == "paused");
  // Another delivery (new startsAt) of the same group while its run goes on.
  CHECK(decide(rule, firing("db1", "t2"), state, kNow).decision == "in_progress");
  CHECK(decide_alert(rule, firing("db1", "t2"), state, kNow, false, [] {
          return std::string("bad host");
        }).decision == "invalid_params");
  state.record_end(rule.name, "run-1", true, false, kNow + 1min, std::nullopt);
  AlertDecision cooling = decide(rule, firing("db1", "t2"), state, kNow + 2min);
  CHECK(cooling.decision == "cooldown");
  CHECK(cooling.reason == "a run for instance=db1 started 2m ago; cooldown 10m");
  CHECK(decide(rule, firing("db1", "t2"), state, kNow + 10min).decision == "started");
  // The repeat of a delivery that started a run stays deduplicated.
  CHECK(decide(rule, a, state, kNow + 1h).decision == "deduplicated");
  CHECK(decide(rule, firing("db2"), state, kNow + 2min).decision == "started");
}

TEST_CASE("max_runs_per_hour limits a rule's starts over a sliding hour") {
  AlertState state;
  AlertRule rule = rule_for_instances();
  rule.max_runs_per_hour = 2;
  for (int i = 0; i < 2; ++i) {
    const Alert a = firing("h" + std::to_string(i));
    REQUIRE(decide(rule, a, state, kNow + i * 1min).decision == "started");
    state.record_start(rule.name, "instance=h" + std::to_string(i), a, "r" + std::to_string(i),
                       kNow + i * 1min, false);
    state.record_end(rule.name, "r" + std::to_string(i), true, false, kNow + i * 1min,
                     std::nullopt);
  }
  CHECK(decide(rule, firing("h2"), state, kNow + 30min).decision == "rate_limited");
  CHECK(decide(rule, firing("h2"), state, kNow + 61min).decision == "started");
}

TEST_CASE(
    "the breaker opens after failures in a row, lets one run through, and closes on success") {
  AlertState state;
  AlertRule rule = rule_for_instances();
  rule.breaker = BreakerConfig{2, 1h};
  auto run = [&](const std::string& host, SystemTime at, bool fail) {
    const Alert a = firing(host, "t" + std::to_string(at.time_since_epoch().count()));
    AlertDecision d = decide(rule, a, state, at);
    if (d.decision != "started") return std::pair(d, AlertState::BreakerChange::none);
    const std::string id = "run-" + host + std::to_string(at.time_since_epoch().count());
    state.record_start(rule.name, d.group, a, id, at, d.trial);
    return std::pair(d, state.record_end(rule.name, id, true, fail, at + 1s, rule.breaker));
  };
  CHECK(run("a", kNow, true).second == AlertState::BreakerChange::none);
  CHECK(run("b", kNow + 1min, false).second == AlertState::BreakerChange::none);  // resets
  CHECK(run("c", kNow + 2min, true).second == AlertState::BreakerChange::none);
  CHECK(run("d", kNow + 3min, true).second == AlertState::BreakerChange::opened);
  CHECK(state.take_breaker_escalation(rule.name));
  CHECK_FALSE(state.take_breaker_escalation(rule.name));  // once per opening
  CHECK(run("e", kNow + 30min, false).first.decision == "breaker_open");

  // Half-open after open_for: one run goes through, others wait for it.
  const Alert trial_alert = firing("f");
  AlertDecision trial = decide(rule, trial_alert, state, kNow + 64min);
  REQUIRE(trial.decision == "started");
  CHECK(trial.trial);
  state.record_start(rule.name, trial.group, trial_alert, "trial-1", kNow + 64min, true);
  CHECK(decide(rule, firing("g"), state, kNow + 64min).decision == "breaker_open");
  // It fails: open again for open_for, and escalation may happen again.
  CHECK(state.record_end(rule.name, "trial-1", true, true, kNow + 65min, rule.breaker) ==
        AlertState::BreakerChange::opened);
  CHECK(state.take_breaker_escalation(rule.name));
  CHECK(decide(rule, firing("g"), state, kNow + 100min).decision == "breaker_open");
  // The next trial succeeds: closed, counting from zero.
  std::pair closing = run("h", kNow + 126min, false);
  CHECK(closing.first.trial);
  CHECK(closing.second == AlertState::BreakerChange::closed);
  CHECK(state.breaker(rule.name).failures == 0);
  CHECK(run("i", kNow + 127min, true).first.decision == "started");
}

TEST_CASE("a run that never started neither fails nor closes the breaker") {
  AlertState state;
  AlertRule rule = rule_for_instances();
  rule.breaker = BreakerConfig{1, 1h};
  const Alert a = firing("a");
  state.record_start(rule.name, "instance=a", a, "r1", kNow, false);
  CHECK(state.record_end(rule.name, "r1", false, true, kNow, rule.breaker) ==
        AlertState::BreakerChange::none);
  CHECK(state.active_run(rule.name, "instance=a").empty());
  CHECK_FALSE(state.breaker(rule.name).opened_at);
}

TEST_CASE("the alert state survives reopening its database, as after a server restart") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("runbook-alert-state-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  AlertRule rule = rule_for_instances();
  rule.cooldown = 1h;
  rule.breaker = BreakerConfig{1, 1h};
  const SystemTime now = std::chrono::system_clock::now();
  {
    std::unique_ptr<AlertState> state = AlertState::open(dir.string(), false);
    state->record_start(rule.name, "instance=a", firing("a"), "r1", now, false);
    state->record_end(rule.name, "r1", true, true, now, rule.breaker);          // opens the breaker
    state->record_start("other", "instance=b", firing("b"), "r2", now, false);  // still going
  }
  {
    std::unique_ptr<AlertState> state = AlertState::open(dir.string(), true);
    CHECK(state->delivered(rule.name, firing("a")));
    CHECK(state->last_start(rule.name, "instance=a") > now - 1s);
    CHECK(state->breaker(rule.name).opened_at);
    CHECK(state->active_run("other", "instance=b") == "r2");
    REQUIRE(state->active_runs().size() == 1);
    CHECK(decide(rule, firing("a"), *state, now).decision == "deduplicated");
    CHECK(decide(rule, firing("c"), *state, now).decision == "breaker_open");
  }
  CHECK(AlertState::open((dir / "none").string(), true)->active_runs().empty());
  CHECK_FALSE(std::filesystem::exists(dir / "none"));
  std::filesystem::remove_all(dir);
}
