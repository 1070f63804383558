#pragma once

#include <string>
#include <vector>

#include "runbook/model.hpp"

namespace runbook::exec {

// The environment every process of a run starts from: the engine's own,
// with the runbook's `env:` over it. Built once per run.
class RunEnvironment {
 public:
  RunEnvironment(const Runbook& runbook, std::string run_id, std::string tmp_dir);

  // The whole environment for one attempt: the run's, then the body's `env:`,
  // then the RUNBOOK_* variables. "NAME=value" strings.
  std::vector<std::string> for_attempt(const StepBody& body, const std::string& step_id,
                                       int attempt, const std::string& output_file) const;

  const std::string& tmp_dir() const { return tmp_dir_; }

 private:
  std::vector<std::pair<std::string, std::string>> base_;  // sorted by name
  std::string run_id_;
  std::string tmp_dir_;
};

// argv for a body: `run` through the shell, `exec` as given.
std::vector<std::string> command_line(const StepBody& body);

}  // namespace runbook::exec
