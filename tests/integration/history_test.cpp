// `runbook history`, `show` and `logs` after real runs.

#include <doctest/doctest.h>

#include <string>
#include <thread>

#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

namespace {

std::string first_id(const std::string& json) {
  size_t at = json.find("\"id\":\"");
  if (at == std::string::npos) return "";
  return json.substr(at + 6, json.find('"', at + 6) - at - 6);
}

std::string newest_run_id(const TempDir& dir) {
  return first_id(run_cli(dir, {"history", "--output", "json", "--limit", "1"}).output);
}

// Kills the processes whose command line holds `needle`: what a killed
// engine left behind.
void kill_leftovers(const std::string& needle) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_file(entry.path().string() + "/cmdline");
    for (char& c : cmdline)
      if (c == '\0') c = ' ';
    if (cmdline.find(needle) != std::string::npos) ::kill(std::stoi(name), SIGKILL);
  }
}

}  // namespace

TEST_CASE("show and logs of an unknown run exit 2 and say where they looked" *
          doctest::timeout(30)) {
  TempDir dir;
  auto show = run_cli(dir, {"show", "20260101-000000-0000"});
  CHECK(show.exit_code == 2);
  CHECK(show.output.find("no run 20260101-000000-0000 in ") != std::string::npos);
  CHECK(show.output.find("history.db") != std::string::npos);
  auto logs = run_cli(dir, {"logs", "20260101-000000-0000"});
  CHECK(logs.exit_code == 2);
}

TEST_CASE("history with no runs is empty, as text and as JSON" * doctest::timeout(30)) {
  TempDir dir;
  auto text = run_cli(dir, {"history"});
  CHECK(text.exit_code == 0);
  auto json = run_cli(dir, {"history", "--output", "json"});
  CHECK(json.exit_code == 0);
  CHECK(json.output == "[]\n");
}

// ---- with the sinks wired into `runbook run` ----

TEST_CASE("a finished run is in history, show and logs" * doctest::timeout(60)) {
  TempDir dir;
  std::string count = dir / "count";
  std::string runbook =
      dir.write("rb.yaml",
                "version: 1\nname: recorded\nsteps:\n"
                "  - id: flaky\n    run: echo try >> " +
                    count + "; echo attempt-$(wc -l < " + count + "); [ $(wc -l < " + count +
                    ") -ge 2 ]\n"
                    "    retry: {attempts: 3}\n"
                    "  - id: last\n    needs: [flaky]\n    run: echo the-end\n");
  auto run = run_cli(dir, {"run", runbook});
  REQUIRE(run.exit_code == 0);

  auto history = run_cli(dir, {"history", "--output", "json"});
  CHECK(history.exit_code == 0);
  CHECK(history.output.find("\"runbook\":\"recorded\"") != std::string::npos);
  CHECK(history.output.find("\"state\":\"succeeded\"") != std::string::npos);
  CHECK(history.output.find("\"trigger\":\"cli\"") != std::string::npos);
  CHECK(history.output.find("\"user\":") != std::string::npos);
  std::string id = first_id(history.output);
  REQUIRE_FALSE(id.empty());

  auto text = run_cli(dir, {"history"});
  CHECK(text.output.find(id) != std::string::npos);
  CHECK(run_cli(dir, {"history", "--runbook", "other", "--output", "json"}).output == "[]\n");

  auto show = run_cli(dir, {"show", id, "--output", "json"});
  CHECK(show.exit_code == 0);
  CHECK(show.output.find("\"params\":{") != std::string::npos);
  CHECK(show.output.find("\"id\":\"flaky\"") != std::string::npos);
  CHECK(show.output.find("\"attempts\":[{\"attempt\":1,\"state\":\"failed\"") != std::string::npos);
  CHECK(show.output.find("{\"attempt\":2,\"state\":\"succeeded\"") != std::string::npos);
  CHECK(show.output.find("\"rollback\":{\"state\":\"none\"}") != std::string::npos);
  auto show_text = run_cli(dir, {"show", id});
  CHECK(show_text.exit_code == 0);
  CHECK(show_text.output.find("flaky") != std::string::npos);

  auto logs = run_cli(dir, {"logs", id, "last"});
  CHECK(logs.exit_code == 0);
  CHECK(logs.output.find("the-end") != std::string::npos);
  CHECK(logs.output.find("attempt-") == std::string::npos);
  auto all = run_cli(dir, {"logs", id});
  CHECK(all.output.find("==> step flaky") != std::string::npos);
  CHECK(all.output.find("attempt-2") != std::string::npos);
  CHECK(all.output.find("==> step last") != std::string::npos);
  CHECK(all.output.find("attempt-2") < all.output.find("the-end"));
  auto unknown_step = run_cli(dir, {"logs", id, "nope"});
  CHECK(unknown_step.exit_code == 2);
}

TEST_CASE("show lists each step's outputs, secrets masked, and reads an older database" *
          doctest::timeout(60)) {
  TempDir dir;
  std::string runbook = dir.write("rb.yaml", R"(version: 1
name: outputs
params:
  token: {type: secret, default: hunter2-secret}
steps:
  - id: make
    run: |
      echo "version=1.4.2" >> "$RUNBOOK_OUTPUT"
      echo "auth=${{ params.token }}" >> "$RUNBOOK_OUTPUT"
  - id: plain
    needs: [make]
    run: echo none
)");
  auto run = run_cli(dir, {"run", runbook, "--output", "json"});
  REQUIRE(run.exit_code == 0);
  CHECK(run.output.find("\"outputs\":{\"auth\":\"***\",\"version\":\"1.4.2\"}") !=
        std::string::npos);
  std::string id = first_id(run_cli(dir, {"history", "--output", "json"}).output);
  auto show = run_cli(dir, {"show", id, "--output", "json"});
  INFO(show.output);
  CHECK(show.output.find("\"outputs\":{\"auth\":\"***\",\"version\":\"1.4.2\"}") !=
        std::string::npos);
  CHECK(show.output.find("\"id\":\"plain\"") != std::string::npos);
  CHECK(show.output.find("\"outputs\":{}") != std::string::npos);
  CHECK(show.output.find("hunter2") == std::string::npos);
  auto text = run_cli(dir, {"show", id});
  CHECK(text.output.find("outputs {\"auth\":\"***\",\"version\":\"1.4.2\"}") != std::string::npos);

  // A database written before steps had outputs gains the column when read.
  std::string db = dir / "state/history.db";
  REQUIRE(std::system(("python3 -c \"import sqlite3; c = sqlite3.connect('" + db +
                       "'); c.execute('ALTER TABLE steps DROP COLUMN outputs'); c.commit()\"")
                          .c_str()) == 0);
  auto old = run_cli(dir, {"show", id, "--output", "json"});
  CHECK(old.exit_code == 0);
  CHECK(old.output.find("\"id\":\"make\"") != std::string::npos);
}

TEST_CASE("logs --follow prints a running step's lines until the run ends" * doctest::timeout(60)) {
  TempDir dir;
  std::string started = dir / "started";
  std::string runbook =
      dir.write("rb.yaml",
                "version: 1\nname: slow\nsteps:\n"
                "  - id: talk\n    run: touch " +
                    started + "; for i in 1 2 3 4; do echo line-$i; sleep 0.3; done\n");
  Background run({"run", runbook}, dir / "run.txt", {{"RUNBOOK_STATE_DIR", dir / "state"}});
  REQUIRE(wait_for_file(started, 10s));
  std::string id;
  for (int i = 0; i < 50 && id.empty(); ++i) {
    id = newest_run_id(dir);
    if (id.empty()) std::this_thread::sleep_for(100ms);
  }
  REQUIRE_FALSE(id.empty());
  auto follow = run_cli(dir, {"logs", "--follow", id, "talk"}, 20s);
  CHECK(follow.exit_code == 0);
  CHECK(follow.output.find("line-1") != std::string::npos);
  CHECK(follow.output.find("line-4") != std::string::npos);
  CHECK(run.wait(10s) == 0);
}

TEST_CASE("a run whose engine was killed shows as engine gone" * doctest::timeout(60)) {
  TempDir dir;
  std::string started = dir / "started";
  std::string sleeper = "sleep 3" + std::to_string(unique_token());
  std::string runbook = dir.write("rb.yaml",
                                  "version: 1\nname: doomed\nsteps:\n"
                                  "  - id: wait\n    run: touch " +
                                      started + "; " + sleeper + "\n");
  Background run({"run", runbook}, dir / "run.txt", {{"RUNBOOK_STATE_DIR", dir / "state"}});
  REQUIRE(wait_for_file(started, 10s));
  std::this_thread::sleep_for(200ms);
  run.signal(SIGKILL);
  run.wait(5s);
  kill_leftovers(sleeper);

  auto text = run_cli(dir, {"history"});
  CHECK(text.output.find("running (engine gone: resume with runbook resume ") != std::string::npos);
  auto json = run_cli(dir, {"history", "--output", "json"});
  CHECK(json.output.find("\"engine_gone\":true") != std::string::npos);
  auto gone = run_cli(dir, {"history", "--status", "engine_gone", "--output", "json"});
  CHECK(first_id(gone.output) == first_id(json.output));
}

TEST_CASE("history --prune deletes ended runs and their logs" * doctest::timeout(60)) {
  TempDir dir;
  std::string runbook =
      dir.write("rb.yaml", "version: 1\nname: short\nsteps:\n  - id: a\n    run: echo hi\n");
  REQUIRE(run_cli(dir, {"run", runbook}).exit_code == 0);
  std::string id = newest_run_id(dir);
  REQUIRE_FALSE(id.empty());
  CHECK(run_cli(dir, {"history", "--prune", "1"}).output.find("pruned 0 runs") !=
        std::string::npos);
  std::this_thread::sleep_for(10ms);
  auto prune = run_cli(dir, {"history", "--prune", "0"});
  CHECK(prune.exit_code == 0);
  CHECK(prune.output.find("pruned 1 run") != std::string::npos);
  CHECK(run_cli(dir, {"show", id}).exit_code == 2);
  CHECK_FALSE(file_exists(dir / ("state/runs/" + id)));
}
