// `for_each` in runs: one attempt series per item, `${{ item }}` and
// `${{ index }}`, the step's max_parallel, failures, rollback per item, and
// --dry-run.

#include <doctest/doctest.h>

#include <filesystem>

#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

namespace {

// The one run directory under the state directory of `dir`.
std::string only_run_dir(const TempDir& dir) {
  std::string found;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "state/runs"))
    found = entry.path().string();
  return found;
}

std::string three_sleeps(int for_each_parallel) {
  return "version: 1\nname: sleeps\nmax_parallel: 4\nsteps:\n"
         "  - id: nap\n    for_each: [1, 2, 3]\n    max_parallel: " +
         std::to_string(for_each_parallel) + "\n    run: sleep 0.3\n";
}

}  // namespace

TEST_CASE("each item runs once with its item and index, and logs as step-id[index]" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string out = dir / "out.txt";
  auto f = run_cli(dir, {"run", dir.write("rb.yaml",
                                          "version: 1\nname: items\nsteps:\n"
                                          "  - id: greet\n    for_each: [alpha, beta, gamma]\n"
                                          "    max_parallel: 1\n"
                                          "    env: {WHO: '${{ item }}'}\n"
                                          "    run: echo \"${{ index }}=$WHO\" >> " +
                                              out + "; echo \"hello ${{ item }}\"\n")});
  CHECK(f.exit_code == 0);
  CHECK(read_file(out) == "0=alpha\n1=beta\n2=gamma\n");
  CHECK(f.output.find("greet[2]") != std::string::npos);
  std::string run_dir = only_run_dir(dir);
  REQUIRE(file_exists(run_dir + "/greet[1].log"));
  CHECK(read_file(run_dir + "/greet[1].log").find("hello beta") != std::string::npos);
}

TEST_CASE("a for_each with max_parallel 1 runs its items one after the other" *
          doctest::timeout(30)) {
  TempDir dir;
  auto f = run_cli(dir, {"run", dir.write("rb.yaml", three_sleeps(1))});
  CHECK(f.exit_code == 0);
  CHECK(f.seconds >= 0.9);
}

TEST_CASE("a for_each with max_parallel 3 runs its items side by side" * doctest::timeout(30)) {
  TempDir dir;
  auto f = run_cli(dir, {"run", dir.write("rb.yaml", three_sleeps(3))});
  CHECK(f.exit_code == 0);
  CHECK(f.seconds < 0.8);
}

TEST_CASE("items share the run's max_parallel with other steps" * doctest::timeout(30)) {
  TempDir dir;
  // Two slots: the other step holds one for 0.6s, so the three items go one
  // at a time beside it, then the last alone: 0.9s at least.
  auto f = run_cli(dir, {"run", dir.write("rb.yaml",
                                          "version: 1\nname: shared\nmax_parallel: 2\nsteps:\n"
                                          "  - id: other\n    run: sleep 0.6\n"
                                          "  - id: nap\n    for_each: [1, 2, 3]\n"
                                          "    run: sleep 0.3\n")});
  CHECK(f.exit_code == 0);
  CHECK(f.seconds >= 0.9);
}

TEST_CASE("a failing item fails the run and each started item is rolled back, newest first" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string log = dir / "log.txt";
  auto f =
      run_cli(dir, {"run", dir.write("rb.yaml",
                                     "version: 1\nname: fail\nsteps:\n"
                                     "  - id: before\n    run: echo do before >> " +
                                         log + "\n    rollback: echo undo before >> " + log +
                                         "\n"
                                         "  - id: each\n    needs: [before]\n"
                                         "    for_each: [a, b, c, d]\n    max_parallel: 1\n"
                                         "    run: echo do ${{ item }} >> " +
                                         log +
                                         "; test ${{ index }} != 2\n"
                                         "    rollback: echo undo ${{ item }} ${{ index }} >> " +
                                         log +
                                         "\n"
                                         "  - id: after\n    needs: [each]\n    run: echo do "
                                         "after >> " +
                                         log + "\n")});
  CHECK(f.exit_code == 1);
  CHECK(read_file(log) ==
        "do before\ndo a\ndo b\ndo c\nundo c 2\nundo b 1\nundo a 0\nundo before\n");
  CHECK(f.output.find("step 'each[2]' exited with code 1") != std::string::npos);
}

TEST_CASE("a failing item stops the items still running" * doctest::timeout(30)) {
  TempDir dir;
  int token = unique_token();
  auto f = run_cli(dir, {"run", dir.write("rb.yaml",
                                          "version: 1\nname: stop\nsteps:\n"
                                          "  - id: each\n    for_each: [0, 1, 2]\n"
                                          "    kill_grace: 1s\n"
                                          "    run: if [ ${{ item }} = 1 ]; then sleep 0.2; exit "
                                          "3; fi; sleep 3" +
                                              std::to_string(token) + "\n")});
  CHECK(f.exit_code == 1);
  CHECK(f.seconds < 5);
  CHECK(count_processes("sleep 3" + std::to_string(token)) == 0);
}

TEST_CASE("allow_failure of a for_each step applies to the step as a whole" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string log = dir / "log.txt";
  auto f = run_cli(dir, {"run", dir.write("rb.yaml",
                                          "version: 1\nname: allowed\nsteps:\n"
                                          "  - id: each\n    for_each: [0, 1, 2]\n"
                                          "    allow_failure: true\n"
                                          "    run: echo ${{ item }} >> " +
                                              log +
                                              "; test ${{ item }} != 1\n"
                                              "  - id: after\n    needs: [each]\n"
                                              "    run: echo ${{ steps.each.status }} >> " +
                                              log + "\n")});
  CHECK(f.exit_code == 0);
  std::string written = read_file(log);
  CHECK(written.find("0\n") != std::string::npos);
  CHECK(written.find("2\n") != std::string::npos);
  CHECK(written.substr(written.size() - 7) == "failed\n");
  CHECK(f.output.find("allowed to fail") != std::string::npos);
}

TEST_CASE("a for_each over a list param runs once per value" * doctest::timeout(30)) {
  TempDir dir;
  std::string out = dir / "out.txt";
  auto f = run_cli(dir, {"run",
                         dir.write("rb.yaml",
                                   "version: 1\nname: hosts\n"
                                   "params:\n  hosts: {type: list}\n"
                                   "steps:\n"
                                   "  - id: deploy\n    for_each: ${{ params.hosts }}\n"
                                   "    max_parallel: 1\n"
                                   "    run: echo ${{ item }} >> " +
                                       out + "\n"),
                         "-p", "hosts=a,b,c"});
  CHECK(f.exit_code == 0);
  CHECK(read_file(out) == "a\nb\nc\n");
}

TEST_CASE("a for_each over an empty list succeeds with nothing run" * doctest::timeout(30)) {
  TempDir dir;
  std::string out = dir / "out.txt";
  auto f = run_cli(dir, {"run", dir.write("rb.yaml",
                                          "version: 1\nname: empty\nsteps:\n"
                                          "  - id: none\n    for_each: []\n"
                                          "    run: echo item >> " +
                                              out +
                                              "\n"
                                              "  - id: after\n    needs: [none]\n"
                                              "    run: echo ${{ steps.none.status }} >> " +
                                              out + "\n")});
  CHECK(f.exit_code == 0);
  CHECK(read_file(out) == "succeeded\n");
}

TEST_CASE("a for_each that does not give a list fails the step with a clear message" *
          doctest::timeout(30)) {
  TempDir dir;
  auto f = run_cli(dir, {"run", dir.write("rb.yaml",
                                          "version: 1\nname: notalist\n"
                                          "params:\n  name: {type: string, default: web}\n"
                                          "steps:\n"
                                          "  - id: each\n    for_each: ${{ params.name }}\n"
                                          "    run: echo ${{ item }}\n")});
  CHECK(f.exit_code == 1);
  CHECK(f.output.find("must give a list") != std::string::npos);
}

TEST_CASE("--dry-run shows the items of a for_each known before the run" * doctest::timeout(30)) {
  TempDir dir;
  auto f = run_cli(dir, {"run", "--dry-run",
                         dir.write("rb.yaml",
                                   "version: 1\nname: plan\n"
                                   "params:\n  hosts: {type: list}\n"
                                   "steps:\n"
                                   "  - id: deploy\n    for_each: ${{ params.hosts }}\n"
                                   "    max_parallel: 2\n"
                                   "    run: echo ${{ item }}\n"
                                   "  - id: literal\n    for_each: [x, y]\n"
                                   "    run: echo ${{ item }}\n"),
                         "-p", "hosts=web1,web2"});
  CHECK(f.exit_code == 0);
  CHECK(f.output.find("for_each: ${{ params.hosts }}  (up to 2 at once)") != std::string::npos);
  CHECK(f.output.find("[1] web2") != std::string::npos);
  CHECK(f.output.find("[0] x") != std::string::npos);
}
