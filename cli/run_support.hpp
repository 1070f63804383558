#pragma once

// What the commands that start a run (run, rollback, resume) share: the
// display, the sinks every run writes to, and params recorded in history.

#include <memory>
#include <string>

#include "runbook/events.hpp"
#include "runbook/model.hpp"
#include "runbook/params.hpp"

namespace runbook::cli {

// The live board on a terminal, plain lines otherwise, or JSON events.
std::unique_ptr<EventSink> make_display(const std::string& output);

// The audit log, the history and the display, in that order (the audit log
// first: it is the record that fails closed).
struct RunSinks {
  std::unique_ptr<EventSink> audit, history, display;
  EventFanout fanout;
};
std::unique_ptr<RunSinks> make_run_sinks(const std::string& state_dir, const Runbook& runbook,
                                         const std::string& output);

// The params of a recorded run (history's masked JSON), resolved again
// against the runbook: secrets, recorded as ***, are read again from their
// env:/file: sources. Problems go to `diags`.
ResolvedParams recorded_params(const Runbook& runbook, const std::string& params_json,
                               Diagnostics& diags);

}  // namespace runbook::cli
