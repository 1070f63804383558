// What happens when things go wrong: rollback order, failing rollbacks,
// on_failure: stop, hooks, confirmation and signals during rollback.

#include <doctest/doctest.h>

#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

TEST_CASE("when step 3 of a chain fails, the rollbacks of 3, 2 and 1 run in that order" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string log = dir / "log.txt";
  std::string rb = "version: 1\nname: chain\nsteps:\n";
  for (int i = 1; i <= 4; ++i) {
    std::string id = "s" + std::to_string(i);
    rb += "  - id: " + id + "\n";
    if (i > 1) rb += "    needs: [s" + std::to_string(i - 1) + "]\n";
    rb += "    run: echo do " + id + " >> " + log + (i == 3 ? "; exit 1" : "") + "\n";
    rb += "    rollback: echo undo " + id + " >> " + log + "\n";
  }
  auto f = run_cli(dir, {"run", dir.write("rb.yaml", rb)});
  CHECK(f.exit_code == 1);
  CHECK(read_file(log) == "do s1\ndo s2\ndo s3\nundo s3\nundo s2\nundo s1\n");
}

TEST_CASE("when one branch of a diamond fails, the other is stopped and both are rolled back" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string log = dir / "log.txt";
  std::string rb =
      "version: 1\nname: diamond\nsteps:\n"
      "  - id: top\n    run: echo do top >> " +
      log +
      "\n"
      "    rollback: echo undo top >> " +
      log +
      "\n"
      "  - id: left\n    needs: [top]\n"
      "    run: echo do left >> " +
      log +
      "; sleep 30\n"
      "    kill_grace: 1s\n"
      "    rollback: echo undo left >> " +
      log +
      "\n"
      "  - id: right\n    needs: [top]\n"
      "    run: sleep 0.3; echo do right >> " +
      log +
      "; exit 1\n"
      "    rollback: echo undo right >> " +
      log +
      "\n"
      "  - id: bottom\n    needs: [left, right]\n    run: echo do bottom >> " +
      log +
      "\n"
      "    rollback: echo undo bottom >> " +
      log + "\n";
  auto f = run_cli(dir, {"run", dir.write("rb.yaml", rb)});
  CHECK(f.exit_code == 1);
  CHECK(f.seconds < 10);
  std::string got = read_file(log);
  // left and right started in file order (left first); undo is newest first.
  CHECK(got.find("undo right\nundo left\nundo top\n") != std::string::npos);
  CHECK(got.find("bottom") == std::string::npos);
  CHECK(f.output.find("cancelled") != std::string::npos);
}

TEST_CASE("a failing rollback does not stop the others and the run ends rollback_failed" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string log = dir / "log.txt";
  std::string rb =
      "version: 1\nname: rbf\nsteps:\n"
      "  - id: a\n    run: 'true'\n    rollback: echo undo a >> " +
      log +
      "\n"
      "  - id: b\n    needs: [a]\n    run: 'true'\n"
      "    rollback: {run: 'echo undo b >> " +
      log +
      "; exit 7', retry: {attempts: 2}}\n"
      "  - id: c\n    needs: [b]\n    run: exit 1\n";
  auto f = run_cli(dir, {"run", dir.write("rb.yaml", rb)});
  CHECK(f.exit_code == 3);
  CHECK(read_file(log) == "undo b\nundo b\nundo a\n");
  CHECK(f.output.find("rollback FAILED for: b") != std::string::npos);
  CHECK(f.output.find("a person must look") != std::string::npos);
}

TEST_CASE("on_failure: stop rolls nothing back and says how to do it later" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string log = dir / "log.txt";
  std::string rb =
      "version: 1\nname: stop\non_failure: stop\nsteps:\n"
      "  - id: a\n    run: 'true'\n    rollback: echo undo a >> " +
      log +
      "\n"
      "  - id: b\n    needs: [a]\n    run: exit 1\n";
  auto f = run_cli(dir, {"run", dir.write("rb.yaml", rb)});
  CHECK(f.exit_code == 1);
  CHECK_FALSE(file_exists(log));
  CHECK(f.output.find("nothing was rolled back") != std::string::npos);
  CHECK(f.output.find("runbook rollback ") != std::string::npos);
}

TEST_CASE("hooks run after the graph and the rollback: on_success or on_failure, then finally" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string log = dir / "log.txt";
  auto runbook = [&](bool fail) {
    return "version: 1\nname: hooks\nsteps:\n"
           "  - id: a\n    run: echo do a >> " +
           log + (fail ? "; exit 1" : "") +
           "\n"
           "    rollback: echo undo a >> " +
           log +
           "\n"
           "hooks:\n"
           "  on_success:\n    - id: yay\n      run: echo on_success >> " +
           log +
           "\n"
           "  on_failure:\n    - id: page\n      run: echo on_failure >> " +
           log +
           "; exit 2\n"
           "  finally:\n    - id: tidy\n      run: echo finally >> " +
           log + "\n";
  };
  SUBCASE("success") {
    auto f = run_cli(dir, {"run", dir.write("rb.yaml", runbook(false))});
    CHECK(f.exit_code == 0);
    CHECK(read_file(log) == "do a\non_success\nfinally\n");
  }
  SUBCASE("failure: a failing hook is a warning and does not change the state") {
    auto f = run_cli(dir, {"run", dir.write("rb.yaml", runbook(true))});
    CHECK(f.exit_code == 1);
    CHECK(read_file(log) == "do a\nundo a\non_failure\nfinally\n");
    CHECK(f.output.find("warning: hook 'page'") != std::string::npos);
  }
}

TEST_CASE("a runbook that asks for confirmation is refused without a terminal or --yes" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml",
                             "version: 1\nname: ask\nsteps:\n"
                             "  - id: a\n    run: touch " +
                                 (dir / "a") +
                                 "\n"
                                 "  - id: danger\n    needs: [a]\n    confirm: Really?\n"
                                 "    run: touch " +
                                 (dir / "danger") + "\n");
  auto refused = run_cli(dir, {"run", rb});
  CHECK(refused.exit_code == 2);
  CHECK(refused.output.find("danger") != std::string::npos);
  CHECK_FALSE(file_exists(dir / "a"));
  auto yes = run_cli(dir, {"run", "--yes", rb});
  CHECK(yes.exit_code == 0);
  CHECK(file_exists(dir / "danger"));
}

TEST_CASE("--yes records the question it answered with its templates filled in" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml", R"(version: 1
name: ask
params:
  unit: {type: string, default: nginx}
steps:
  - id: restart
    confirm: "Restart ${{ params.unit }} now?"
    run: "true"
)");
  auto f = run_cli(dir, {"run", "--yes", rb, "-p", "unit=web"});
  INFO(f.output);
  CHECK(f.exit_code == 0);
  CHECK(f.output.find("yes (--yes): Restart web now?") != std::string::npos);
}

namespace {

// Runs `runbook run FILE` on a pseudo-terminal (util-linux `script`) with
// `answer` typed at the prompt.
Finished run_on_pty(const TempDir& dir, const std::string& runbook, const std::string& answer) {
  std::string cmd = "printf '" + answer + "\\n' | RUNBOOK_STATE_DIR=" + (dir / "state") +
                    " NO_COLOR=1 script -qefc '" + std::string(RUNBOOK_BINARY) + " run " + runbook +
                    "' /dev/null > " + (dir / "pty.txt") + " 2>&1";
  Finished f;
  int status = std::system(cmd.c_str());
  f.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  f.output = read_file(dir / "pty.txt");
  return f;
}

}  // namespace

TEST_CASE("confirmation asked on a terminal: yes runs the step, no cancels and rolls back" *
          doctest::timeout(30)) {
  if (std::system("command -v script > /dev/null") != 0) {
    MESSAGE("util-linux script is missing; skipped");
    return;
  }
  TempDir dir;
  std::string log = dir / "log.txt";
  std::string rb = dir.write("rb.yaml",
                             "version: 1\nname: ask\nsteps:\n"
                             "  - id: a\n    run: echo do a >> " +
                                 log +
                                 "\n"
                                 "    rollback: echo undo a >> " +
                                 log +
                                 "\n"
                                 "  - id: danger\n    needs: [a]\n    confirm: Really do it?\n"
                                 "    run: echo do danger >> " +
                                 log + "\n");
  SUBCASE("yes") {
    auto f = run_on_pty(dir, rb, "y");
    CHECK(f.output.find("Really do it? [y/N]") != std::string::npos);
    CHECK(f.exit_code == 0);
    CHECK(read_file(log) == "do a\ndo danger\n");
  }
  SUBCASE("no") {
    auto f = run_on_pty(dir, rb, "n");
    CHECK(f.exit_code == 130);
    CHECK(read_file(log) == "do a\nundo a\n");
  }
}

TEST_CASE("Ctrl-C during rollback lets it go on; a second one stops it at once" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string log = dir / "log.txt";
  std::string marker = dir / "rolling";
  std::string rb = dir.write("rb.yaml",
                             "version: 1\nname: rb\nsteps:\n"
                             "  - id: a\n    run: 'true'\n    rollback: echo undo a >> " +
                                 log +
                                 "\n"
                                 "  - id: b\n    needs: [a]\n    run: 'true'\n"
                                 "    rollback: 'touch " +
                                 marker + "; sleep 1; echo undo b >> " + log +
                                 "'\n"
                                 "  - id: c\n    needs: [b]\n    run: exit 1\n");
  SUBCASE("one Ctrl-C: every rollback still runs") {
    Background bg({"run", rb}, dir / "out.txt", {{"RUNBOOK_STATE_DIR", dir / "state"}});
    REQUIRE(wait_for_file(marker, 10s));
    bg.signal(SIGINT);
    CHECK(bg.wait(10s) == 1);
    CHECK(read_file(log) == "undo b\nundo a\n");
  }
  SUBCASE("two: stops at once, the rest did not run, rollback_failed") {
    Background bg({"run", rb}, dir / "out.txt", {{"RUNBOOK_STATE_DIR", dir / "state"}});
    REQUIRE(wait_for_file(marker, 10s));
    bg.signal(SIGINT);
    std::this_thread::sleep_for(100ms);
    bg.signal(SIGINT);
    CHECK(bg.wait(10s) == 3);
    CHECK_FALSE(file_exists(log));
    CHECK(read_file(dir / "out.txt").find("did not run") != std::string::npos);
  }
}
