// `lock:` across processes: a second run with the same key is refused with
// exit 75 naming the holder, or waits with --lock-wait.

#include <doctest/doctest.h>

#include <string>

#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

namespace {

// A runbook holding lock `key`: its step marks `started`, then sleeps.
std::string locked_runbook(const TempDir& dir, const std::string& file, const std::string& key,
                           const std::string& started, const std::string& sleep) {
  return dir.write(file, "version: 1\nname: locked\nlock: " + key +
                             "\nsteps:\n"
                             "  - id: hold\n    run: touch " +
                             started + "; sleep " + sleep + "\n");
}

std::string run_id_in(const std::string& output) {
  // The first run's id, as `run --output json` prints it.
  size_t at = output.find("\"run_id\":\"");
  if (at == std::string::npos) return "";
  return output.substr(at + 10, output.find('"', at + 10) - at - 10);
}

}  // namespace

TEST_CASE("a second run with the same lock key exits 75 and names the holder" *
          doctest::timeout(60)) {
  TempDir dir;
  std::string rb = locked_runbook(dir, "a.yaml", "restart-web", dir / "a-started", "2");
  Background first({"run", "--output", "json", rb}, dir / "first.txt",
                   {{"RUNBOOK_STATE_DIR", dir / "state"}});
  REQUIRE(wait_for_file(dir / "a-started", 10s));

  std::string other = locked_runbook(dir, "b.yaml", "restart-web", dir / "b-started", "0");
  auto second = run_cli(dir, {"run", other});
  CHECK(second.exit_code == 75);
  CHECK(second.output.find("lock 'restart-web' is held by run ") != std::string::npos);
  CHECK(second.output.find("(pid " + std::to_string(first.pid())) != std::string::npos);
  CHECK_FALSE(file_exists(dir / "b-started"));

  CHECK(first.wait(20s) == 0);
  std::string id = run_id_in(read_file(dir / "first.txt"));
  CHECK_FALSE(id.empty());
  CHECK(second.output.find(id) != std::string::npos);
}

TEST_CASE("with --lock-wait the second run waits for the lock and then runs" *
          doctest::timeout(60)) {
  TempDir dir;
  std::string rb = locked_runbook(dir, "a.yaml", "restart-web", dir / "a-started", "1.5");
  Background first({"run", rb}, dir / "first.txt", {{"RUNBOOK_STATE_DIR", dir / "state"}});
  REQUIRE(wait_for_file(dir / "a-started", 10s));

  std::string other = locked_runbook(dir, "b.yaml", "restart-web", dir / "b-started", "0");
  auto second = run_cli(dir, {"run", "--lock-wait", "5s", other});
  CHECK(second.exit_code == 0);
  CHECK(file_exists(dir / "b-started"));
  CHECK(second.seconds >= 0.5);
  CHECK(first.wait(20s) == 0);
}

TEST_CASE("runs with different lock keys run side by side" * doctest::timeout(60)) {
  TempDir dir;
  std::string rb = locked_runbook(dir, "a.yaml", "restart-web", dir / "a-started", "1.5");
  Background first({"run", rb}, dir / "first.txt", {{"RUNBOOK_STATE_DIR", dir / "state"}});
  REQUIRE(wait_for_file(dir / "a-started", 10s));
  std::string other = locked_runbook(dir, "b.yaml", "restart-db", dir / "b-started", "0");
  auto second = run_cli(dir, {"run", other});
  CHECK(second.exit_code == 0);
  CHECK(first.wait(20s) == 0);
}

TEST_CASE("a lock held by a killed run is free again at once" * doctest::timeout(60)) {
  TempDir dir;
  std::string sleeper = std::to_string(30 + unique_token() % 1000) + ".5";
  std::string rb = locked_runbook(dir, "a.yaml", "restart-web", dir / "a-started", sleeper);
  Background first({"run", rb}, dir / "first.txt", {{"RUNBOOK_STATE_DIR", dir / "state"}});
  REQUIRE(wait_for_file(dir / "a-started", 10s));
  first.signal(SIGKILL);
  first.wait(5s);
  // The step itself may outlive an engine killed with SIGKILL; it must not
  // hold the lock (close-on-exec).
  std::string other = locked_runbook(dir, "b.yaml", "restart-web", dir / "b-started", "0");
  auto second = run_cli(dir, {"run", other});
  CHECK(second.exit_code == 0);
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_file(entry.path().string() + "/cmdline");
    for (char& c : cmdline)
      if (c == '\0') c = ' ';
    if (cmdline.find("sleep " + sleeper) != std::string::npos) ::kill(std::stoi(name), SIGKILL);
  }
}
