// `runbook rollback RUN_ID` and `runbook resume RUN_ID` from recorded state.

#include <doctest/doctest.h>

#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

namespace {

// The newest run id in the state directory's history.
std::string newest_run(const TempDir& dir) {
  auto f = run_cli(dir, {"history", "--output", "json"});
  size_t at = f.output.find("\"id\":\"");
  if (at == std::string::npos) return "";
  at += 6;
  return f.output.substr(at, f.output.find('"', at) - at);
}

}  // namespace

TEST_CASE("on_failure: stop, then runbook rollback runs the rollbacks newest first, once" *
          doctest::timeout(60)) {
  TempDir dir;
  std::string log = dir / "log.txt";
  std::string rb = dir.write("rb.yaml",
                             "version: 1\nname: stop\non_failure: stop\n"
                             "params: {tag: {type: string}}\nsteps:\n"
                             "  - id: a\n    run: 'true'\n"
                             "    rollback: echo undo a ${{ params.tag }} >> " +
                                 log +
                                 "\n"
                                 "  - id: b\n    needs: [a]\n    run: 'true'\n"
                                 "    rollback: echo undo b >> " +
                                 log +
                                 "\n"
                                 "  - id: c\n    needs: [b]\n    run: exit 1\n");
  auto run = run_cli(dir, {"run", rb, "-p", "tag=t1"});
  REQUIRE(run.exit_code == 1);
  CHECK_FALSE(file_exists(log));
  std::string id = newest_run(dir);
  REQUIRE_FALSE(id.empty());
  CHECK(run.output.find("runbook rollback " + id) != std::string::npos);

  auto no_tty = run_cli(dir, {"rollback", id});
  CHECK(no_tty.exit_code == 2);
  CHECK_FALSE(file_exists(log));

  auto rolled = run_cli(dir, {"rollback", id, "--yes"});
  CHECK(rolled.exit_code == 0);
  CHECK(read_file(log) == "undo b\nundo a t1\n");

  auto again = run_cli(dir, {"rollback", id, "--yes"});
  CHECK(again.exit_code == 2);
  CHECK(again.output.find("already rolled back") != std::string::npos);
  CHECK(read_file(log) == "undo b\nundo a t1\n");
}

TEST_CASE("runbook rollback refuses a run that succeeded and an unknown run" *
          doctest::timeout(30)) {
  TempDir dir;
  auto run = run_cli(dir, {"run", dir.write("rb.yaml",
                                            "version: 1\nname: ok\nsteps:\n"
                                            "  - id: a\n    run: 'true'\n"
                                            "    rollback: 'true'\n")});
  REQUIRE(run.exit_code == 0);
  auto f = run_cli(dir, {"rollback", newest_run(dir), "--yes"});
  CHECK(f.exit_code == 2);
  CHECK(f.output.find("succeeded") != std::string::npos);
  auto unknown = run_cli(dir, {"rollback", "20000101-000000-dead", "--yes"});
  CHECK(unknown.exit_code == 2);
}

TEST_CASE(
    "after kill -9, resume does not run succeeded steps again and asks about the "
    "ambiguous one" *
    doctest::timeout(60)) {
  TempDir dir;
  std::string count = dir / "count.txt";
  std::string marker = dir / "slow-started";
  std::string sleeper = "sleep 3" + std::to_string(unique_token());
  auto runbook = [&](bool idempotent) {
    return "version: 1\nname: crash\nsteps:\n"
           "  - id: first\n    run: echo first >> " +
           count +
           "\n"
           "  - id: slow\n    needs: [first]\n" +
           std::string(idempotent ? "    idempotent: true\n" : "") + "    run: 'echo slow >> " +
           count + "; touch " + marker + "; test -f " + (dir / "go") + " || " + sleeper +
           "'\n"
           "  - id: last\n    needs: [slow]\n    run: echo last >> " +
           count + "\n";
  };
  for (bool idempotent : {false, true}) {
    CAPTURE(idempotent);
    std::filesystem::remove(count);
    std::filesystem::remove(marker);
    std::filesystem::remove(dir / "go");
    std::string rb = dir.write("rb.yaml", runbook(idempotent));
    {
      Background bg({"run", rb}, dir / "out.txt", {{"RUNBOOK_STATE_DIR", dir / "state"}});
      REQUIRE(wait_for_file(marker, 10s));
      bg.signal(SIGKILL);
      bg.wait(5s);
    }
    std::string id = newest_run(dir);
    auto history = run_cli(dir, {"history"});
    CHECK(history.output.find("engine gone") != std::string::npos);
    // The killed engine could not stop its step: resume refuses while that
    // step's processes live, then goes on once they are gone.
    auto busy = run_cli(dir, {"resume", id, "--rerun-ambiguous"});
    CHECK(busy.exit_code == 2);
    CHECK(busy.output.find("still running") != std::string::npos);
    kill_processes(sleeper);
    std::this_thread::sleep_for(200ms);
    std::ofstream(dir / "go") << "";
    if (!idempotent) {
      auto refused = run_cli(dir, {"resume", id});
      CHECK(refused.exit_code == 2);
      CHECK(refused.output.find("slow") != std::string::npos);
      CHECK(refused.output.find("--rerun-ambiguous") != std::string::npos);
      auto resumed = run_cli(dir, {"resume", id, "--rerun-ambiguous"});
      CHECK(resumed.exit_code == 0);
    } else {
      auto resumed = run_cli(dir, {"resume", id});
      CHECK(resumed.exit_code == 0);
    }
    // first ran once; slow twice (once killed); last once.
    CHECK(read_file(count) == "first\nslow\nslow\nlast\n");
    auto show = run_cli(dir, {"show", id, "--output", "json"});
    CHECK(show.output.find("\"state\":\"succeeded\"") != std::string::npos);
  }
}
