#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "exec/run_environment.hpp"

using runbook::exec::EnvVars;
using runbook::exec::RunEnvironment;

namespace {

std::map<std::string, std::string> as_map(const std::vector<std::string>& env) {
  std::map<std::string, std::string> vars;
  for (const std::string& kv : env) {
    size_t eq = kv.find('=');
    REQUIRE(eq != std::string::npos);
    CHECK_MESSAGE(vars.count(kv.substr(0, eq)) == 0, "twice: " << kv);
    vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return vars;
}

}  // namespace

TEST_CASE("an attempt's environment: the engine's, the run's, the step's, then RUNBOOK_*") {
  ::setenv("RB_ENV_TEST_ENGINE", "engine", 1);
  ::setenv("RB_ENV_TEST_SHADOWED", "engine", 1);
  ::setenv("RUNBOOK_PROCESS_TAG", "outer/run", 1);
  RunEnvironment run({{"RB_ENV_TEST_RUN", "run"}, {"RB_ENV_TEST_SHADOWED", "run"}}, "R1", "/tmp/x");
  ::unsetenv("RUNBOOK_PROCESS_TAG");
  EnvVars step{{"RB_ENV_TEST_SHADOWED", "step"},
               {"RB_ENV_TEST_STEP", "first"},
               {"RB_ENV_TEST_STEP", "second"},
               {"RUNBOOK_STEP_ID", "forged"},
               {"AAA_RB_ENV_TEST", "before every other"},
               {"zzz_rb_env_test", "after"}};
  std::vector<std::string> env = run.for_attempt(step, "deploy", 3, "/tmp/x/.outputs/deploy");
  CHECK(std::is_sorted(env.begin(), env.end(), [](const std::string& a, const std::string& b) {
    return a.substr(0, a.find('=')) < b.substr(0, b.find('='));
  }));
  std::map<std::string, std::string> vars = as_map(env);
  CHECK(vars["RB_ENV_TEST_ENGINE"] == "engine");
  CHECK(vars["RB_ENV_TEST_RUN"] == "run");
  CHECK(vars["RB_ENV_TEST_SHADOWED"] == "step");
  CHECK(vars["RB_ENV_TEST_STEP"] == "second");
  CHECK(vars["AAA_RB_ENV_TEST"] == "before every other");
  CHECK(vars["zzz_rb_env_test"] == "after");
  CHECK(vars["RUNBOOK_STEP_ID"] == "deploy");
  CHECK(vars["RUNBOOK_RUN_ID"] == "R1");
  CHECK(vars["RUNBOOK_ATTEMPT"] == "3");
  CHECK(vars["RUNBOOK_TMP"] == "/tmp/x");
  CHECK(vars["RUNBOOK_OUTPUT"] == "/tmp/x/.outputs/deploy");
  CHECK(vars.count("RUNBOOK_PROCESS_TAG") == 0);
  // Another attempt of another step starts from the run's again.
  std::map<std::string, std::string> other = as_map(run.for_attempt({}, "other", 1, ""));
  CHECK(other["RB_ENV_TEST_SHADOWED"] == "run");
  CHECK(other.count("RB_ENV_TEST_STEP") == 0);
  ::unsetenv("RB_ENV_TEST_ENGINE");
  ::unsetenv("RB_ENV_TEST_SHADOWED");
}
