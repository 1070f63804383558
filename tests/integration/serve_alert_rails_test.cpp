// The safety rails of `runbook serve`'s alert rules on a real server: a run
// in progress for the group, cooldown, max_runs_per_hour, the circuit
// breaker with escalation and half-open, the kill switch, a full run queue,
// an alert storm, the state that survives a restart, and signed hooks,
// which take nothing without an HMAC signature of the body.
//
// Timing: the tests wait for what must happen (bounded) and check decisions
// and counts, never how long something took. A run the server has seen end
// is found by asking until its group is no longer in_progress.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

// Defined in serve_alerts_test.cpp (see there).
namespace runbook_test::alert_support {
using Labels = std::map<std::string, std::string>;
std::string am_alert(const Labels& labels, const std::string& starts_at,
                     const std::string& status = "firing", const std::string& fingerprint = "");
std::string am_payload(const std::vector<std::string>& alerts);
std::string starts_at(int n);
std::string alert_rule(const std::string& name, const std::string& match,
                       const std::string& runbook, const std::string& more = "");
std::string alerts_config(const TempDir& dir, const std::string& rules,
                          const std::string& extra = "");
HttpAnswer post_alerts(const ServeProcess& server, const std::string& payload,
                       const std::string& receiver = "alertmanager");
std::vector<std::string> decisions_of(const HttpAnswer& answer);
std::string write_echo_runbook(const TempDir& dir);
std::string run_end(const ServeProcess& server, const std::string& id);
int alert_runs(const ServeProcess& server);
}  // namespace runbook_test::alert_support

using namespace runbook_test::alert_support;

namespace {

// DIR/gate.yaml: a run that holds until DIR/release exists (a minute at
// most), then succeeds.
void write_gate_runbook(const TempDir& dir) {
  dir.write("gate.yaml",
            "version: 1\nname: gate\nsteps:\n  - id: wait\n    run: |\n"
            "      for i in $(seq 600); do [ -e " +
                (dir / "release") + " ] && exit 0; sleep 0.1; done; exit 1\n");
}

void release_gate(const TempDir& dir) {
  dir.write("release", "");
}

// One alert of `labels` with startsAt n.
std::string one_alert(const Labels& labels, int n) {
  return am_payload({am_alert(labels, starts_at(n))});
}

// The decision of a payload of one alert, failing the test unless answered 202.
std::string decide(const ServeProcess& server, const std::string& payload) {
  HttpAnswer a = post_alerts(server, payload);
  INFO(payload << " -> " << a.status << " " << a.body);
  CHECK(a.status == 202);
  const std::vector<std::string> d = decisions_of(a);
  return d.size() == 1 ? d[0] : "";
}

// The run id of a payload of one alert that must start one.
std::string start_alert_run(const ServeProcess& server, const std::string& payload) {
  HttpAnswer a = post_alerts(server, payload);
  INFO(payload << " -> " << a.status << " " << a.body);
  REQUIRE(a.status == 202);
  REQUIRE(decisions_of(a) == std::vector<std::string>{"started"});
  return json_string(a.body, "alerts.0.run_id");
}

// Posts alerts of `labels` with new startsAt values (from `next` on) until
// one is decided otherwise than in_progress, as it is once the server saw
// the group's run end; that decision.
std::string decision_once_ended(const ServeProcess& server, const Labels& labels, int& next) {
  std::string decision;
  eventually(
      [&] {
        decision = decide(server, one_alert(labels, next++));
        return decision != "in_progress";
      },
      60s);
  return decision;
}

// The server's resident memory in KiB, from /proc.
long resident_kib(pid_t pid) {
  const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  const size_t at = status.find("VmRSS:");
  return at == std::string::npos ? -1 : std::atol(status.c_str() + at + 6);
}

const Labels kDb1 = {{"alertname", "Work"}, {"instance", "db1"}};
const Labels kDb2 = {{"alertname", "Work"}, {"instance", "db2"}};

// A rule `work` of `runbook` for Work alerts grouped by instance, with `more`.
std::string work_rule(const std::string& runbook, const std::string& more = "") {
  return alert_rule("work", "{alertname: Work}", runbook, "    group_by: [instance]\n" + more);
}

using Headers = std::vector<std::pair<std::string, std::string>>;

std::string hmac_sha256_hex(const std::string& key, const std::string& message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  static const char* const hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xf];
  }
  return out;
}

// X-Signature-256 of `body` under `secret`; with `timestamp`, also
// X-Timestamp and the signature over "TIMESTAMP.BODY".
Headers signed_by(const std::string& secret, const std::string& body,
                  const std::string& timestamp = "") {
  Headers h{{"Content-Type", "application/json"}};
  const std::string message = timestamp.empty() ? body : timestamp + "." + body;
  h.emplace_back("X-Signature-256", "sha256=" + hmac_sha256_hex(secret, message));
  if (!timestamp.empty()) h.emplace_back("X-Timestamp", timestamp);
  return h;
}

std::string unix_seconds_from_now(std::chrono::seconds offset) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                            (std::chrono::system_clock::now() + offset).time_since_epoch())
                            .count());
}

// DIR/hmac holding `secret`, mode 0600.
std::string write_hmac_secret(const TempDir& dir, const std::string& secret) {
  const std::string path = dir.write("hmac", secret + "\n");
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path;
}

}  // namespace

TEST_CASE("an alert whose group has a run still going answers in_progress" *
          doctest::timeout(120)) {
  TempDir dir;
  write_gate_runbook(dir);
  ServeProcess server(dir, alerts_config(dir, work_rule("gate.yaml")));
  INFO(server.log());
  const std::string id = start_alert_run(server, one_alert(kDb1, 0));
  CHECK(server.wait_for_state(id, {"running"}) == "running");
  // Another alert of the group (a new startsAt, other labels too) while it runs.
  HttpAnswer a = post_alerts(
      server, one_alert({{"alertname", "Work"}, {"instance", "db1"}, {"severity", "page"}}, 1));
  INFO(a.body);
  CHECK(decisions_of(a) == std::vector<std::string>{"in_progress"});
  CHECK(json_string(a.body, "alerts.0.reason").find(id) != std::string::npos);
  CHECK(decide(server, one_alert(kDb2, 0)) == "started");

  release_gate(dir);
  CHECK(run_end(server, id) == "succeeded");
  // Without a cooldown the group takes a new alert once its run ended.
  int next = 2;
  CHECK(decision_once_ended(server, kDb1, next) == "started");
  CHECK(eventually([&] { return alert_runs(server) == 3; }, 30s));
}

TEST_CASE("an alert of a group whose run ended within the cooldown answers cooldown" *
          doctest::timeout(120)) {
  TempDir dir;
  write_echo_runbook(dir);
  ServeProcess server(dir, alerts_config(dir, work_rule("echo.yaml", "    cooldown: 1h\n")));
  INFO(server.log());
  const std::string id = start_alert_run(server, one_alert(kDb1, 0));
  CHECK(run_end(server, id) == "succeeded");
  int next = 1;
  CHECK(decision_once_ended(server, kDb1, next) == "cooldown");
  // The cooldown is the group's: another instance starts.
  CHECK(decide(server, one_alert(kDb2, 0)) == "started");
  CHECK(eventually([&] { return alert_runs(server) == 2; }, 30s));
}

TEST_CASE("an alert rule with max_runs_per_hour answers rate_limited past its runs" *
          doctest::timeout(120)) {
  TempDir dir;
  write_echo_runbook(dir);
  ServeProcess server(dir,
                      alerts_config(dir, work_rule("echo.yaml", "    max_runs_per_hour: 2\n")));
  INFO(server.log());
  auto instance = [](const std::string& name) {
    return Labels{{"alertname", "Work"}, {"instance", name}};
  };
  HttpAnswer a = post_alerts(server, am_payload({am_alert(instance("a"), starts_at(0)),
                                                 am_alert(instance("b"), starts_at(0)),
                                                 am_alert(instance("c"), starts_at(0))}));
  INFO(a.body);
  CHECK(decisions_of(a) == std::vector<std::string>{"started", "started", "rate_limited"});
  CHECK_FALSE(json_string(a.body, "alerts.2.reason").empty());
  // Also once those runs ended: the hour counts starts.
  CHECK(eventually([&] { return count_runs(server.runs(), {{"state", "succeeded"}}) == 2; }, 30s));
  CHECK(decide(server, one_alert(instance("d"), 0)) == "rate_limited");
  CHECK(alert_runs(server) == 2);
}

TEST_CASE(
    "an alert rule's breaker opens after failed runs, escalates, and lets one run through "
    "after open_for" *
    doctest::timeout(120)) {
  TempDir dir;
  // Fails until DIR/healthy exists; then holds until DIR/release exists.
  dir.write("flaky.yaml",
            "version: 1\nname: flaky\nsteps:\n  - id: a\n    run: |\n"
            "      test -e " +
                (dir / "healthy") + " || exit 1\n" + "      for i in $(seq 600); do [ -e " +
                (dir / "release") + " ] && exit 0; sleep 0.1; done; exit 1\n");
  const std::string escalated = dir / "escalated";
  const auto open_for = 4s;
  ServeProcess server(
      dir, alerts_config(dir, work_rule("flaky.yaml",
                                        "    breaker: {failures: 2, open_for: 4s}\n"
                                        "    escalate:\n      exec: [sh, -c, 'echo "
                                        "\"$RUNBOOK_ESCALATE_REASON $RUNBOOK_RULE\" >> " +
                                            escalated + "']\n")));
  INFO(server.log());
  const std::map<std::string, std::string> rule{{"rule", "work"}};
  int n = 0;
  auto instance = [&] {
    return Labels{{"alertname", "Work"}, {"instance", "i" + std::to_string(n++)}};
  };

  for (int failure = 0; failure < 2; ++failure)
    CHECK(run_end(server, start_alert_run(server, one_alert(instance(), 0))) == "failed");
  CHECK(
      eventually([&] { return server.metrics().value("runbook_breaker_state", rule) == 1; }, 30s));
  const auto opened_by = std::chrono::steady_clock::now();
  CHECK(decide(server, one_alert(instance(), 0)) == "breaker_open");
  CHECK(decide(server, one_alert(instance(), 0)) == "breaker_open");
  REQUIRE_MESSAGE(std::chrono::steady_clock::now() - opened_by < open_for,
                  "the test ran past open_for before it could see the breaker open");

  // Two failed runs and one suppressed alert: three escalations, with the
  // suppression escalated once per open period.
  const std::map<std::string, std::string> escalations_ok{{"rule", "work"}, {"result", "ok"}};
  CHECK(eventually(
      [&] { return server.metrics().value("runbook_escalations_total", escalations_ok) == 3; },
      30s));
  const std::string lines = read_file(escalated);
  INFO(lines);
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 3);
  CHECK(lines.find("run_failed work\n") != std::string::npos);
  CHECK(lines.find("breaker_open work\n") != std::string::npos);

  // After open_for, half-open: one run goes through, the others meanwhile are refused.
  dir.write("healthy", "");
  std::vector<std::string> pair;
  HttpAnswer a;
  CHECK(eventually(
      [&] {
        a = post_alerts(server, am_payload({am_alert(instance(), starts_at(0)),
                                            am_alert(instance(), starts_at(0))}));
        pair = decisions_of(a);
        return !pair.empty() && pair[0] != "breaker_open";
      },
      60s));
  INFO(a.body);
  CHECK(pair == std::vector<std::string>{"started", "breaker_open"});
  CHECK(server.metrics().value("runbook_breaker_state", rule) == 2);
  // The trial run succeeds: the breaker closes.
  release_gate(dir);
  CHECK(run_end(server, json_string(a.body, "alerts.0.run_id")) == "succeeded");
  CHECK(
      eventually([&] { return server.metrics().value("runbook_breaker_state", rule) == 0; }, 30s));
  CHECK(decide(server, one_alert(instance(), 0)) == "started");
  CHECK(audit_records(dir, "alert.breaker_opened").size() == 1);
  CHECK(audit_records(dir, "alert.breaker_closed").size() == 1);
}

TEST_CASE("alert dedup, cooldowns and an open breaker survive a restart of the server" *
          doctest::timeout(120)) {
  TempDir dir;
  write_echo_runbook(dir);
  dir.write("fail.yaml", "version: 1\nname: fail\nsteps:\n  - id: a\n    run: exit 1\n");
  const std::string config =
      alerts_config(dir, work_rule("echo.yaml", "    cooldown: 1h\n") +
                             alert_rule("broken", "{alertname: Broken}", "fail.yaml",
                                        "    breaker: {failures: 1, open_for: 1h}\n"));
  const std::map<std::string, std::string> breaker{{"rule", "broken"}};
  const std::string first = one_alert(kDb1, 0);
  const std::string broken = one_alert({{"alertname", "Broken"}, {"instance", "x"}}, 0);
  {
    ServeProcess server(dir, config);
    INFO(server.log());
    const std::string id = start_alert_run(server, first);
    CHECK(run_end(server, start_alert_run(server, broken)) == "failed");
    CHECK(run_end(server, id) == "succeeded");
    int next = 1;
    CHECK(decision_once_ended(server, kDb1, next) == "cooldown");
    CHECK(eventually([&] { return server.metrics().value("runbook_breaker_state", breaker) == 1; },
                     30s));
    server.signal(SIGTERM);
    CHECK(server.wait(60s) == 0);
  }

  ServeProcess server(dir, config);
  INFO(server.log());
  CHECK(decide(server, first) == "deduplicated");
  CHECK(decide(server, broken) == "deduplicated");
  CHECK(decide(server, one_alert(kDb1, 100)) == "cooldown");
  CHECK(decide(server, one_alert({{"alertname", "Broken"}, {"instance", "y"}}, 0)) ==
        "breaker_open");
  CHECK(server.metrics().value("runbook_breaker_state", breaker) == 1);
  CHECK(alert_runs(server) == 2);
}

TEST_CASE("while remediation is paused alerts answer paused, by runbook pause or the API" *
          doctest::timeout(120)) {
  TempDir dir;
  write_echo_runbook(dir);
  ServeProcess server(dir, alerts_config(dir, work_rule("echo.yaml")));
  INFO(server.log());
  auto paused = [&](const std::string& want) {
    const bool json = json_member(server.request("GET", "/healthz").body, "paused") == want;
    const bool metric = server.metrics().value("runbook_paused") == (want == "true" ? 1 : 0);
    return json && metric;
  };
  const std::vector<std::string> state_dir{"--state-dir", dir / "state"};
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.end(), state_dir.begin(), state_dir.end());
    Finished f = run_cli(dir, args);
    INFO(f.output);
    CHECK_FALSE(f.output.empty());
    return f.exit_code;
  };

  CHECK(cli({"pause", "--reason", "maintenance"}) == 0);
  CHECK(cli({"pause"}) == 0);  // already paused: still fine
  CHECK(decide(server, one_alert(kDb1, 0)) == "paused");
  CHECK(server.request("GET", "/healthz").status == 200);
  CHECK(paused("true"));
  CHECK(cli({"unpause"}) == 0);
  CHECK(paused("false"));
  // A paused alert was not remembered: the same one starts now.
  CHECK(decide(server, one_alert(kDb1, 0)) == "started");

  for (const char* route : {"/v1/pause", "/v1/unpause"}) {
    HttpAnswer refused = server.request("POST", route, "", std::string(""));
    CHECK(refused.status == 401);
  }
  CHECK(paused("false"));
  HttpAnswer pause = server.request("POST", "/v1/pause", R"({"reason": "deploy freeze"})");
  CHECK(pause.status == 200);
  CHECK(json_member(pause.body, "paused") == "true");
  CHECK(decide(server, one_alert(kDb2, 0)) == "paused");
  CHECK(paused("true"));
  HttpAnswer unpause = server.request("POST", "/v1/unpause");
  CHECK(unpause.status == 200);
  CHECK(json_member(unpause.body, "paused") == "false");
  CHECK(decide(server, one_alert(kDb2, 0)) == "started");
  CHECK(eventually([&] { return alert_runs(server) == 2; }, 30s));
  CHECK(audit_records(dir, "remediation.paused").size() == 2);
  CHECK(audit_records(dir, "remediation.resumed").size() == 2);
}

TEST_CASE("an alert that finds the run queue full answers 503 and its retry starts it" *
          doctest::timeout(120)) {
  TempDir dir;
  write_gate_runbook(dir);
  ServeProcess server(
      dir, alerts_config(dir, work_rule("gate.yaml"), "max_concurrent_runs: 1\nqueue_limit: 1\n"));
  INFO(server.log());
  const std::string running = start_alert_run(server, one_alert(kDb1, 0));
  CHECK(server.wait_for_state(running, {"running"}) == "running");

  // The first takes the queue's one place, the second finds it full.
  const std::string payload =
      am_payload({am_alert(kDb2, starts_at(0)),
                  am_alert({{"alertname", "Work"}, {"instance", "db3"}}, starts_at(0))});
  HttpAnswer full = post_alerts(server, payload);
  INFO(full.body);
  CHECK(full.status == 503);
  CHECK_FALSE(full.headers["retry-after"].empty());
  CHECK_FALSE(json_string(full.body, "error").empty());
  CHECK(decisions_of(full) == std::vector<std::string>{"started", "queue_full"});
  CHECK_FALSE(json_member(full.body, "alerts.1.run_id"));

  release_gate(dir);
  CHECK(run_end(server, running) == "succeeded");
  CHECK(run_end(server, json_string(full.body, "alerts.0.run_id")) == "succeeded");
  HttpAnswer retry = post_alerts(server, payload);
  INFO(retry.body);
  CHECK(retry.status == 202);
  CHECK(decisions_of(retry) == std::vector<std::string>{"deduplicated", "started"});
  CHECK(run_end(server, json_string(retry.body, "alerts.1.run_id")) == "succeeded");
  CHECK(alert_runs(server) == 3);
}

TEST_CASE("an alert storm for one group starts one run and the server stays small and healthy" *
          doctest::timeout(180)) {
  TempDir dir;
  write_echo_runbook(dir);
  ServeProcess server(dir, alerts_config(dir, work_rule("echo.yaml", "    cooldown: 1h\n")));
  INFO(server.log());
  // 2000 deliveries from four senders: 1600 distinct startsAt, then repeats.
  constexpr int kSenders = 4, kEach = 500, kDistinct = 1600;
  std::vector<std::map<std::string, int>> decisions(kSenders);
  std::vector<int> not_accepted(kSenders, 0);
  std::atomic<int> started_at{-1};
  std::atomic<int> senders_left{kSenders};
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back([&, s] {
      for (int i = s; i < kSenders * kEach; i += kSenders) {
        HttpAnswer a = post_alerts(server, one_alert(kDb1, i % kDistinct));
        if (a.status != 202) ++not_accepted[s];
        for (const std::string& d : decisions_of(a)) ++decisions[s][d];
        if (json_string(a.body, "alerts.0.decision") == "started") started_at = i % kDistinct;
      }
      --senders_left;
    });
  }
  // Meanwhile, as a monitor would.
  int health_checks = 0, unhealthy = 0;
  long most_kib = 0;
  while (senders_left > 0) {
    ++health_checks;
    unhealthy += server.request("GET", "/healthz").status != 200;
    most_kib = std::max(most_kib, resident_kib(server.pid()));
    std::this_thread::sleep_for(50ms);
  }
  for (std::thread& t : senders) t.join();

  std::map<std::string, int> total;
  int refused = 0;
  for (int s = 0; s < kSenders; ++s) {
    refused += not_accepted[s];
    for (const auto& [d, count] : decisions[s]) total[d] += count;
  }
  std::string seen;
  for (const auto& [d, count] : total) seen += d + ": " + std::to_string(count) + "\n";
  INFO(seen);
  CHECK(refused == 0);
  CHECK(total["started"] == 1);
  CHECK(total["started"] + total["in_progress"] + total["cooldown"] + total["deduplicated"] ==
        kSenders * kEach);
  CHECK(health_checks > 0);
  CHECK(unhealthy == 0);
  REQUIRE(started_at >= 0);
  CHECK(decide(server, one_alert(kDb1, started_at)) == "deduplicated");
  CHECK(server.request("GET", "/healthz").status == 200);
  most_kib = std::max(most_kib, resident_kib(server.pid()));
  CHECK(most_kib > 0);
  CHECK(most_kib < 64 * 1024);
  CHECK(eventually([&] { return count_runs(server.runs(), {{"state", "succeeded"}}) == 1; }, 30s));
  CHECK(alert_runs(server) == 1);
}

TEST_CASE("a hook alert needs an HMAC signature of its body and takes its members as labels" *
          doctest::timeout(120)) {
  TempDir dir;
  const std::string secret = "hook-secret-8d2f61c0";
  dir.write(
      "labels.yaml",
      "version: 1\nname: labels\nsteps:\n  - id: a\n    run: |\n"
      "      printf '%s %s %s %s' \"${{ alert.labels.hook }}\" \"${{ alert.labels.service }}\" "
      "\"${{ alert.labels.count }}\" \"${{ alert.labels.ok }}\" > " +
          (dir / "out-") + "$RUNBOOK_RUN_ID\n");
  ServeProcess server(
      dir, alerts_config(dir, alert_rule("deploy", "{hook: deploy, service: api}", "labels.yaml"),
                         "  hmac_secret_file: " + write_hmac_secret(dir, secret) + "\n"));
  INFO(server.log());
  auto post = [&](const std::string& body, const Headers& headers,
                  const std::string& name = "deploy") {
    return http_request(server.port(), "POST", "/v1/hooks/" + name, body, headers);
  };

  // The body's members become labels; `hook` is the name, whatever the body says.
  const std::string plain = R"({"service": "api", "count": 3, "ok": true, "hook": "spoofed"})";
  HttpAnswer a = post(plain, signed_by(secret, plain));
  INFO(a.body);
  CHECK(a.status == 202);
  CHECK(decisions_of(a) == std::vector<std::string>{"started"});
  const std::string id = json_string(a.body, "alerts.0.run_id");
  REQUIRE_FALSE(id.empty());
  CHECK(run_end(server, id) == "succeeded");
  CHECK(read_file(dir / ("out-" + id)) == "deploy api 3 true");

  const std::string other = R"({"service": "api", "change": "c-2"})";
  Headers bearer_only{{"Authorization", "Bearer " + kServeToken}};
  for (const Headers& refused : {
           signed_by("not-the-secret", other),
           bearer_only,               // the bearer token is not what signs hooks
           signed_by(secret, plain),  // a signature of another body
           Headers{{"X-Signature-256", "sha256=" + hmac_sha256_hex(secret, other)},
                   {"X-Timestamp", unix_seconds_from_now(0s)}},   // the timestamp not signed
           signed_by(secret, other, unix_seconds_from_now(-1h)),  // signed, but an hour old
       }) {
    HttpAnswer r = post(other, refused);
    CAPTURE(r.body);
    CHECK(r.status == 401);
    CHECK_FALSE(r.headers["www-authenticate"].empty());
  }

  // Signed with a timestamp inside the tolerance; the same delivery again is a repeat.
  const Headers stamped = signed_by(secret, other, unix_seconds_from_now(-10s));
  HttpAnswer first = post(other, stamped);
  HttpAnswer again = post(other, stamped);
  INFO(first.body << "\n" << again.body);
  CHECK(first.status == 202);
  CHECK(decisions_of(first) == std::vector<std::string>{"started"});
  CHECK(again.status == 202);
  CHECK(decisions_of(again) == std::vector<std::string>{"deduplicated"});

  CHECK(post(other, signed_by(secret, other), "Not_A_Name").status == 404);
  CHECK(run_end(server, json_string(first.body, "alerts.0.run_id")) == "succeeded");
  CHECK(alert_runs(server) == 2);
  CHECK(server.metrics().value("runbook_alerts_received_total", {{"receiver", "hook"}}) == 3);
}

TEST_CASE("a server without an hmac_secret_file refuses every hook alert with 401" *
          doctest::timeout(120)) {
  TempDir dir;
  write_echo_runbook(dir);
  ServeProcess server(dir, alerts_config(dir, alert_rule("deploy", "{hook: deploy}", "echo.yaml")));
  INFO(server.log());
  const std::string body = R"({"service": "api"})";
  HttpAnswer a =
      http_request(server.port(), "POST", "/v1/hooks/deploy", body, signed_by("any-secret", body));
  CHECK(a.status == 401);
  CHECK(history_runs(dir).empty());
}
