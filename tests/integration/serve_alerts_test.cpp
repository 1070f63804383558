// Alert webhooks of `runbook serve` on a real server on 127.0.0.1: the
// Alertmanager and Grafana receivers, which rule takes an alert (label
// matchers, on:, first match wins), params from labels and their checks,
// the payloads and credentials the server refuses, the audit records and
// metrics of alerts, and `runbook alerts test`. The safety rails and the
// signed hooks are in serve_alert_rails_test.cpp, which shares the payload
// builders below.

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

namespace runbook_test::alert_support {

using Labels = std::map<std::string, std::string>;

// ---- shared with serve_alert_rails_test.cpp, which declares what it uses ----

std::string json_quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static const char* const hex = "0123456789abcdef";
      out += "\\u00";
      out += hex[(c >> 4) & 0xf];
      out += hex[c & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// {"k":"v",…}
std::string json_labels(const Labels& labels) {
  std::string out = "{";
  for (const auto& [name, value] : labels)
    out += (out.size() > 1 ? "," : "") + json_quoted(name) + ":" + json_quoted(value);
  return out + "}";
}

// One alert of an Alertmanager (or Grafana) payload; without `fingerprint`
// the server computes one from the labels.
std::string am_alert(const Labels& labels, const std::string& starts_at,
                     const std::string& status = "firing", const std::string& fingerprint = "") {
  std::string out =
      "{\"status\":" + json_quoted(status) + ",\"labels\":" + json_labels(labels) +
      ",\"annotations\":{\"summary\":\"from a test\"},\"startsAt\":" + json_quoted(starts_at) +
      ",\"endsAt\":\"0001-01-01T00:00:00Z\",\"generatorURL\":\"http://prom/graph\"";
  if (!fingerprint.empty()) out += ",\"fingerprint\":" + json_quoted(fingerprint);
  return out + "}";
}

// An Alertmanager webhook v4 body holding `alerts` (from am_alert).
std::string am_payload(const std::vector<std::string>& alerts) {
  std::string list;
  for (const std::string& a : alerts) list += (list.empty() ? "" : ",") + a;
  return R"({"version":"4","status":"firing","receiver":"runbook","groupKey":"{}:{}",)"
         R"("truncatedAlerts":0,"groupLabels":{},"commonLabels":{},"commonAnnotations":{},)"
         R"("externalURL":"http://alertmanager:9093","alerts":[)" +
         list + "]}";
}

// A distinct startsAt for each n below 3600.
std::string starts_at(int n) {
  auto two = [](int v) { return std::string(v < 10 ? "0" : "") + std::to_string(v); };
  return "2024-05-01T10:" + two(n / 60 % 60) + ":" + two(n % 60) + "Z";
}

// One entry of `alerts:`; `more` are further keys, indented by four.
std::string alert_rule(const std::string& name, const std::string& match,
                       const std::string& runbook, const std::string& more = "") {
  return "  - name: " + name + "\n    match: " + match + "\n    runbook: " + runbook + "\n" + more;
}

// The server's config (write_serve_config) with `rules` as its `alerts:`.
// `extra` comes right after the bearer tokens file: it may begin with more
// keys of `auth:`, indented by two, then top-level keys.
std::string alerts_config(const TempDir& dir, const std::string& rules,
                          const std::string& extra = "") {
  return write_serve_config(dir, extra + "shutdown_grace: 2s\nalerts:\n" + rules);
}

// POST /v1/alerts/RECEIVER with the bearer token.
HttpAnswer post_alerts(const ServeProcess& server, const std::string& payload,
                       const std::string& receiver = "alertmanager") {
  return server.request("POST", "/v1/alerts/" + receiver, payload);
}

// The decision of each entry of an alert answer, in order.
std::vector<std::string> decisions_of(const HttpAnswer& answer) {
  std::vector<std::string> out;
  for (const std::string& entry : json_array(json_member(answer.body, "alerts").value_or("[]")))
    out.push_back(json_string(entry, "decision"));
  return out;
}

// DIR/echo.yaml: a runbook that succeeds at once.
std::string write_echo_runbook(const TempDir& dir) {
  return dir.write("echo.yaml", "version: 1\nname: echo\nsteps:\n  - id: a\n    run: echo x\n");
}

// Waits (bounded) for run `id` to end; its last state.
std::string run_end(const ServeProcess& server, const std::string& id) {
  return server.wait_for_state(id, {"succeeded", "failed", "rollback_failed", "cancelled"});
}

// How many runs the server lists with trigger alert.
int alert_runs(const ServeProcess& server) {
  return count_runs(server.runs(), {{"trigger", "alert"}});
}

// ---- for this file ----

namespace {

// DIR/host.yaml: writes its param host, then the alert's mountpoint label
// and summary annotation, to DIR/out-RUN_ID.
void write_host_runbook(const TempDir& dir) {
  dir.write("host.yaml",
            "version: 1\nname: host\nparams:\n"
            "  host: {type: string, required: true, pattern: '^[a-z0-9.-]+$'}\n"
            "steps:\n  - id: a\n    run: |\n"
            "      printf '%s|%s|%s' \"${{ params.host }}\" \"${{ alert.labels.mountpoint }}\" "
            "\"${{ alert.annotations.summary }}\" > " +
                (dir / "out-") + "$RUNBOOK_RUN_ID\n");
}

// A rule `disk-full` of host.yaml for DiskFull alerts, host from the
// instance label, grouped by instance.
const std::string kDiskRule = alert_rule("disk-full", "{alertname: DiskFull}", "host.yaml",
                                         "    params: {host: \"${{ alert.labels.instance }}\"}\n"
                                         "    group_by: [instance]\n");

const Labels kDiskDb1 = {{"alertname", "DiskFull"}, {"instance", "db1"}, {"mountpoint", "/var"}};

std::vector<std::string> entries_of(const HttpAnswer& answer) {
  return json_array(json_member(answer.body, "alerts").value_or("[]"));
}

// The rule named by each entry of an alert answer ("" for none).
std::vector<std::string> rules_of(const HttpAnswer& answer) {
  std::vector<std::string> out;
  for (const std::string& entry : entries_of(answer)) out.push_back(json_string(entry, "rule"));
  return out;
}

}  // namespace
}  // namespace runbook_test::alert_support

using namespace runbook_test::alert_support;

TEST_CASE("an Alertmanager alert matching a rule starts its runbook with params from its labels" *
          doctest::timeout(120)) {
  TempDir dir;
  write_host_runbook(dir);
  ServeProcess server(dir, alerts_config(dir, kDiskRule));
  INFO(server.log());
  const std::string payload =
      am_payload({am_alert(kDiskDb1, starts_at(0), "firing", "fp-disk-db1"),
                  am_alert({{"alertname", "CpuHigh"}, {"instance", "db1"}}, starts_at(0))});
  HttpAnswer a = post_alerts(server, payload);
  INFO(a.body);
  REQUIRE(a.status == 202);
  CHECK(a.headers["content-type"].rfind("application/json", 0) == 0);
  const std::vector<std::string> entries = entries_of(a);
  REQUIRE(entries.size() == 2);
  // One entry per alert, in payload order.
  CHECK(json_member(entries[0], "index") == "0");
  CHECK(json_member(entries[1], "index") == "1");
  CHECK(json_string(entries[0], "fingerprint") == "fp-disk-db1");
  CHECK_FALSE(json_string(entries[1], "fingerprint").empty());
  CHECK(json_string(entries[0], "status") == "firing");
  CHECK(decisions_of(a) == std::vector<std::string>{"started", "no_match"});
  CHECK(json_string(entries[0], "rule") == "disk-full");
  CHECK(json_string(entries[0], "group") == "instance=db1");
  // No rule and no run for the alert nothing took.
  CHECK_FALSE(json_member(entries[1], "rule"));
  CHECK_FALSE(json_member(entries[1], "run_id"));

  const std::string id = json_string(entries[0], "run_id");
  REQUIRE_FALSE(id.empty());
  CHECK(run_end(server, id) == "succeeded");
  // The param from the label, the label and the annotation, as the runbook saw them.
  CHECK(read_file(dir / ("out-" + id)) == "db1|/var|from a test");
  CHECK(alert_runs(server) == 1);
  const std::string show = shown_run(dir, id);
  INFO(show);
  CHECK(json_string(show, "trigger") == "alert");
  CHECK(json_string(show, "runbook") == "host");
}

TEST_CASE("an alert delivered twice starts one run and its repeat answers deduplicated" *
          doctest::timeout(120)) {
  TempDir dir;
  write_echo_runbook(dir);
  ServeProcess server(dir, alerts_config(dir, alert_rule("echo", "{alertname: Dup}", "echo.yaml")));
  INFO(server.log());
  const std::string payload = am_payload({am_alert({{"alertname", "Dup"}}, starts_at(0))});
  HttpAnswer first = post_alerts(server, payload);
  HttpAnswer second = post_alerts(server, payload);
  INFO(first.body << "\n" << second.body);
  CHECK(first.status == 202);
  CHECK(second.status == 202);
  CHECK(decisions_of(first) == std::vector<std::string>{"started"});
  CHECK(decisions_of(second) == std::vector<std::string>{"deduplicated"});
  CHECK_FALSE(json_member(second.body, "alerts.0.run_id"));
  CHECK(run_end(server, json_string(first.body, "alerts.0.run_id")) == "succeeded");
  // Also once the run ended: a delivery is remembered, not just a run going.
  CHECK(decisions_of(post_alerts(server, payload)) == std::vector<std::string>{"deduplicated"});
  CHECK(alert_runs(server) == 1);
}

TEST_CASE("an alert rule with on: resolved takes resolved alerts and a firing rule ignores them" *
          doctest::timeout(120)) {
  TempDir dir;
  write_echo_runbook(dir);
  const std::string rules =
      alert_rule("cleared", "{alertname: Fixed}", "echo.yaml", "    on: resolved\n") +
      alert_rule("fire", "{alertname: Fired}", "echo.yaml");
  ServeProcess server(dir, alerts_config(dir, rules));
  INFO(server.log());
  HttpAnswer a =
      post_alerts(server, am_payload({
                              am_alert({{"alertname", "Fixed"}}, starts_at(0), "resolved"),
                              am_alert({{"alertname", "Fixed"}}, starts_at(1), "firing"),
                              am_alert({{"alertname", "Fired"}}, starts_at(0), "resolved"),
                              am_alert({{"alertname", "Fired"}}, starts_at(1), "firing"),
                          }));
  INFO(a.body);
  CHECK(a.status == 202);
  CHECK(decisions_of(a) == std::vector<std::string>{"started", "no_match", "no_match", "started"});
  CHECK(rules_of(a) == std::vector<std::string>{"cleared", "", "", "fire"});
  CHECK(json_string(a.body, "alerts.0.status") == "resolved");
  CHECK(eventually([&] { return alert_runs(server) == 2; }, 30s));
}

TEST_CASE("alert label matchers match regexes whole and a missing label as empty" *
          doctest::timeout(120)) {
  TempDir dir;
  write_echo_runbook(dir);
  const std::string rules =
      alert_rule("crit", "{alertname: Disk, severity: \"=~crit|page\"}", "echo.yaml") +
      alert_rule("not-prod", "{alertname: Deploy, env: \"!~prod|staging\"}", "echo.yaml") +
      alert_rule("not-db", "{alertname: Cpu, team: \"!=db\"}", "echo.yaml") +
      alert_rule("exact", "{alertname: \"=Mem\"}", "echo.yaml") +
      alert_rule("exact-too", "{alertname: Mem, severity: page}", "echo.yaml");
  ServeProcess server(dir, alerts_config(dir, rules));
  INFO(server.log());
  struct Case {
    Labels labels;
    std::string rule;  // "" for no_match
  };
  const std::vector<Case> cases = {
      {{{"alertname", "Disk"}, {"severity", "critical"}}, ""},  // =~crit is not a prefix match
      {{{"alertname", "Disk"}, {"severity", "crit"}}, "crit"},
      {{{"alertname", "Disk"}, {"severity", "xpage"}}, ""},
      {{{"alertname", "Deploy"}, {"env", "prod"}}, ""},
      {{{"alertname", "Deploy"}, {"env", "production"}}, "not-prod"},  // !~ is whole too
      {{{"alertname", "Deploy"}}, "not-prod"},
      {{{"alertname", "Cpu"}, {"team", "db"}}, ""},
      {{{"alertname", "Cpu"}}, "not-db"},                       // missing is "", which is not db
      {{{"alertname", "Mem"}, {"severity", "page"}}, "exact"},  // the first matching rule wins
  };
  std::vector<std::string> alerts, want_rules, want_decisions;
  for (const Case& c : cases) {
    alerts.push_back(am_alert(c.labels, starts_at(0)));
    want_rules.push_back(c.rule);
    want_decisions.push_back(c.rule.empty() ? "no_match" : "started");
  }
  HttpAnswer a = post_alerts(server, am_payload(alerts));
  INFO(a.body);
  CHECK(a.status == 202);
  CHECK(rules_of(a) == want_rules);
  CHECK(decisions_of(a) == want_decisions);
}

TEST_CASE("alert labels failing the runbook's param checks answer invalid_params and run nothing" *
          doctest::timeout(120)) {
  TempDir dir;
  write_host_runbook(dir);
  const std::string pwned = dir / "pwned";
  // Labels are data: shell code in them is never run, whether refused by a
  // pattern or passed to a param without one.
  const std::string injection = "$(touch " + pwned + ") `touch " + pwned + "`; touch " + pwned;
  dir.write("loose.yaml",
            "version: 1\nname: loose\nparams:\n  host: {type: string, required: true}\n"
            "steps:\n  - id: a\n    run: |\n"
            "      printf '%s' \"${{ params.host }}\" > " +
                (dir / "param-") + "$RUNBOOK_RUN_ID\n" +
                "      printf '%s' \"${{ alert.labels.instance }}\" > " + (dir / "label-") +
                "$RUNBOOK_RUN_ID\n");
  const std::string rules =
      kDiskRule + alert_rule("loose", "{alertname: Loose}", "loose.yaml",
                             "    params: {host: \"${{ alert.labels.instance }}\"}\n");
  ServeProcess server(dir, alerts_config(dir, rules));
  INFO(server.log());
  HttpAnswer a = post_alerts(
      server, am_payload({
                  am_alert({{"alertname", "DiskFull"}, {"instance", "a; rm -rf /"}}, starts_at(0)),
                  am_alert({{"alertname", "DiskFull"}, {"instance", "$(touch " + pwned + ")"}},
                           starts_at(0)),
                  am_alert({{"alertname", "DiskFull"}}, starts_at(0)),  // no instance: "" fails
                  am_alert({{"alertname", "Loose"}, {"instance", injection}}, starts_at(0)),
              }));
  INFO(a.body);
  CHECK(a.status == 202);
  CHECK(decisions_of(a) ==
        std::vector<std::string>{"invalid_params", "invalid_params", "invalid_params", "started"});
  for (const std::string& entry : entries_of(a)) {
    if (json_string(entry, "decision") != "invalid_params") continue;
    CAPTURE(entry);
    CHECK(json_string(entry, "reason").find("host") != std::string::npos);
    CHECK_FALSE(json_member(entry, "run_id"));
  }

  const std::string id = json_string(a.body, "alerts.3.run_id");
  REQUIRE_FALSE(id.empty());
  CHECK(run_end(server, id) == "succeeded");
  CHECK(read_file(dir / ("param-" + id)) == injection);
  CHECK(read_file(dir / ("label-" + id)) == injection);
  CHECK_FALSE(file_exists(pwned));
  CHECK(alert_runs(server) == 1);
}

TEST_CASE("the alert routes refuse missing credentials, bodies over 1 MiB and bad payloads" *
          doctest::timeout(120)) {
  TempDir dir;
  write_host_runbook(dir);
  ServeProcess server(dir, alerts_config(dir, kDiskRule));
  INFO(server.log());
  const std::string good = am_payload({am_alert(kDiskDb1, starts_at(0))});
  for (const std::string& receiver : {std::string("alertmanager"), std::string("grafana")}) {
    for (const std::string& token : {std::string(""), std::string("wrong-token-1234")}) {
      CAPTURE(receiver);
      CAPTURE(token);
      HttpAnswer a = server.request("POST", "/v1/alerts/" + receiver, good, token);
      CHECK(a.status == 401);
      CHECK(a.headers["www-authenticate"].rfind("Bearer", 0) == 0);
    }
  }

  const std::string huge = am_payload({am_alert(
      {{"alertname", "DiskFull"}, {"instance", std::string(1 << 20, 'a')}}, starts_at(0))});
  CHECK(post_alerts(server, huge).status == 413);

  struct Bad {
    std::string receiver, body;
  };
  for (const Bad& bad : {
           Bad{"alertmanager", "{\"version\": \"4\", \"alerts\": ["},
           Bad{"alertmanager", "not json"},
           Bad{"alertmanager", "[" + am_alert(kDiskDb1, starts_at(0)) + "]"},
           Bad{"alertmanager", R"({"version": "3", "alerts": [])"},
           Bad{"alertmanager", R"({"version": "4", "alerts": {"labels": {}}})"},
           Bad{"alertmanager", R"({"version": "4", "status": "firing"})"},
           Bad{"alertmanager", R"({"version": "4", "alerts": [42]})"},
           Bad{"alertmanager",
               R"({"version": "4", "alerts": [{"status": "firing", "labels": {"a": 1}}]})"},
           Bad{"alertmanager",
               R"({"version": "4", "alerts": [{"status": "pending", "labels": {"a": "b"}}]})"},
           Bad{"grafana", R"({"ruleName": "disk", "state": "alerting", "evalMatches": []})"},
       }) {
    CAPTURE(bad.receiver);
    CAPTURE(bad.body);
    HttpAnswer a = post_alerts(server, bad.body, bad.receiver);
    CHECK(a.status == 400);
    CHECK_FALSE(json_string(a.body, "error").empty());
  }
  CHECK(server.request("GET", "/healthz").status == 200);
  CHECK(history_runs(dir).empty());
  CHECK_FALSE(
      server.metrics().value("runbook_alerts_received_total", {{"receiver", "alertmanager"}}));
}

TEST_CASE("a Grafana unified alerting payload starts the runbook of the rule it matches" *
          doctest::timeout(120)) {
  TempDir dir;
  write_host_runbook(dir);
  ServeProcess server(dir, alerts_config(dir, kDiskRule));
  INFO(server.log());
  // As Grafana 10 sends it: extra members are ignored.
  const std::string payload =
      R"({"receiver":"runbook","status":"firing","orgId":1,"alerts":[{)"
      R"("status":"firing","labels":{"alertname":"DiskFull",)"
      R"("grafana_folder":"infra","instance":"web1","mountpoint":"/srv"},)"
      R"("annotations":{"summary":"disk almost full"},)"
      R"("startsAt":"2024-05-01T10:00:00Z","endsAt":"0001-01-01T00:00:00Z",)"
      R"("generatorURL":"http://grafana/alerting/grafana/abc/view",)"
      R"("fingerprint":"1f4c2d3e","silenceURL":"http://grafana/s",)"
      R"("dashboardURL":"","panelURL":"","values":{"B":97.5,"C":1},)"
      R"("valueString":"[ var='B' value=97.5 ]"}],)"
      R"("groupLabels":{"alertname":"DiskFull"},"commonLabels":{},)"
      R"("commonAnnotations":{},"externalURL":"http://grafana/",)"
      R"("version":"1","groupKey":"{}:{alertname=\"DiskFull\"}",)"
      R"("truncatedAlerts":0,"title":"[FIRING:1] DiskFull",)"
      R"("state":"alerting","message":"**Firing**"})";
  HttpAnswer a = post_alerts(server, payload, "grafana");
  INFO(a.body);
  CHECK(a.status == 202);
  CHECK(decisions_of(a) == std::vector<std::string>{"started"});
  CHECK(json_string(a.body, "alerts.0.fingerprint") == "1f4c2d3e");
  const std::string id = json_string(a.body, "alerts.0.run_id");
  REQUIRE_FALSE(id.empty());
  CHECK(run_end(server, id) == "succeeded");
  CHECK(read_file(dir / ("out-" + id)) == "web1|/srv|disk almost full");
  CHECK(server.metrics().value("runbook_alerts_received_total", {{"receiver", "grafana"}}) == 1);
}

TEST_CASE("the audit log records each alert received and what became of it" *
          doctest::timeout(120)) {
  TempDir dir;
  write_host_runbook(dir);
  ServeProcess server(dir, alerts_config(dir, kDiskRule));
  INFO(server.log());
  const std::string payload = am_payload({am_alert(kDiskDb1, starts_at(0), "firing", "fp-audit")});
  HttpAnswer a = post_alerts(server, payload);
  INFO(a.body);
  const std::string id = json_string(a.body, "alerts.0.run_id");
  REQUIRE_FALSE(id.empty());
  CHECK(run_end(server, id) == "succeeded");
  CHECK(decisions_of(post_alerts(server, payload)) == std::vector<std::string>{"deduplicated"});

  std::vector<std::string> received, suppressed;
  CHECK(eventually(
      [&] {
        received = audit_records(dir, "alert.received");
        suppressed = audit_records(dir, "alert.suppressed");
        return received.size() == 2 && suppressed.size() == 1;
      },
      20s));
  for (const std::string& record : received) {
    CAPTURE(record);
    CHECK(json_string(record, "fingerprint") == "fp-audit");
    CHECK(json_string(record, "receiver") == "alertmanager");
    CHECK(json_string(record, "status") == "firing");
    CHECK(json_string(record, "labels.instance") == "db1");
    CHECK(json_string(record, "starts_at") == starts_at(0));
  }
  REQUIRE(suppressed.size() == 1);
  CHECK(json_string(suppressed[0], "reason") == "deduplicated");
  CHECK(json_string(suppressed[0], "rule") == "disk-full");
  CHECK(json_string(suppressed[0], "fingerprint") == "fp-audit");

  const std::vector<std::string> matched = audit_records(dir, "alert.matched");
  REQUIRE(matched.size() == 1);
  CHECK(json_string(matched[0], "rule") == "disk-full");
  CHECK(json_string(matched[0], "decision") == "started");
  CHECK(json_string(matched[0], "run_id") == id);

  const std::vector<std::string> started = audit_records(dir, "run.started", id);
  REQUIRE(started.size() == 1);
  CAPTURE(started[0]);
  CHECK(json_string(started[0], "trigger") == "alert");
  CHECK(json_string(started[0], "alert.rule") == "disk-full");
  CHECK(json_string(started[0], "alert.fingerprint") == "fp-audit");
}

TEST_CASE("the alert metrics count alerts by receiver and decisions by rule" *
          doctest::timeout(120)) {
  TempDir dir;
  write_host_runbook(dir);
  ServeProcess server(dir, alerts_config(dir, kDiskRule));
  INFO(server.log());
  const std::string payload = am_payload(
      {am_alert(kDiskDb1, starts_at(0)), am_alert({{"alertname", "Nothing"}}, starts_at(0))});
  CHECK(post_alerts(server, payload).status == 202);
  CHECK(post_alerts(server, payload).status == 202);
  const std::string grafana =
      R"({"version":"1","orgId":1,"alerts":[{"status":"firing","labels":{"alertname":"Other"}}]})";
  CHECK(post_alerts(server, grafana, "grafana").status == 202);

  const MetricsText m = server.metrics();
  const std::string received = "runbook_alerts_received_total";
  const std::string decided = "runbook_alert_decisions_total";
  CHECK(m.value(received, {{"receiver", "alertmanager"}}) == 4);
  CHECK(m.value(received, {{"receiver", "grafana"}}) == 1);
  CHECK(m.value(decided, {{"rule", "disk-full"}, {"decision", "started"}}) == 1);
  CHECK(m.value(decided, {{"rule", "disk-full"}, {"decision", "deduplicated"}}) == 1);
  CHECK(m.value(decided, {{"rule", ""}, {"decision", "no_match"}}) == 3);
  CHECK(m.type.at(received) == "counter");
  CHECK(m.type.at(decided) == "counter");
  CHECK(m.value("runbook_paused") == 0);
  CHECK(m.bad_lines.empty());
}

TEST_CASE("runbook alerts test prints each alert's decision and starts nothing" *
          doctest::timeout(120)) {
  TempDir dir;
  write_host_runbook(dir);
  const std::string config = alerts_config(dir, kDiskRule);
  const std::string payload =
      dir.write("payload.json", am_payload({am_alert(kDiskDb1, starts_at(0)),
                                            am_alert({{"alertname", "Nothing"}}, starts_at(0))}));

  Finished text = run_cli(dir, {"alerts", "test", "--config", config, payload});
  INFO(text.output);
  CHECK(text.exit_code == 0);
  CHECK(text.output.find("disk-full: started") != std::string::npos);
  CHECK(text.output.find("no_match") != std::string::npos);
  CHECK(text.output.find("db1") != std::string::npos);  // the rendered param

  Finished json = run_cli(dir, {"alerts", "test", "--config", config, "--output", "json", payload});
  INFO(json.output);
  CHECK(json.exit_code == 0);
  const HttpAnswer as_answer{200, {}, json.output};
  CHECK(decisions_of(as_answer) == std::vector<std::string>{"started", "no_match"});
  CHECK(rules_of(as_answer) == std::vector<std::string>{"disk-full", ""});
  CHECK_FALSE(json_member(json.output, "alerts.0.run_id"));
  CHECK(json_string(json.output, "alerts.0.params.host") == "db1");

  CHECK(history_runs(dir).empty());
  CHECK_FALSE(file_exists(dir / "state/server/alerts.db"));

  for (const std::string& bad : {dir.write("bad.json", "{\"alerts\": ["),
                                 dir.write("v3.json", R"({"version": "3", "alerts": []})")}) {
    Finished f = run_cli(dir, {"alerts", "test", "--config", config, bad});
    CAPTURE(f.output);
    CHECK(f.exit_code == 2);
    CHECK(f.output.find(bad) != std::string::npos);
  }
}
