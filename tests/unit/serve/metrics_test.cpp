#include <doctest/doctest.h>

#include <map>
#include <sstream>
#include <string>

#include "serve/metrics.hpp"

using runbook::RunState;
using runbook::serve::escape_label_value;
using runbook::serve::Metrics;
using runbook::serve::MetricsGauges;

namespace {

// Every sample line of a text exposition: "name{labels}" -> value.
std::map<std::string, std::string> samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    REQUIRE(space != std::string::npos);
    out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

}  // namespace

TEST_CASE("metrics: every family has HELP and TYPE, and names start with runbook_") {
  Metrics m;
  m.run_ended("hello", RunState::succeeded);
  m.step_ended("hello", 0.2);
  m.schedule_fired("nightly", "skipped");
  m.http_request("/v1/runs", 202);
  std::string text = m.render(MetricsGauges{});
  std::istringstream in(text);
  std::map<std::string, int> help, type;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# HELP ", 0) == 0) ++help[line.substr(7, line.find(' ', 7) - 7)];
    if (line.rfind("# TYPE ", 0) == 0) ++type[line.substr(7, line.find(' ', 7) - 7)];
    if (!line.empty() && line[0] != '#') CHECK(line.rfind("runbook_", 0) == 0);
  }
  for (const char* family :
       {"runbook_up", "runbook_runs_total", "runbook_runs_running", "runbook_queue_depth",
        "runbook_step_duration_seconds", "runbook_schedule_fires_total",
        "runbook_http_requests_total", "runbook_config_reloads_total"}) {
    CHECK_MESSAGE(help[family] == 1, family);
    CHECK_MESSAGE(type[family] == 1, family);
  }
}

TEST_CASE("metrics: counters by label, gauges from the queue") {
  Metrics m;
  m.run_ended("hello", RunState::succeeded);
  m.run_ended("hello", RunState::succeeded);
  m.run_ended("hello", RunState::skipped);
  m.run_ended("disk-cleanup", RunState::rollback_failed);
  m.config_reloaded(false);
  MetricsGauges g;
  g.running = 2;
  g.queued = 5;
  auto s = samples(m.render(g));
  CHECK(s[R"(runbook_runs_total{runbook="hello",state="succeeded"})"] == "2");
  CHECK(s[R"(runbook_runs_total{runbook="hello",state="skipped"})"] == "1");
  CHECK(s[R"(runbook_runs_total{runbook="disk-cleanup",state="rollback_failed"})"] == "1");
  CHECK(s["runbook_runs_running"] == "2");
  CHECK(s["runbook_queue_depth"] == "5");
  CHECK(s["runbook_up"] == "1");
  CHECK(s[R"(runbook_config_reloads_total{result="error"})"] == "1");
  CHECK(s[R"(runbook_config_reloads_total{result="ok"})"] == "0");
  g.draining = true;
  CHECK(samples(m.render(g))["runbook_up"] == "0");
}

TEST_CASE("metrics: the step histogram's buckets are cumulative and end with +Inf") {
  Metrics m;
  m.step_ended("hello", 0.05);
  m.step_ended("hello", 0.5);  // on a bound: counted in it
  m.step_ended("hello", 7);
  m.step_ended("hello", 100000);
  auto s = samples(m.render(MetricsGauges{}));
  const std::string b = R"(runbook_step_duration_seconds_bucket{runbook="hello",le=)";
  CHECK(s[b + R"("0.1"})"] == "1");
  CHECK(s[b + R"("0.5"})"] == "2");
  CHECK(s[b + R"("5"})"] == "2");
  CHECK(s[b + R"("10"})"] == "3");
  CHECK(s[b + R"("3600"})"] == "3");
  CHECK(s[b + R"("+Inf"})"] == "4");
  CHECK(s[R"(runbook_step_duration_seconds_count{runbook="hello"})"] == "4");
  CHECK(s[R"(runbook_step_duration_seconds_sum{runbook="hello"})"] == "100007.55");
}

TEST_CASE("metrics: label values are escaped") {
  CHECK(escape_label_value(R"(a"b\c)") == R"(a\"b\\c)");
  CHECK(escape_label_value("line\nnext") == "line\\nnext");
  Metrics m;
  m.run_ended("we\"ird", RunState::failed);
  CHECK(m.render(MetricsGauges{}).find(R"(runbook="we\"ird")") != std::string::npos);
}
