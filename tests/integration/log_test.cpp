// The engine's own operational log (spdlog): on stderr or in a file, never
// in the step output on stdout.

#include <doctest/doctest.h>

#include "run_binary.hpp"
#include "run_fixture.hpp"

using runbook::testing::run_binary;
using namespace runbook_test;

TEST_CASE("--log-level debug logs the engine's work on stderr, not on stdout" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml",
                             "version: 1\nname: logged\nsteps:\n"
                             "  - id: s\n    run: echo step-output\n");
  auto r = run_binary({RUNBOOK_BINARY, "--log-level", "debug", "run", rb},
                      {{"RUNBOOK_STATE_DIR", dir / "state"}});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("step-output") != std::string::npos);
  CHECK(r.out.find("debug") == std::string::npos);
  CHECK(r.err.find("started pid") != std::string::npos);
  CHECK(r.err.find("step-output") == std::string::npos);

  auto quiet = run_binary({RUNBOOK_BINARY, "run", rb}, {{"RUNBOOK_STATE_DIR", dir / "state"}});
  CHECK(quiet.err.find("started pid") == std::string::npos);
}

TEST_CASE("--log-file writes the engine's log to a file" * doctest::timeout(30)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml",
                             "version: 1\nname: logged\nsteps:\n"
                             "  - id: s\n    run: 'true'\n");
  auto r = run_binary(
      {RUNBOOK_BINARY, "--log-level", "info", "--log-file", dir / "engine.log", "run", rb},
      {{"RUNBOOK_STATE_DIR", dir / "state"}});
  CHECK(r.exit_code == 0);
  CHECK(read_file(dir / "engine.log").find("ended succeeded") != std::string::npos);
}
