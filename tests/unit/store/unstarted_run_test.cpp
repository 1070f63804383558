#include <doctest/doctest.h>

#include <string>

#include "runbook/store.hpp"
#include "temp_dir.hpp"

using namespace runbook;
using runbook::store_test::TempDir;

namespace {

UnstartedRun skipped_fire() {
  UnstartedRun run;
  run.run_id = "20261121-030000-aaaa";
  run.runbook_name = "log-cleanup";
  run.runbook_path = "/etc/runbook/runbooks/log-cleanup.yaml";
  run.runbook_sha256 = std::string(64, 'a');
  run.trigger = "cron";
  run.params_json = R"({"path":"/var/log/app","token":"***"})";
  run.state = RunState::skipped;
  run.reason = "run 20261121-025900-bbbb is still going";
  run.schedule = "nightly";
  return run;
}

}  // namespace

TEST_CASE("a run that never started is in history with its state and reason") {
  TempDir dir;
  REQUIRE(record_unstarted_run(dir.path(), skipped_fire()) == "");
  std::string error;
  auto runs = list_runs(dir.path(), RunFilter{}, &error);
  REQUIRE(runs);
  REQUIRE(runs->size() == 1);
  const RunSummary& run = runs->front();
  CHECK(run.id == "20261121-030000-aaaa");
  CHECK(run.state == "skipped");
  CHECK(run.trigger == "cron");
  CHECK(run.message == "run 20261121-025900-bbbb is still going");
  CHECK(run.params_json == R"({"path":"/var/log/app","token":"***"})");
  CHECK(!run.started_at.empty());
  CHECK(run.started_at == run.ended_at);
  CHECK_FALSE(run.engine_gone);

  RunFilter only_skipped;
  only_skipped.state = "skipped";
  CHECK(list_runs(dir.path(), only_skipped, &error)->size() == 1);
}

TEST_CASE("a run that never started is one run.not_started audit record, chain intact") {
  TempDir dir;
  REQUIRE(record_unstarted_run(dir.path(), skipped_fire()) == "");
  UnstartedRun cancelled = skipped_fire();
  cancelled.run_id = "20261121-030000-cccc";
  cancelled.state = RunState::cancelled;
  cancelled.reason = "the server shut down before it started";
  REQUIRE(record_unstarted_run(dir.path(), cancelled) == "");

  std::string error;
  auto entries = tail_audit_log(audit_log_path(dir.path()), 10, "", &error);
  REQUIRE(entries);
  REQUIRE(entries->size() == 2);
  CHECK(entries->at(0).event == "run.not_started");
  CHECK(entries->at(0).state == "skipped");
  CHECK(entries->at(0).trigger == "cron");
  CHECK(entries->at(0).line.find(R"("schedule":"nightly")") != std::string::npos);
  CHECK(entries->at(0).line.find(R"("params":{"path":"/var/log/app","token":"***"})") !=
        std::string::npos);
  CHECK(entries->at(1).state == "cancelled");
  CHECK(verify_audit_log(audit_log_path(dir.path())).outcome == AuditCheck::Outcome::ok);
}

TEST_CASE("a run already in history is not overwritten by a not-started record") {
  TempDir dir;
  UnstartedRun first = skipped_fire();
  first.state = RunState::failed;
  first.reason = "first";
  REQUIRE(record_unstarted_run(dir.path(), first) == "");
  UnstartedRun again = skipped_fire();
  again.reason = "second";
  REQUIRE(record_unstarted_run(dir.path(), again) == "");
  std::string error;
  auto run = load_run(dir.path(), first.run_id, &error);
  REQUIRE(run);
  CHECK(run->state == "failed");
  CHECK(run->message == "first");
}

TEST_CASE("an unwritable audit log is reported and nothing reaches history") {
  TempDir dir;
  UnstartedRun run = skipped_fire();
  std::string state = dir.path() + "/state";
  // A directory where the audit file should be: it cannot be opened for writing.
  std::filesystem::create_directories(state + "/audit.jsonl");
  CHECK(record_unstarted_run(state, run) != "");
  std::string error;
  auto runs = list_runs(state, RunFilter{}, &error);
  CHECK((!runs || runs->empty()));
}
