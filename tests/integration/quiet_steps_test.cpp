// What a step leaves in the state directory: a log only when there is
// something to read in it, and an outputs file only when the step writes one.

#include <doctest/doctest.h>

#include <filesystem>

#include "run_fixture.hpp"

using namespace runbook_test;

namespace {

// The one run directory under STATE/runs/, or "" when there is none.
std::string only_run_dir(const TempDir& dir) {
  std::string found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "state/runs", ec))
    found = entry.path().string();
  return found;
}

}  // namespace

TEST_CASE("a silent step that succeeds leaves no log; output, retries and failures do" *
          doctest::timeout(60)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml",
                             "version: 1\nname: quiet\nsteps:\n"
                             "  - id: quiet\n    exec: ['true']\n"
                             "  - id: loud\n    run: echo hello\n"
                             "  - id: retried\n"
                             "    run: test -e \"$RUNBOOK_TMP/again\" || "
                             "{ touch \"$RUNBOOK_TMP/again\"; exit 1; }\n"
                             "    retry: {attempts: 2, delay: 10ms}\n"
                             "  - id: failing\n    run: exit 3\n    allow_failure: true\n");
  Finished f = run_cli(dir, {"run", rb});
  INFO(f.output);
  REQUIRE(f.exit_code == 0);
  const std::string run_dir = only_run_dir(dir);
  REQUIRE_FALSE(run_dir.empty());
  CHECK_FALSE(file_exists(run_dir + "/quiet.log"));
  CHECK(read_file(run_dir + "/loud.log").find("out| hello") != std::string::npos);
  const std::string retried = read_file(run_dir + "/retried.log");
  CHECK(retried.find("attempt 1 failed") != std::string::npos);
  CHECK(retried.find("attempt 2 of 2") != std::string::npos);
  CHECK(read_file(run_dir + "/failing.log").find("ended: failed") != std::string::npos);

  // `runbook logs` of the silent step has nothing to show, and says no error.
  const std::string id = std::filesystem::path(run_dir).filename().string();
  Finished logs = run_cli(dir, {"logs", id, "quiet"});
  CHECK(logs.exit_code == 0);
}

TEST_CASE("a run whose steps print nothing leaves no run directory" * doctest::timeout(60)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml",
                             "version: 1\nname: silent\nsteps:\n"
                             "  - id: a\n    exec: ['true']\n"
                             "  - id: b\n    needs: [a]\n    run: 'true'\n");
  Finished f = run_cli(dir, {"run", rb});
  INFO(f.output);
  REQUIRE(f.exit_code == 0);
  CHECK(only_run_dir(dir).empty());
  // Its history is there to read.
  Finished history = run_cli(dir, {"history", "--output", "json"});
  CHECK(history.output.find("\"runbook\":\"silent\",") != std::string::npos);
  CHECK(history.output.find("\"state\":\"succeeded\"") != std::string::npos);
}

TEST_CASE("the outputs file does not exist when an attempt starts; appending creates it" *
          doctest::timeout(60)) {
  TempDir dir;
  std::string rb = dir.write(
      "rb.yaml",
      "version: 1\nname: outputs\nsteps:\n"
      "  - id: a\n    run: test ! -e \"$RUNBOOK_OUTPUT\" && echo v=1 >> \"$RUNBOOK_OUTPUT\"\n"
      "  - id: b\n"
      "    run: |\n"
      "      test ! -e \"$RUNBOOK_OUTPUT\" || exit 9\n"
      "      if test -e \"$RUNBOOK_TMP/second\"; then echo x=2 >> \"$RUNBOOK_OUTPUT\"; exit 0; fi\n"
      "      touch \"$RUNBOOK_TMP/second\"; echo x=1 >> \"$RUNBOOK_OUTPUT\"; exit 1\n"
      "    retry: {attempts: 2, delay: 10ms}\n"
      "  - id: c\n    needs: [a, b]\n"
      "    run: test \"${{ steps.a.outputs.v }}-${{ steps.b.outputs.x }}\" = 1-2\n");
  Finished f = run_cli(dir, {"run", rb});
  INFO(f.output);
  CHECK(f.exit_code == 0);
}
