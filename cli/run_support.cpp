#include "run_support.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "runbook/expr.hpp"
#include "runbook/sinks.hpp"
#include "runbook/store.hpp"

namespace runbook::cli {

std::unique_ptr<EventSink> make_display(const std::string& output) {
  if (output == "json") return make_json_sink(stdout);
  TerminalOptions options;
  const char* term = std::getenv("TERM");
  options.live = ::isatty(STDOUT_FILENO) && !(term && std::string(term) == "dumb");
  const char* no_color = std::getenv("NO_COLOR");
  options.color = options.live && !(no_color && *no_color);
  winsize size{};
  if (options.live && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    options.width = size.ws_col;
  } else if (const char* columns = std::getenv("COLUMNS")) {
    options.width = std::max(20, std::atoi(columns));
  }
  return make_terminal_sink(options);
}

std::unique_ptr<RunSinks> make_run_sinks(const std::string& state_dir, const Runbook& runbook,
                                         const std::string& output) {
  auto sinks = std::make_unique<RunSinks>();
  sinks->audit = make_audit_sink(audit_log_path(state_dir), runbook.sha256);
  sinks->history = make_history_sink(state_dir, runbook.sha256);
  sinks->display = make_display(output);
  sinks->fanout.add(sinks->audit.get());
  sinks->fanout.add(sinks->history.get());
  sinks->fanout.add(sinks->display.get());
  return sinks;
}

ResolvedParams recorded_params(const Runbook& runbook, const std::string& params_json,
                               Diagnostics& diags) {
  // The recorded JSON goes through the expression language's fromJSON, as a
  // single-quoted literal ('' escapes a quote).
  std::string literal;
  for (char c : params_json) literal += c == '\'' ? std::string("''") : std::string(1, c);
  ParamSources sources;
  Expected<Expression> e = parse_expression("fromJSON('" + literal + "')");
  if (e) {
    Expected<Value> v = evaluate(e.value(), ExprContext{});
    if (v && v.value().is_map()) {
      for (const auto& [name, value] : v.value().as_map()) {
        const Param* p = runbook.find_param(name);
        // Secrets were recorded masked; they come again from env:/file:.
        if (!p || p->type == ParamType::secret || value.is_null()) continue;
        sources.values[name] = value;
      }
    }
  }
  return resolve_params(runbook, sources, diags);
}

}  // namespace runbook::cli
