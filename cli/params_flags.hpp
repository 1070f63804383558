#pragma once

// The params flags of `runbook run` (and any command that starts a run):
// `-p,--param NAME=VALUE` (repeatable), `--params-file F` and `--help-params`.

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "runbook/model.hpp"
#include "runbook/params.hpp"

namespace CLI {
class App;
}

namespace runbook::cli {

struct ParamsFlags {
  std::vector<std::string> pairs;  // as given, in order
  std::string params_file;
  bool help_params = false;
};

// Adds the flags to `command`; `flags` is filled when the command line is
// parsed, so it must outlive the parse.
void add_params_flags(CLI::App& command, ParamsFlags& flags);

// What the command does after the params flags were handled.
struct ParamsOutcome {
  std::optional<ResolvedParams> params;  // set: go on with the run
  int exit_code = 0;  // otherwise exit with this: 0 after --help-params, 2 for bad params
};

// With --help-params, prints the runbook's params to `out`; otherwise resolves
// the params, printing every problem to `err` (FILE:LINE:COL: error: …).
ParamsOutcome resolve_params_flags(const Runbook& runbook, const ParamsFlags& flags,
                                   std::ostream& out, std::ostream& err);

}  // namespace runbook::cli
