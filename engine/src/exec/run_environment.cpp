#include "exec/run_environment.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <sstream>

extern char** environ;

namespace runbook::exec {
namespace {

void set_var(std::vector<std::pair<std::string, std::string>>& vars, const std::string& name,
             std::string value) {
  auto it = std::lower_bound(vars.begin(), vars.end(), name,
                             [](const auto& kv, const std::string& n) { return kv.first < n; });
  if (it != vars.end() && it->first == name) {
    it->second = std::move(value);
  } else {
    vars.insert(it, {name, std::move(value)});
  }
}

}  // namespace

RunEnvironment::RunEnvironment(const EnvVars& runbook_env, std::string run_id, std::string tmp_dir)
    : run_id_(std::move(run_id)), tmp_dir_(std::move(tmp_dir)) {
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (!eq) continue;
    std::string name(*e, size_t(eq - *e));
    // The engine's own markers never leak into a step's processes.
    if (name.rfind("RUNBOOK_PROCESS_TAG", 0) == 0) continue;
    base_.emplace_back(std::move(name), std::string(eq + 1));
  }
  std::sort(base_.begin(), base_.end());
  base_.erase(std::unique(base_.begin(), base_.end(),
                          [](const auto& a, const auto& b) { return a.first == b.first; }),
              base_.end());
  for (const auto& [name, value] : runbook_env) set_var(base_, name, value);
  base_lines_.reserve(base_.size());
  for (const auto& [name, value] : base_) base_lines_.push_back(name + "=" + value);
}

std::vector<std::string> RunEnvironment::for_attempt(const EnvVars& step_env,
                                                     const std::string& step_id, int attempt,
                                                     const std::string& output_file) const {
  EnvVars over;  // sorted by name, the last value of a name kept
  for (const auto& [name, value] : step_env) set_var(over, name, value);
  set_var(over, "RUNBOOK_RUN_ID", run_id_);
  set_var(over, "RUNBOOK_STEP_ID", step_id);
  set_var(over, "RUNBOOK_ATTEMPT", std::to_string(attempt));
  set_var(over, "RUNBOOK_TMP", tmp_dir_);
  set_var(over, "RUNBOOK_OUTPUT", output_file);
  // Both sorted: merged, `over` winning; the run's lines are copied whole.
  std::vector<std::string> env;
  env.reserve(base_.size() + over.size() + 1);  // and the process tag, added by the runner
  auto take_over = [&](size_t i) { env.push_back(over[i].first + "=" + over[i].second); };
  size_t o = 0;
  for (size_t b = 0; b < base_.size(); ++b) {
    for (; o < over.size() && over[o].first < base_[b].first; ++o) take_over(o);
    if (o < over.size() && over[o].first == base_[b].first) {
      take_over(o++);
    } else {
      env.push_back(base_lines_[b]);
    }
  }
  for (; o < over.size(); ++o) take_over(o);
  return env;
}

std::vector<std::string> command_line(const StepBody& body, const std::string& script,
                                      const std::vector<std::string>& exec_argv) {
  std::vector<std::string> argv;
  switch (body.kind) {
    case ActionKind::run: {
      if (body.shell.empty() || body.shell == "bash" || body.shell.ends_with("/bash")) {
        argv = {body.shell.empty() ? "bash" : body.shell, "-eo", "pipefail", "-c"};
      } else {
        // `shell: python3 -u` → python3 -u -c SCRIPT
        std::istringstream words(body.shell);
        for (std::string w; words >> w;) argv.push_back(w);
        argv.push_back("-c");
      }
      argv.push_back(script);
      break;
    }
    case ActionKind::exec:
      argv = exec_argv;
      break;
    case ActionKind::uses:
    case ActionKind::none:
      break;
  }
  return argv;
}

}  // namespace runbook::exec
