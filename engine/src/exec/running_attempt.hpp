#pragma once

namespace runbook::exec {

// An attempt in flight, as the executor holds it: a process
// (ProcessRunner::Process) or a plugin call (PluginRunner::Call). Used on the
// executor's thread only.
class RunningAttempt {
 public:
  virtual ~RunningAttempt() = default;
  // Asks the attempt to end (SIGTERM, or the plugin's cancel flag), and
  // forces it after the body's kill_grace. Idempotent; nothing once ended.
  virtual void stop() = 0;
  // Ends it now (SIGKILL, or the plugin call abandoned).
  virtual void kill() = 0;
  virtual bool ended() const = 0;
};

}  // namespace runbook::exec
