// `runbook run` on real processes: parallelism, order, retries, timeouts,
// process trees, signals, output.

#include <doctest/doctest.h>

#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

namespace {

std::string two_sleeps(int max_parallel) {
  return "version: 1\nname: sleeps\nmax_parallel: " + std::to_string(max_parallel) +
         "\nsteps:\n"
         "  - id: a\n    run: sleep 1\n"
         "  - id: b\n    run: sleep 1\n";
}

}  // namespace

TEST_CASE("two one-second steps run side by side with max_parallel 2" * doctest::timeout(30)) {
  TempDir dir;
  auto f = run_cli(dir, {"run", dir.write("rb.yaml", two_sleeps(2))});
  CHECK(f.exit_code == 0);
  CHECK(f.seconds < 1.8);
}

TEST_CASE("two one-second steps run one after the other with max_parallel 1" *
          doctest::timeout(30)) {
  TempDir dir;
  auto f = run_cli(dir, {"run", dir.write("rb.yaml", two_sleeps(1))});
  CHECK(f.exit_code == 0);
  CHECK(f.seconds >= 2.0);
}

TEST_CASE("--max-parallel overrides the runbook's max_parallel" * doctest::timeout(30)) {
  TempDir dir;
  auto f = run_cli(dir, {"run", "--max-parallel", "2", dir.write("rb.yaml", two_sleeps(1))});
  CHECK(f.exit_code == 0);
  CHECK(f.seconds < 1.8);
}

TEST_CASE("steps start only after the steps they need, in dependency order" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string log = dir / "order.txt";
  auto f = run_cli(
      dir, {"run", dir.write("rb.yaml",
                             "version: 1\nname: order\nmax_parallel: 4\nsteps:\n"
                             "  - id: c\n    needs: [b]\n    run: echo c >> " +
                                 log +
                                 "\n"
                                 "  - id: b\n    needs: [a]\n    run: sleep 0.2; echo b >> " +
                                 log +
                                 "\n"
                                 "  - id: a\n    run: sleep 0.2; echo a >> " +
                                 log + "\n")});
  CHECK(f.exit_code == 0);
  CHECK(read_file(log) == "a\nb\nc\n");
}

TEST_CASE("a failing step is retried with backoff and every attempt is counted" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string count = dir / "count.txt";
  auto f =
      run_cli(dir, {"run", dir.write("rb.yaml",
                                     "version: 1\nname: retry\nsteps:\n"
                                     "  - id: flaky\n    run: echo x >> " +
                                         count +
                                         "; exit 1\n"
                                         "    retry: {attempts: 3, delay: 200ms, backoff: 2}\n")});
  CHECK(f.exit_code == 1);
  CHECK(read_file(count) == "x\nx\nx\n");
  // 200ms then 400ms between the three attempts.
  CHECK(f.seconds >= 0.6);
  CHECK(f.seconds < 5.0);
}

TEST_CASE("a step that succeeds on its third attempt succeeds the run" * doctest::timeout(30)) {
  TempDir dir;
  auto f = run_cli(dir, {"run", dir.write("rb.yaml",
                                          "version: 1\nname: retry\nsteps:\n"
                                          "  - id: flaky\n"
                                          "    run: '[ \"$RUNBOOK_ATTEMPT\" -ge 3 ]'\n"
                                          "    retry: {attempts: 5, delay: 10ms}\n")});
  CHECK(f.exit_code == 0);
  CHECK(f.output.find("attempt 2 of 5 failed") != std::string::npos);
}

TEST_CASE("retries limited to exit codes do not retry other codes" * doctest::timeout(30)) {
  TempDir dir;
  std::string count = dir / "count.txt";
  auto f = run_cli(dir, {"run", dir.write("rb.yaml",
                                          "version: 1\nname: retry\nsteps:\n"
                                          "  - id: s\n    run: echo x >> " +
                                              count +
                                              "; exit 3\n"
                                              "    retry: {attempts: 4, exit_codes: [75]}\n")});
  CHECK(f.exit_code == 1);
  CHECK(read_file(count) == "x\n");
}

TEST_CASE("a timed-out attempt is retried only when retry.on includes timeout" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string count = dir / "count.txt";
  std::string body = "    run: echo x >> " + count + "; sleep 5\n    timeout: 200ms\n";
  SUBCASE("not retried by default") {
    auto f = run_cli(dir, {"run", dir.write("rb.yaml", "version: 1\nname: t\nsteps:\n  - id: s\n" +
                                                           body + "    retry: {attempts: 3}\n")});
    CHECK(f.exit_code == 1);
    CHECK(read_file(count) == "x\n");
    CHECK(f.output.find("timed_out") != std::string::npos);
  }
  SUBCASE("retried with on: [timeout]") {
    auto f = run_cli(
        dir, {"run", dir.write("rb.yaml", "version: 1\nname: t\nsteps:\n  - id: s\n" + body +
                                              "    retry: {attempts: 3, on: [timeout]}\n")});
    CHECK(f.exit_code == 1);
    CHECK(read_file(count) == "x\nx\nx\n");
  }
}

TEST_CASE("the deadline caps every attempt and delay of a step" * doctest::timeout(30)) {
  TempDir dir;
  std::string count = dir / "count.txt";
  auto f = run_cli(dir, {"run", dir.write("rb.yaml",
                                          "version: 1\nname: t\nsteps:\n  - id: s\n"
                                          "    run: echo x >> " +
                                              count +
                                              "; sleep 5\n"
                                              "    timeout: 400ms\n    deadline: 1s\n"
                                              "    retry: {attempts: 10, on: [timeout]}\n")});
  CHECK(f.exit_code == 1);
  CHECK(f.seconds < 3.0);
  size_t attempts = read_file(count).size() / 2;
  CHECK(attempts >= 2);
  CHECK(attempts <= 3);
  CHECK(f.output.find("deadline") != std::string::npos);
}

TEST_CASE("a timeout kills the step's whole process tree, setsid children included" *
          doctest::timeout(30)) {
  TempDir dir;
  int token = unique_token();
  std::string a = "sleep 3" + std::to_string(token) + "1";
  std::string b = "sleep 3" + std::to_string(token) + "2";
  auto f = run_cli(dir, {"run", dir.write("rb.yaml",
                                          "version: 1\nname: tree\nsteps:\n  - id: s\n"
                                          "    run: |\n"
                                          "      " +
                                              a +
                                              " &\n"
                                              "      setsid " +
                                              b +
                                              " &\n"
                                              "      wait\n"
                                              "    timeout: 1s\n    kill_grace: 1s\n")});
  CHECK(f.exit_code == 1);
  CHECK(f.seconds < 4.0);
  CHECK(count_processes(a) == 0);
  CHECK(count_processes(b) == 0);
}

TEST_CASE("background processes left by a step that succeeded are stopped with it" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string left = "sleep 4" + std::to_string(unique_token());
  auto f = run_cli(dir, {"run", dir.write("rb.yaml",
                                          "version: 1\nname: bg\nsteps:\n  - id: s\n"
                                          "    run: '(setsid " +
                                              left +
                                              " > /dev/null 2>&1 &); echo started'\n"
                                              "    kill_grace: 500ms\n")});
  CHECK(f.exit_code == 0);
  CHECK(count_processes(left) == 0);
}

TEST_CASE("SIGINT cancels the run, stops its steps and leaves no child" * doctest::timeout(30)) {
  TempDir dir;
  std::string sleeper = "sleep 5" + std::to_string(unique_token());
  std::string marker = dir / "started";
  std::string rb = dir.write("rb.yaml",
                             "version: 1\nname: sig\nsteps:\n  - id: s\n"
                             "    run: 'touch " +
                                 marker + "; " + sleeper +
                                 "'\n"
                                 "  - id: after\n    needs: [s]\n    run: touch " +
                                 (dir / "after") + "\n");
  Background bg({"run", rb}, dir / "out.txt", {{"RUNBOOK_STATE_DIR", dir / "state"}});
  REQUIRE(wait_for_file(marker, 10s));
  std::this_thread::sleep_for(100ms);
  bg.signal(SIGINT);
  CHECK(bg.wait(10s) == 130);
  CHECK(count_processes(sleeper) == 0);
  CHECK_FALSE(file_exists(dir / "after"));
  std::string out = read_file(dir / "out.txt");
  CHECK(out.find("cancelled") != std::string::npos);
}

TEST_CASE("a second SIGINT stops at once, even a step that ignores SIGTERM" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string marker = dir / "started";
  std::string rb = dir.write("rb.yaml",
                             "version: 1\nname: sig\nsteps:\n  - id: s\n"
                             "    run: \"trap '' TERM; touch " +
                                 marker +
                                 "; while true; do sleep 0.1; done\"\n"
                                 "    kill_grace: 60s\n");
  Background bg({"run", rb}, dir / "out.txt", {{"RUNBOOK_STATE_DIR", dir / "state"}});
  REQUIRE(wait_for_file(marker, 10s));
  bg.signal(SIGINT);
  std::this_thread::sleep_for(300ms);
  bg.signal(SIGINT);
  CHECK(bg.wait(5s) == 130);
}

TEST_CASE("a command that cannot start is a clear step failure" * doctest::timeout(30)) {
  TempDir dir;
  SUBCASE("no such binary") {
    auto f = run_cli(dir, {"run", dir.write("rb.yaml",
                                            "version: 1\nname: t\nsteps:\n"
                                            "  - id: s\n    exec: [no-such-binary-x]\n")});
    CHECK(f.exit_code == 1);
    CHECK(f.output.find("command not found: no-such-binary-x") != std::string::npos);
  }
  SUBCASE("bad workdir") {
    auto f = run_cli(dir, {"run", dir.write("rb.yaml",
                                            "version: 1\nname: t\nsteps:\n"
                                            "  - id: s\n    run: pwd\n"
                                            "    workdir: /no/such/dir\n")});
    CHECK(f.exit_code == 1);
    CHECK(f.output.find("/no/such/dir") != std::string::npos);
  }
}

TEST_CASE("steps see the run's variables, the merged env and their workdir" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string out = dir / "env.txt";
  auto f = run_cli(
      dir,
      {"run", dir.write("rb.yaml",
                        "version: 1\nname: envs\nenv: {A: run, B: run}\n"
                        "steps:\n  - id: s\n    workdir: " +
                            dir.path() +
                            "\n"
                            "    env: {B: step}\n"
                            "    run: |\n"
                            "      echo \"$A $B $RUNBOOK_STEP_ID $RUNBOOK_ATTEMPT $(pwd)\" > " +
                            out +
                            "\n"
                            "      test -n \"$RUNBOOK_RUN_ID\" && test -d \"$RUNBOOK_TMP\"\n"
                            "      test -z \"$(cat /dev/stdin)\"\n")});
  CHECK(f.exit_code == 0);
  CHECK(read_file(out) == "run step s 1 " + dir.path() + "\n");
}

TEST_CASE("a step printing a lot of output has it all in its log file" * doctest::timeout(60)) {
  TempDir dir;
  auto f = run_cli(dir, {"run", "--output", "json",
                         dir.write("rb.yaml",
                                   "version: 1\nname: big\nsteps:\n"
                                   "  - id: loud\n    run: seq 1 200000\n")});
  CHECK(f.exit_code == 0);
  std::string state = dir / "state/runs";
  std::string log;
  for (const auto& run : std::filesystem::directory_iterator(state))
    log = read_file(run.path().string() + "/loud.log");
  CHECK(log.find("out| 1\n") != std::string::npos);
  CHECK(log.find("out| 200000\n") != std::string::npos);
}

TEST_CASE("--output json prints one event per line with the run id" * doctest::timeout(30)) {
  TempDir dir;
  auto f = run_cli(dir, {"run", "--output", "json",
                         dir.write("rb.yaml",
                                   "version: 1\nname: j\nsteps:\n"
                                   "  - id: s\n    run: exit 4\n")});
  CHECK(f.exit_code == 1);
  CHECK(f.output.find("{\"event\":\"run.started\"") == 0);
  CHECK(f.output.find("\"event\":\"step.attempt.ended\"") != std::string::npos);
  CHECK(f.output.find("\"exit_code\":4") != std::string::npos);
  CHECK(f.output.find("\"event\":\"run.ended\"") != std::string::npos);
  CHECK(f.output.find("\"state\":\"failed\"") != std::string::npos);
}

TEST_CASE("a failed step stops the run: running steps are stopped, the rest never start" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string slow = "sleep 6" + std::to_string(unique_token());
  auto f = run_cli(dir, {"run", dir.write("rb.yaml",
                                          "version: 1\nname: fail\nsteps:\n"
                                          "  - id: slow\n    run: " +
                                              slow +
                                              "\n    kill_grace: 1s\n"
                                              "  - id: bad\n    run: sleep 0.2; exit 2\n"
                                              "  - id: later\n    needs: [bad]\n    run: touch " +
                                              (dir / "later") + "\n")});
  CHECK(f.exit_code == 1);
  CHECK(f.seconds < 4.0);
  CHECK(count_processes(slow) == 0);
  CHECK_FALSE(file_exists(dir / "later"));
  CHECK(f.output.find("not_run") != std::string::npos);
}

TEST_CASE("allow_failure lets the run go on after a step fails" * doctest::timeout(30)) {
  TempDir dir;
  auto f = run_cli(
      dir, {"run", dir.write("rb.yaml",
                             "version: 1\nname: allow\nsteps:\n"
                             "  - id: meh\n    run: exit 3\n    allow_failure: {exit_codes: [3]}\n"
                             "  - id: next\n    needs: [meh]\n    run: touch " +
                                 (dir / "next") + "\n")});
  CHECK(f.exit_code == 0);
  CHECK(file_exists(dir / "next"));
}

TEST_CASE("--dry-run prints the plan in waves and runs nothing" * doctest::timeout(30)) {
  TempDir dir;
  auto f = run_cli(dir, {"run", "--dry-run",
                         dir.write("rb.yaml",
                                   "version: 1\nname: dry\nsteps:\n"
                                   "  - id: a\n    run: touch " +
                                       (dir / "ran") +
                                       "\n"
                                       "    rollback: echo undo\n"
                                       "  - id: b\n    needs: [a]\n    exec: [echo, hi]\n"
                                       "    timeout: 5s\n")});
  CHECK(f.exit_code == 0);
  CHECK_FALSE(file_exists(dir / "ran"));
  CHECK(f.output.find("wave 1") != std::string::npos);
  CHECK(f.output.find("wave 2") != std::string::npos);
  CHECK(f.output.find("timeout 5s") != std::string::npos);
  CHECK(f.output.find("rollback") != std::string::npos);
}

TEST_CASE("a runbook with errors is refused with exit 2 and nothing runs" * doctest::timeout(30)) {
  TempDir dir;
  auto f = run_cli(dir, {"run", dir.write("rb.yaml",
                                          "version: 1\nname: bad\nsteps:\n"
                                          "  - id: a\n    run: touch " +
                                              (dir / "ran") +
                                              "\n"
                                              "    retires: 3\n")});
  CHECK(f.exit_code == 2);
  CHECK_FALSE(file_exists(dir / "ran"));
}

TEST_CASE("a program put earlier on the PATH during a run is the one later steps get" *
          doctest::timeout(30)) {
  TempDir dir;
  std::filesystem::create_directories(dir / "early");
  std::filesystem::create_directories(dir / "late");
  dir.write("late/which-tool", "#!/bin/sh\necho late >> " + (dir / "ran.txt") + "\n");
  std::filesystem::permissions(dir / "late/which-tool", std::filesystem::perms::owner_all);
  std::string early = dir / "early/which-tool";
  auto f = run_cli(
      dir, {"run", dir.write("rb.yaml",
                             "version: 1\nname: path\nenv:\n  PATH: " + dir.path() +
                                 "/early:" + dir.path() +
                                 "/late:/usr/bin:/bin\nsteps:\n"
                                 "  - id: before\n    exec: [which-tool]\n"
                                 "  - id: install\n    needs: [before]\n"
                                 "    run: printf '#!/bin/sh\\necho early >> " +
                                 (dir / "ran.txt") + "\\n' > " + early + " && chmod +x " + early +
                                 "\n"
                                 "  - id: after\n    needs: [install]\n    exec: [which-tool]\n")});
  CHECK(f.exit_code == 0);
  CHECK(read_file(dir / "ran.txt") == "late\nearly\n");
}
