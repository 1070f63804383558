#pragma once

// The trigger server, `runbook serve --config FILE`: schedules and the HTTP
// API start runs of runbooks, each a child `runbook run` process, at most
// max_concurrent_runs at once. See docs/server.md.

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "runbook/model.hpp"

namespace runbook {

struct ServeOptions {
  std::string config_path;
  // The runbook binary the runs are started with, and the flags it gets
  // before `run` (--plugin-dir …).
  std::string program;
  std::vector<std::string> global_args;
  // Problems with the plugins a runbook's `uses:` steps need, one per line,
  // or "" (the command line's plugin rules). Null: not checked.
  std::function<std::string(const Runbook&)> plugin_problems;
  // Called once the server listens, with its base URL ("http://127.0.0.1:9095").
  std::function<void(const std::string& url)> on_listening;
};

// Reads the config (every problem to `err`, exit code 2), then serves until
// SIGTERM or SIGINT: stops accepting, records queued runs as cancelled, lets
// running runs finish within shutdown_grace, cancels (and so rolls back) the
// rest, and returns 0. SIGHUP re-reads the config; a bad one is refused and
// logged, and the old one stays.
int run_server(const ServeOptions& options, std::ostream& err);

// `runbook serve --next NAME`: the schedule's next `count` fire times after
// now, one per line, in its zone with the offset. 2 and a message on `err`
// when the config is bad or has no such schedule.
int print_next_fires(const std::string& config_path, const std::string& schedule, size_t count,
                     std::ostream& out, std::ostream& err);

// ---- the kill switch of automatic remediation ----
//
// While STATE/paused exists, a server using STATE starts nothing on its own:
// alerts answer `paused` and schedules' fires are recorded as skipped runs.
// Runs asked for with POST /v1/runs still start (a person asked).

std::string paused_file(const std::string& state_dir);

// What STATE/paused says (who paused, when, why), or nullopt when
// remediation is not paused.
std::optional<std::string> remediation_paused(const std::string& state_dir);

// Creates STATE/paused (pause) or removes it, and records it in the audit
// log (remediation.paused / remediation.resumed) with `via` (cli, api) and
// `reason`. "" or what went wrong. Pausing twice keeps the first reason.
std::string set_remediation_paused(const std::string& state_dir, bool paused,
                                   const std::string& reason, const std::string& via);

// `runbook alerts test`: what each alert of the payload in `payload_path`
// would do under the config's rules and the server's current state, without
// running anything. `receiver` is alertmanager, grafana or hook/NAME; output
// text or json. 0, or 2 with the problem on `err`.
struct AlertTestOptions {
  std::string config_path;
  std::string payload_path;
  std::string receiver = "alertmanager";
  std::string output = "text";
};
int test_alerts(const AlertTestOptions& options, std::ostream& out, std::ostream& err);

}  // namespace runbook
