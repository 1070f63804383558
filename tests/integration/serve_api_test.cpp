// `runbook serve`'s HTTP API on a real server on 127.0.0.1: /healthz,
// POST /v1/runs and what it refuses, the runs it starts, GET /v1/runs,
// /metrics, and the answers to unknown paths and methods.

#include <doctest/doctest.h>

#include <string>

#include "http_client.hpp"
#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

namespace {

// A runbook named `hello` whose one step greets params.name.
const char* const kHello =
    "version: 1\nname: hello\n"
    "params:\n"
    "  name: {type: string, default: world, pattern: '^[a-z]+$'}\n"
    "  times: {type: int, default: 1, min: 1, max: 3}\n"
    "steps:\n"
    "  - id: greet\n    run: echo \"hi ${{ params.name }}\"\n";

// Writes kHello to DIR/hello.yaml and the server's config (with `extra`).
std::string hello_config(const TempDir& dir, const std::string& extra = "") {
  dir.write("hello.yaml", kHello);
  return write_serve_config(dir, extra);
}

// A runbook whose step sleeps for `seconds` (a number unique to the test, so
// that its processes can be found).
std::string sleeper(const std::string& name, const std::string& seconds) {
  return "version: 1\nname: " + name + "\nsteps:\n  - id: nap\n    run: sleep " + seconds + "\n";
}

// The diagnostics of a 400 answer, as JSON strings.
std::vector<std::string> diagnostics_of(const HttpAnswer& a) {
  return json_array(json_member(a.body, "diagnostics").value_or("[]"));
}

bool any_contains(const std::vector<std::string>& lines, const std::string& what) {
  for (const std::string& l : lines)
    if (l.find(what) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("runbook serve answers GET /healthz with status ok and its counts" *
          doctest::timeout(60)) {
  TempDir dir;
  ServeProcess server(dir, write_serve_config(dir));
  INFO(server.log());
  HttpAnswer a = server.request("GET", "/healthz");
  CHECK(a.status == 200);
  CHECK(a.headers["content-type"].rfind("application/json", 0) == 0);
  CHECK(json_string(a.body, "status") == "ok");
  CHECK(json_member(a.body, "running") == "0");
  CHECK(json_member(a.body, "queued") == "0");
}

TEST_CASE("runbook serve refuses POST /v1/runs without the bearer token (401)" *
          doctest::timeout(60)) {
  TempDir dir;
  ServeProcess server(dir, hello_config(dir));
  INFO(server.log());
  const std::string body = R"({"runbook": "hello.yaml"})";
  for (const std::string& token : {std::string(""), std::string("wrong-token-1234"),
                                   kServeToken + "x", kServeToken.substr(1)}) {
    CAPTURE(token);
    HttpAnswer a = server.request("POST", "/v1/runs", body, token);
    CHECK(a.status == 401);
    CHECK(a.headers["www-authenticate"].rfind("Bearer", 0) == 0);
    CHECK_FALSE(json_string(a.body, "error").empty());
  }
  // Another scheme with the right token is no bearer token.
  HttpAnswer basic = http_request(server.port(), "POST", "/v1/runs", body,
                                  {{"Authorization", "Basic " + kServeToken}});
  CHECK(basic.status == 401);
  CHECK(history_runs(dir).empty());
}

TEST_CASE("a server without a tokens file refuses every POST with 401" * doctest::timeout(60)) {
  TempDir dir;
  dir.write("hello.yaml", kHello);
  std::string config = dir.write(
      "bare.yaml", "listen: 127.0.0.1:0\nstate_dir: " + (dir / "state") + "\nshutdown_grace: 2s\n");
  ServeProcess server(dir, config);
  INFO(server.log());
  HttpAnswer a = server.request("POST", "/v1/runs", R"({"runbook": "hello.yaml"})");
  CHECK(a.status == 401);
  CHECK(server.request("GET", "/healthz").status == 200);
}

TEST_CASE("runbook serve answers 400 with the reason to a POST /v1/runs it cannot run" *
          doctest::timeout(60)) {
  TempDir dir;
  std::filesystem::create_directories(dir / "sub");
  dir.write("sub/inner.yaml", kHello);
  std::string outside = dir.write("outside.yaml", kHello);
  ServeProcess server(dir, write_serve_config(dir, "runbooks_dir: " + (dir / "sub") + "\n"));
  INFO(server.log());

  for (const std::string& body :
       {std::string("{\"runbook\": \"inner.yaml\""), std::string("not json at all"),
        std::string("[\"inner.yaml\"]"), std::string("{}"), std::string("{\"params\": {}}"),
        std::string("{\"runbook\": 42}"), std::string("{\"runbook\": \"nosuch.yaml\"}"),
        std::string("{\"runbook\": \"../outside.yaml\"}"),
        std::string("{\"runbook\": \"sub/../../outside.yaml\"}"),
        "{\"runbook\": \"" + outside + "\"}"}) {
    CAPTURE(body);
    HttpAnswer a = server.request("POST", "/v1/runs", body);
    CHECK(a.status == 400);
    CHECK(a.headers["content-type"].rfind("application/json", 0) == 0);
    CHECK_FALSE(json_string(a.body, "error").empty());
  }
  CHECK(history_runs(dir).empty());
}

TEST_CASE("runbook serve answers 400 with FILE:LINE:COL diagnostics for a runbook with errors" *
          doctest::timeout(60)) {
  TempDir dir;
  dir.write("broken.yaml", "version: 1\nname: broken\nsteps:\n  - id: a\n    rnu: echo\n");
  ServeProcess server(dir, write_serve_config(dir));
  INFO(server.log());
  HttpAnswer a = server.request("POST", "/v1/runs", R"({"runbook": "broken.yaml"})");
  INFO(a.body);
  CHECK(a.status == 400);
  std::vector<std::string> diags = diagnostics_of(a);
  CHECK_FALSE(diags.empty());
  CHECK(any_contains(diags, "broken.yaml:5:5: error:"));
  CHECK(history_runs(dir).empty());
}

TEST_CASE("runbook serve answers 400 with diagnostics for bad params" * doctest::timeout(60)) {
  TempDir dir;
  dir.write("hello.yaml", kHello);
  dir.write("needs.yaml",
            "version: 1\nname: needs\nparams:\n  host: {type: string, required: true}\n"
            "steps:\n  - id: a\n    run: echo \"${{ params.host }}\"\n");
  ServeProcess server(dir, write_serve_config(dir));
  INFO(server.log());
  struct Case {
    std::string body;
    std::string named;  // the param the diagnostics must name
  };
  for (const Case& c : {
           Case{R"({"runbook": "hello.yaml", "params": {"nmae": "ops"}})", "nmae"},
           Case{R"({"runbook": "hello.yaml", "params": {"name": "Not Lower"}})", "name"},
           Case{R"({"runbook": "hello.yaml", "params": {"times": "many"}})", "times"},
           Case{R"({"runbook": "hello.yaml", "params": {"times": 9}})", "times"},
           Case{R"({"runbook": "needs.yaml"})", "host"},
       }) {
    CAPTURE(c.body);
    HttpAnswer a = server.request("POST", "/v1/runs", c.body);
    INFO(a.body);
    CHECK(a.status == 400);
    std::vector<std::string> diags = diagnostics_of(a);
    CHECK_FALSE(diags.empty());
    CHECK(any_contains(diags, "error:"));
    CHECK(any_contains(diags, c.named));
  }
  CHECK(history_runs(dir).empty());
}

TEST_CASE("runbook serve refuses a runbook with confirm: steps unless auto_approve is true" *
          doctest::timeout(90)) {
  TempDir dir;
  dir.write("asks.yaml",
            "version: 1\nname: asks\nsteps:\n"
            "  - id: risky\n    confirm: \"really restart?\"\n    run: echo approved\n");
  ServeProcess server(dir, write_serve_config(dir));
  INFO(server.log());
  for (const std::string& body :
       {std::string(R"({"runbook": "asks.yaml"})"),
        std::string(R"({"runbook": "asks.yaml", "auto_approve": false})")}) {
    CAPTURE(body);
    HttpAnswer a = server.request("POST", "/v1/runs", body);
    CHECK(a.status == 400);
    CHECK(json_string(a.body, "error").find("auto_approve") != std::string::npos);
  }
  CHECK(history_runs(dir).empty());

  std::string id = server.start_run(R"({"runbook": "asks.yaml", "auto_approve": true})");
  CHECK(server.wait_for_state(id, {"succeeded", "failed", "cancelled"}) == "succeeded");
}

TEST_CASE("runbook serve answers 413 to a body over 1 MiB" * doctest::timeout(60)) {
  TempDir dir;
  ServeProcess server(dir, hello_config(dir));
  INFO(server.log());
  std::string body = R"({"runbook": "hello.yaml", "params": {"name": ")" +
                     std::string((1 << 20) + 16, 'a') + "\"}}";
  HttpAnswer a = server.request("POST", "/v1/runs", body);
  CHECK(a.status == 413);
  CHECK(history_runs(dir).empty());
  // The server is still there for the next request.
  CHECK(server.request("GET", "/healthz").status == 200);
}

TEST_CASE("a run posted to runbook serve is queued, then succeeds, recorded with trigger api" *
          doctest::timeout(90)) {
  TempDir dir;
  ServeProcess server(dir, hello_config(dir));
  INFO(server.log());

  HttpAnswer posted =
      server.request("POST", "/v1/runs", R"({"runbook": "hello.yaml", "params": {"name": "ops"}})");
  INFO(posted.body);
  REQUIRE(posted.status == 202);
  CHECK(posted.headers["content-type"].rfind("application/json", 0) == 0);
  const std::string id = json_string(posted.body, "run_id");
  REQUIRE_FALSE(id.empty());
  CHECK(json_string(posted.body, "state") == "queued");

  CHECK(server.wait_for_state(id, {"succeeded", "failed", "rollback_failed", "cancelled"}) ==
        "succeeded");
  HttpAnswer got = server.request("GET", "/v1/runs/" + id);
  CHECK(got.status == 200);
  CHECK(json_string(got.body, "id") == id);
  CHECK(json_string(got.body, "runbook") == "hello");
  CHECK(json_string(got.body, "trigger") == "api");

  const std::string show = shown_run(dir, id);
  INFO(show);
  CHECK(json_string(show, "state") == "succeeded");
  CHECK(json_string(show, "trigger") == "api");
  CHECK(json_string(show, "params.name") == "ops");
  Finished logs = run_cli(dir, {"logs", id, "greet"});
  CHECK(logs.output.find("hi ops") != std::string::npos);
}

TEST_CASE("a run of runbook serve is in a session of its own, without the server's terminal" *
          doctest::timeout(90)) {
  TempDir dir;
  // Field 6 of /proc/PID/stat is the session id (the shell's name has no space).
  dir.write("session.yaml",
            "version: 1\nname: session\nsteps:\n  - id: sid\n"
            "    run: cut -d' ' -f6 /proc/$$/stat > " +
                (dir / "sid") + "\n");
  ServeProcess server(dir, write_serve_config(dir));
  INFO(server.log());
  const std::string id = server.start_run(R"({"runbook": "session"})");
  REQUIRE(server.wait_for_state(id, {"succeeded", "failed", "rollback_failed", "cancelled"}) ==
          "succeeded");
  const int step_session = std::atoi(read_file(dir / "sid").c_str());
  CHECK(step_session > 0);
  CHECK(step_session != ::getsid(server.pid()));
}

TEST_CASE("a failing run posted to runbook serve ends failed" * doctest::timeout(90)) {
  TempDir dir;
  dir.write("fails.yaml",
            "version: 1\nname: fails\nsteps:\n"
            "  - id: broken\n    run: echo going down; exit 3\n");
  ServeProcess server(dir, write_serve_config(dir));
  INFO(server.log());
  const std::string id = server.start_run(R"({"runbook": "fails"})");
  CHECK(server.wait_for_state(id, {"succeeded", "failed", "rollback_failed", "cancelled"}) ==
        "failed");
  std::vector<std::string> runs = history_runs(dir);
  CHECK(count_runs(runs, {{"id", id}, {"state", "failed"}, {"trigger", "api"}}) == 1);
}

TEST_CASE("runbook serve answers 503 when its queue is full and lists running and queued runs" *
          doctest::timeout(120)) {
  TempDir dir;
  const std::string seconds = std::to_string(unique_token());
  dir.write("nap.yaml", sleeper("nap", seconds));
  ServeProcess server(dir, write_serve_config(dir,
                                              "max_concurrent_runs: 1\nqueue_limit: 1\n"
                                              "shutdown_grace: 1s\n"));
  INFO(server.log());

  const std::string first = server.start_running(R"({"runbook": "nap.yaml"})");
  const std::string second = server.start_run(R"({"runbook": "nap.yaml"})");
  HttpAnswer full = server.request("POST", "/v1/runs", R"({"runbook": "nap.yaml"})");
  INFO(full.body);
  CHECK(full.status == 503);
  CHECK(json_string(full.body, "error").find("queue full") != std::string::npos);
  CHECK_FALSE(full.headers["retry-after"].empty());

  // The queued run, one by one and in the list (newest first).
  HttpAnswer queued = server.request("GET", "/v1/runs/" + second);
  CHECK(queued.status == 200);
  CHECK(json_string(queued.body, "id") == second);
  CHECK(json_string(queued.body, "state") == "queued");
  HttpAnswer list = server.request("GET", "/v1/runs");
  CHECK(list.status == 200);
  std::vector<std::string> runs = json_array(list.body);
  REQUIRE(runs.size() == 2);
  CHECK(json_string(runs[0], "id") == second);
  CHECK(json_string(runs[0], "state") == "queued");
  CHECK(json_string(runs[1], "id") == first);
  CHECK(json_string(runs[1], "state") == "running");
  std::vector<std::string> only_queued =
      json_array(server.request("GET", "/v1/runs?state=queued").body);
  REQUIRE(only_queued.size() == 1);
  CHECK(json_string(only_queued[0], "id") == second);
  CHECK(json_array(server.request("GET", "/v1/runs?limit=1").body).size() == 1);
  CHECK(json_array(server.request("GET", "/v1/runs?runbook=other").body).empty());

  HttpAnswer health = server.request("GET", "/healthz");
  CHECK(json_member(health.body, "running") == "1");
  CHECK(json_member(health.body, "queued") == "1");
  MetricsText metrics = server.metrics();
  CHECK(metrics.value("runbook_runs_running") == 1);
  CHECK(metrics.value("runbook_queue_depth") == 1);
  CHECK(metrics.value("runbook_http_requests_total", {{"route", "/v1/runs"}, {"code", "503"}}) ==
        1);

  server.signal(SIGTERM);
  CHECK(server.wait(60s) == 0);
  CHECK(none_left("sleep " + seconds));
}

TEST_CASE("runbook serve's /metrics has HELP and TYPE for every family and counts a run" *
          doctest::timeout(90)) {
  TempDir dir;
  ServeProcess server(dir, hello_config(dir));
  INFO(server.log());
  const std::string id = server.start_run(R"({"runbook": "hello.yaml"})");
  REQUIRE(server.wait_for_state(id, {"succeeded", "failed"}) == "succeeded");

  const std::map<std::string, std::string> succeeded{{"runbook", "hello"}, {"state", "succeeded"}};
  // The history row may be written a moment before the server sees the run end.
  CHECK(eventually([&] { return server.metrics().value("runbook_runs_total", succeeded) == 1; },
                   20s));
  HttpAnswer a = server.request("GET", "/metrics");
  REQUIRE(a.status == 200);
  CHECK(a.headers["content-type"].rfind("text/plain; version=0.0.4", 0) == 0);
  MetricsText m = parse_metrics(a.body);
  INFO(a.body);
  CHECK(m.bad_lines.empty());
  CHECK_FALSE(m.samples.empty());
  for (const MetricSample& s : m.samples) {
    CAPTURE(s.name);
    CHECK(s.name.rfind("runbook_", 0) == 0);
    const std::string family = m.family_of(s.name);
    CHECK(m.help.count(family) == 1);
    CHECK(m.type.count(family) == 1);
  }
  CHECK(m.type["runbook_runs_total"] == "counter");
  CHECK(m.type["runbook_runs_running"] == "gauge");
  CHECK(m.type["runbook_queue_depth"] == "gauge");
  CHECK(m.type["runbook_step_duration_seconds"] == "histogram");
  CHECK(m.value("runbook_up") == 1);
  CHECK(m.value("runbook_runs_total", succeeded) == 1);
  CHECK_FALSE(
      m.value("runbook_runs_total", {{"runbook", "hello"}, {"state", "failed"}}).value_or(0) > 0);
  CHECK(m.value("runbook_runs_running") == 0);
  CHECK(m.value("runbook_step_duration_seconds_count", {{"runbook", "hello"}}) >= 1);
  CHECK(m.value("runbook_step_duration_seconds_bucket", {{"runbook", "hello"}, {"le", "+Inf"}}) ==
        m.value("runbook_step_duration_seconds_count", {{"runbook", "hello"}}));
  CHECK(m.value("runbook_http_requests_total", {{"route", "/v1/runs"}, {"code", "202"}}) == 1);
  CHECK(m.value("runbook_config_reloads_total", {{"result", "ok"}}).value_or(0) == 0);
}

TEST_CASE("runbook serve answers 404 to unknown paths and runs and 405 to wrong methods" *
          doctest::timeout(60)) {
  TempDir dir;
  ServeProcess server(dir, write_serve_config(dir));
  INFO(server.log());
  for (const char* target : {"/", "/nope", "/v1", "/v1/runsx", "/v1/runs/a/b"}) {
    CAPTURE(target);
    CHECK(server.request("GET", target).status == 404);
  }
  HttpAnswer unknown = server.request("GET", "/v1/runs/20260101-000000-0000");
  CHECK(unknown.status == 404);
  CHECK_FALSE(json_string(unknown.body, "error").empty());

  struct Case {
    std::string method, target;
  };
  for (const Case& c :
       {Case{"DELETE", "/v1/runs"}, Case{"PUT", "/v1/runs"}, Case{"POST", "/healthz"},
        Case{"POST", "/metrics"}, Case{"DELETE", "/v1/runs/20260101-000000-0000"}}) {
    CAPTURE(c.method);
    CAPTURE(c.target);
    CHECK(server.request(c.method, c.target, "{}").status == 405);
  }
}
