#pragma once

#include <string>
#include <vector>

#include "runbook/model.hpp"

namespace runbook::exec {

using EnvVars = std::vector<std::pair<std::string, std::string>>;

// The environment every process of a run starts from: the engine's own,
// with the runbook's `env:` (already rendered) over it. Built once per run.
class RunEnvironment {
 public:
  RunEnvironment(const EnvVars& runbook_env, std::string run_id, std::string tmp_dir);

  // The whole environment for one attempt: the run's, then `step_env` (the
  // body's rendered `env:` and the values of its `${{ }}` references), then
  // the RUNBOOK_* variables. "NAME=value" strings.
  std::vector<std::string> for_attempt(const EnvVars& step_env, const std::string& step_id,
                                       int attempt, const std::string& output_file) const;

  const std::string& tmp_dir() const { return tmp_dir_; }
  // The run's variables, for `env.X` in expressions.
  const EnvVars& variables() const { return base_; }

 private:
  std::vector<std::pair<std::string, std::string>> base_;  // sorted by name
  std::vector<std::string> base_lines_;                    // base_ as "NAME=value"
  std::string run_id_;
  std::string tmp_dir_;
};

// argv for a body whose script or argv is already rendered: `run` through
// the shell, `exec` as given.
std::vector<std::string> command_line(const StepBody& body, const std::string& script,
                                      const std::vector<std::string>& exec_argv);

}  // namespace runbook::exec
