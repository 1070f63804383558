#include "params_flags.hpp"

#include <CLI/CLI.hpp>
#include <ostream>

namespace runbook::cli {

void add_params_flags(CLI::App& command, ParamsFlags& flags) {
  command
      .add_option("-p,--param", flags.pairs,
                  "A param, NAME=VALUE (repeatable; lists as a,b or [\"a\",\"b\"])")
      ->type_name("NAME=VALUE")
      // One value per -p, so that `-p a=1 FILE` leaves FILE alone.
      ->allow_extra_args(false);
  command.add_option("--params-file", flags.params_file, "Params from a YAML or JSON map")
      ->type_name("FILE");
  command.add_flag("--help-params", flags.help_params,
                   "List the runbook's params (type, default, constraints) and exit");
}

ParamsOutcome resolve_params_flags(const Runbook& runbook, const ParamsFlags& flags,
                                   std::ostream& out, std::ostream& err) {
  ParamsOutcome outcome;
  if (flags.help_params) {
    out << format_params_help(runbook);
    outcome.exit_code = 0;
    return outcome;
  }
  ParamSources sources;
  sources.pairs = flags.pairs;
  sources.params_file = flags.params_file;
  Diagnostics diags;
  ResolvedParams params = resolve_params(runbook, sources, diags);
  if (!diags.empty()) {
    err << diags.format();
    outcome.exit_code = 2;
    return outcome;
  }
  outcome.params = std::move(params);
  return outcome;
}

}  // namespace runbook::cli
