// `runbook audit verify` and `runbook audit tail`, on logs written here and
// by real runs; and a run refusing to start what it cannot audit.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "run_binary.hpp"
#include "run_fixture.hpp"

using namespace runbook_test;
using runbook::testing::run_binary;

namespace {

std::string sha256_of(const std::string& text) {
  auto r = run_binary({"sha256sum"}, {}, text);
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, 64);
}

// A valid audit log of `count` records, built by the rules in store.hpp with
// sha256sum, independently of the engine's writer.
std::vector<std::string> make_chain(int count) {
  std::vector<std::string> lines;
  std::string prev(64, '0');
  for (int seq = 1; seq <= count; ++seq) {
    std::string body = "{\"seq\":" + std::to_string(seq) +
                       ",\"ts\":\"2026-11-21T15:30:12.345Z\",\"run_id\":\"20261121-153012-7f3a\","
                       "\"event\":\"step.ended\",\"user\":\"ops\",\"uid\":1000,\"host\":\"web1\","
                       "\"step_id\":\"s" +
                       std::to_string(seq) + "\",\"state\":\"succeeded\",\"prev\":\"" + prev + "\"";
    std::string line = body + ",\"hash\":\"" + sha256_of(body + "}") + "\"}";
    prev = sha256_of(line);
    lines.push_back(line);
  }
  return lines;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  return text;
}

std::string hello_runbook(const std::string& marker) {
  return "version: 1\nname: hello\nsteps:\n"
         "  - id: greet\n    run: echo hello-$((6*7)); touch " +
         marker +
         "\n"
         "  - id: after\n    needs: [greet]\n    run: echo after\n";
}

// The id of the newest run, from `runbook history --output json`.
std::string newest_run_id(const TempDir& dir) {
  auto h = run_cli(dir, {"history", "--output", "json", "--limit", "1"});
  size_t at = h.output.find("\"id\":\"");
  if (at == std::string::npos) return "";
  return h.output.substr(at + 6, h.output.find('"', at + 6) - at - 6);
}

}  // namespace

TEST_CASE("audit verify exits 2 when the log does not exist" * doctest::timeout(30)) {
  TempDir dir;
  auto f = run_cli(dir, {"audit", "verify", "--file", dir / "none.jsonl"});
  CHECK(f.exit_code == 2);
  CHECK(f.output.find("none.jsonl") != std::string::npos);
}

TEST_CASE("audit verify accepts an intact chain and counts its records" * doctest::timeout(60)) {
  TempDir dir;
  std::string file = dir.write("audit.jsonl", joined(make_chain(4)));
  auto f = run_cli(dir, {"audit", "verify", "--file", file});
  CHECK(f.exit_code == 0);
  CHECK(f.output.find("ok: 4 records") != std::string::npos);
}

TEST_CASE("audit verify names the first edited record and exits 1" * doctest::timeout(60)) {
  TempDir dir;
  std::vector<std::string> lines = make_chain(4);
  lines[2].replace(lines[2].find("\"ops\""), 5, "\"eve\"");
  std::string file = dir.write("audit.jsonl", joined(lines));
  auto f = run_cli(dir, {"audit", "verify", "--file", file});
  CHECK(f.exit_code == 1);
  CHECK(f.output.find("line 3 (seq 3)") != std::string::npos);
  CHECK(f.output.find("hash does not match") != std::string::npos);
}

TEST_CASE("audit verify names a deleted record and a cut-off tail" * doctest::timeout(60)) {
  TempDir dir;
  std::vector<std::string> lines = make_chain(4);
  std::vector<std::string> gap = lines;
  gap.erase(gap.begin() + 1);
  auto f = run_cli(dir, {"audit", "verify", "--file", dir.write("gap.jsonl", joined(gap))});
  CHECK(f.exit_code == 1);
  CHECK(f.output.find("line 2 (seq 3)") != std::string::npos);
  CHECK(f.output.find("missing") != std::string::npos);

  std::string cut = joined(lines);
  cut.resize(cut.size() - 20);
  f = run_cli(dir, {"audit", "verify", "--file", dir.write("cut.jsonl", cut)});
  CHECK(f.exit_code == 1);
  CHECK(f.output.find("line 4 is torn (no newline at the end)") != std::string::npos);
}

TEST_CASE("audit tail prints the latest records of a log, or only one run's" *
          doctest::timeout(60)) {
  TempDir dir;
  std::string file = dir.write("audit.jsonl", joined(make_chain(5)));
  auto f = run_cli(dir, {"audit", "tail", "-n", "2", "--file", file});
  CHECK(f.exit_code == 0);
  CHECK(f.output.find("#4") != std::string::npos);
  CHECK(f.output.find("#5") != std::string::npos);
  CHECK(f.output.find("#3") == std::string::npos);
  CHECK(f.output.find("step s5") != std::string::npos);
  f = run_cli(dir, {"audit", "tail", "--run", "other", "--file", file});
  CHECK(f.exit_code == 0);
  CHECK(f.output.empty());
}

// ---- with the sinks wired into `runbook run` ----

TEST_CASE("a run leaves an audit trail that verifies, with the runbook's SHA-256" *
          doctest::timeout(60)) {
  TempDir dir;
  std::string runbook = dir.write("hello.yaml", hello_runbook(dir / "marker"));
  auto run = run_cli(dir, {"run", runbook});
  REQUIRE(run.exit_code == 0);
  auto verify = run_cli(dir, {"audit", "verify"});
  CHECK(verify.exit_code == 0);
  CHECK(verify.output.find("ok: ") != std::string::npos);

  std::string audit = read_file(dir / "state/audit.jsonl");
  CHECK(audit.find("\"event\":\"run.started\"") != std::string::npos);
  CHECK(audit.find("\"sha256\":\"" + sha256_of(read_file(runbook)) + "\"") != std::string::npos);
  CHECK(audit.find("\"trigger\":\"cli\"") != std::string::npos);
  CHECK(audit.find("\"event\":\"step.started\"") != std::string::npos);
  CHECK(audit.find("\"event\":\"run.ended\"") != std::string::npos);
  CHECK(audit.find("step.output") == std::string::npos);
  CHECK(audit.find("hello-42") == std::string::npos);  // output is in the step log only

  std::string id = newest_run_id(dir);
  REQUIRE_FALSE(id.empty());
  auto tail = run_cli(dir, {"audit", "tail", "--run", id});
  CHECK(tail.exit_code == 0);
  CHECK(tail.output.find("run.started") != std::string::npos);
  CHECK(tail.output.find("step greet") != std::string::npos);
}

TEST_CASE("two runs append to one audit chain" * doctest::timeout(60)) {
  TempDir dir;
  std::string runbook = dir.write("hello.yaml", hello_runbook(dir / "marker"));
  Background a({"run", runbook}, dir / "a.txt", {{"RUNBOOK_STATE_DIR", dir / "state"}});
  Background b({"run", runbook}, dir / "b.txt", {{"RUNBOOK_STATE_DIR", dir / "state"}});
  CHECK(a.wait(std::chrono::seconds(30)) == 0);
  CHECK(b.wait(std::chrono::seconds(30)) == 0);
  auto verify = run_cli(dir, {"audit", "verify"});
  CHECK(verify.exit_code == 0);
}

TEST_CASE("a run whose audit log cannot be written starts no step" * doctest::timeout(60)) {
  TempDir dir;
  // A directory where the log should be: opening it for writing fails, even
  // for root.
  std::filesystem::create_directories(dir / "state/audit.jsonl");
  std::string runbook = dir.write("hello.yaml", hello_runbook(dir / "marker"));
  auto run = run_cli(dir, {"run", runbook});
  CHECK(run.exit_code != 0);
  CHECK(run.output.find("cannot write audit log") != std::string::npos);
  CHECK_FALSE(file_exists(dir / "marker"));
}
