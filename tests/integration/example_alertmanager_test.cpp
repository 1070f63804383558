// examples/alertmanager/ works as the README's self-healing walkthrough says:
// the remediation runbook is valid, `runbook alerts test` shows what the
// example payload would do, the server started on the example's config runs
// the runbook for the real alert and refuses the one whose label carries a
// shell injection, and `runbook pause` stops it. The example is copied to a
// temporary directory first, so that a walkthrough tried in the source tree
// (its state/ directory) changes nothing here.

#include <doctest/doctest.h>

#include <filesystem>

#include "http_client.hpp"
#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

namespace {

const std::string kExample = std::string(RUNBOOK_SOURCE_DIR) + "/examples/alertmanager";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// The example's server config, runbook and payloads in `dir`, as written.
void copy_example(const TempDir& dir) {
  for (const char* name : {"server.yaml", "disk-full.yaml", "firing.json", "resolved.json"})
    dir.write(name, read_file(kExample + "/" + name));
}

}  // namespace

TEST_CASE("the alertmanager example's receiver posts to the route the example server listens on") {
  const std::string receiver = read_file(kExample + "/alertmanager.yml");
  const std::string server = read_file(kExample + "/server.yaml");
  CHECK(receiver.find("url: http://127.0.0.1:9095/v1/alerts/alertmanager") != std::string::npos);
  CHECK(receiver.find("send_resolved: true") != std::string::npos);
  CHECK(receiver.find("credentials_file:") != std::string::npos);
  CHECK(server.find("listen: 127.0.0.1:9095") != std::string::npos);
  CHECK(server.find("bearer_tokens_file: tokens") != std::string::npos);
  CHECK(read_file(kExample + "/rules.yml").find("alert: DiskFull") != std::string::npos);
}

TEST_CASE("the alertmanager example's runbook is valid and alerts test shows its decisions" *
          doctest::timeout(60)) {
  TempDir dir;
  Finished valid = run_cli(dir, {"validate", kExample + "/disk-full.yaml"});
  INFO(valid.output);
  CHECK(valid.exit_code == 0);

  copy_example(dir);
  Finished test =
      run_cli(dir, {"alerts", "test", "--config", dir / "server.yaml", dir / "firing.json"});
  INFO(test.output);
  CHECK(test.exit_code == 0);
  CHECK(test.output.find("rule disk-full: started") != std::string::npos);
  CHECK(test.output.find(R"("mount":"/tmp/runbook-demo")") != std::string::npos);
  CHECK(test.output.find("rule disk-full: invalid_params") != std::string::npos);
  CHECK(test.output.find("param 'host'") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "state"));  // read, never created

  Finished resolved = run_cli(dir, {"alerts", "test", "--config", dir / "server.yaml", "--output",
                                    "json", dir / "resolved.json"});
  INFO(resolved.output);
  CHECK(resolved.exit_code == 0);
  CHECK(json_string(resolved.output, "alerts.0.decision") == "no_match");  // on: firing
}

TEST_CASE(
    "the alertmanager example's server cleans the disk of a firing alert, refuses an injected "
    "label and stops while paused" *
    doctest::timeout(120)) {
  TempDir dir;
  const std::string demo = dir / "demo";
  std::filesystem::create_directories(demo + "/cache");
  dir.write("demo/cache/old.log", "old\n");
  dir.write("demo/cache/new.log", "new\n");
  const auto ten_days_ago = std::filesystem::file_time_type::clock::now() - 240h;
  std::filesystem::last_write_time(demo + "/cache/old.log", ten_days_ago);

  copy_example(dir);
  // The example's config as written, on a free port, with the tests' token in
  // DIR/tokens; its state_dir is DIR/state, the one run_cli gives the CLI.
  write_serve_config(dir);
  dir.write("server.yaml", replace_all(read_file(kExample + "/server.yaml"),
                                       "listen: 127.0.0.1:9095", "listen: 127.0.0.1:0"));
  const std::string pwned = dir / "pwned";
  const std::string payload =
      replace_all(replace_all(read_file(kExample + "/firing.json"), "/tmp/runbook-demo", demo),
                  "/tmp/pwned", pwned);
  ServeProcess server(dir, dir / "server.yaml");
  INFO(server.log());

  HttpAnswer a = server.request("POST", "/v1/alerts/alertmanager", payload);
  INFO(a.body);
  REQUIRE(a.status == 202);
  CHECK(json_string(a.body, "alerts.0.decision") == "started");
  CHECK(json_string(a.body, "alerts.1.decision") == "invalid_params");
  const std::string id = json_string(a.body, "alerts.0.run_id");
  CHECK(server.wait_for_state(id, {"succeeded", "failed"}) == "succeeded");
  CHECK_FALSE(std::filesystem::exists(demo + "/cache/old.log"));
  CHECK(std::filesystem::exists(demo + "/cache/new.log"));
  CHECK_FALSE(std::filesystem::exists(pwned));

  Finished logs = run_cli(dir, {"logs", id, "clean-cache"});
  INFO(logs.output);
  CHECK(logs.exit_code == 0);
  CHECK(logs.output.find(demo + "/cache/old.log") != std::string::npos);

  // Alertmanager repeats the firing alert: nothing new runs.
  HttpAnswer again = server.request("POST", "/v1/alerts/alertmanager", payload);
  CHECK(json_string(again.body, "alerts.0.decision") == "deduplicated");

  Finished pause = run_cli(dir, {"pause", "--reason", "trying the kill switch"});
  INFO(pause.output);
  CHECK(pause.exit_code == 0);
  HttpAnswer paused = server.request("POST", "/v1/alerts/alertmanager", payload);
  INFO(paused.body);
  CHECK(paused.status == 202);
  CHECK(json_string(paused.body, "alerts.0.decision") == "paused");
  CHECK(json_string(paused.body, "alerts.1.decision") == "paused");
  CHECK(run_cli(dir, {"unpause"}).exit_code == 0);

  server.signal(SIGTERM);
  CHECK(server.wait(60s) == 0);
  CHECK(count_runs(history_runs(dir), {{"trigger", "alert"}}) == 1);
}
