// The `wait` plugin: a step that waits for a TCP port to open or close, for
// a file to appear or go, or for a fixed while.
//
//   - id: db-up
//     uses: wait
//     with: {port: {host: 127.0.0.1, port: 5432}, timeout: 30s}

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "duration.hpp"
#include "probe.hpp"
#include "runbook/plugin.hpp"
#include "wait_spec.hpp"

namespace runbook::wait {

namespace {

using sdk::Attempt;
using sdk::Json;
using sdk::Validation;
using Clock = std::chrono::steady_clock;

// The longest a single connect may take before the port counts as closed.
constexpr int64_t kConnectLimitMs = 1000;

// A state polled until it holds, described for the log and the messages.
struct Condition {
  std::string subject;      // "port 127.0.0.1:8080"
  std::string goal;         // "be open": "waiting for SUBJECT to GOAL"
  std::string reached;      // "is open": "SUBJECT is open after 1.2s"
  std::string not_reached;  // "still closed": "SUBJECT still closed after 30s"
  // One look, taking at most the given milliseconds: true when the state
  // holds; otherwise it may say why not.
  std::function<bool(int64_t limit_ms, std::string& why_not)> holds;
};

std::string host_and_port(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Condition port_condition(const PortTarget& target, Attempt& attempt) {
  Condition c;
  c.subject = "port " + host_and_port(target.host, target.port);
  c.goal = target.open ? "be open" : "be closed";
  c.reached = target.open ? "is open" : "is closed";
  c.not_reached = target.open ? "still closed" : "still open";
  c.holds = [target, &attempt](int64_t limit_ms, std::string& why_not) {
    PortProbe probe =
        probe_port(target.host, target.port, limit_ms, [&attempt] { return attempt.cancelled(); });
    if (probe.open == target.open) return true;
    why_not = probe.why_closed;
    return false;
  };
  return c;
}

// A relative path is taken from the step's workdir, as a command's would be.
std::string resolve_path(const std::string& path, const Json& context) {
  const Json& workdir = context.get("workdir");
  if (path.front() == '/' || !workdir.is_string() || workdir.as_string().empty()) return path;
  return workdir.as_string() + "/" + path;
}

Condition file_condition(const FileTarget& target, const Json& context) {
  Condition c;
  c.subject = "file " + target.path;
  c.goal = target.exists ? "exist" : "be absent";
  c.reached = target.exists ? "exists" : "is absent";
  c.not_reached = target.exists ? "still absent" : "still exists";
  c.holds = [path = resolve_path(target.path, context), exists = target.exists](
                int64_t, std::string&) { return path_exists(path) == exists; };
  return c;
}

int64_t elapsed_ms(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// Ends the attempt as cancelled (Ctrl-C, the step's timeout or deadline).
runbook_status cancelled(Attempt& attempt, const std::string& detail) {
  attempt.log("cancelled: " + detail + "\n");
  return attempt.fail("cancelled: " + detail);
}

runbook_status poll_until(Attempt& attempt, const Condition& c, const WaitSpec& spec) {
  // Without a `timeout` the step's own bound ends the wait (the engine
  // cancels the attempt then); with neither, a default keeps it finite.
  std::optional<int64_t> give_up_ms = spec.timeout_ms;
  std::string bound;
  if (give_up_ms) {
    bound = "up to " + format_duration(*give_up_ms);
  } else if (std::optional<int64_t> left = attempt.remaining_ms()) {
    bound = "until the step's timeout in " + format_seconds(*left);
  } else {
    give_up_ms = kDefaultTimeoutMs;
    bound = "up to " + format_duration(kDefaultTimeoutMs);
  }
  attempt.log("waiting for " + c.subject + " to " + c.goal + " (every " +
              format_duration(spec.interval_ms) + ", " + bound + ")\n");

  const Clock::time_point start = Clock::now();
  for (;;) {
    int64_t limit = kConnectLimitMs;
    if (give_up_ms) limit = std::clamp<int64_t>(*give_up_ms - elapsed_ms(start), 10, limit);
    std::string why_not;
    const bool holds = c.holds(limit, why_not);
    const int64_t waited = elapsed_ms(start);
    if (holds) {
      attempt.log(c.subject + " " + c.reached + " after " + format_seconds(waited) + "\n");
      attempt.output("waited_ms", std::to_string(waited));
      return RUNBOOK_SUCCEEDED;
    }
    const std::string still = c.subject + " " + c.not_reached + " after ";
    if (attempt.cancelled()) return cancelled(attempt, still + format_seconds(waited));
    if (give_up_ms && waited >= *give_up_ms) {
      const std::string message = still + format_duration(*give_up_ms) +
                                  (why_not.empty() ? std::string() : " (" + why_not + ")");
      attempt.log(message + "\n");
      return attempt.retryable(message);
    }
    int64_t pause = spec.interval_ms;
    if (give_up_ms) pause = std::min(pause, *give_up_ms - waited);
    if (!attempt.sleep_ms(pause)) {
      return cancelled(attempt, still + format_seconds(elapsed_ms(start)));
    }
  }
}

runbook_status sleep_for(Attempt& attempt, int64_t ms) {
  attempt.log("waiting " + format_duration(ms) + "\n");
  const Clock::time_point start = Clock::now();
  // sleep_ms may end early only when cancelled; loop anyway rather than
  // trust that a wake-up means the time is up.
  for (int64_t left = ms; left > 0; left = ms - elapsed_ms(start)) {
    if (!attempt.sleep_ms(left)) {
      return cancelled(
          attempt, "waited " + format_seconds(elapsed_ms(start)) + " of " + format_duration(ms));
    }
  }
  const int64_t waited = elapsed_ms(start);
  attempt.log("waited " + format_seconds(waited) + "\n");
  attempt.output("waited_ms", std::to_string(waited));
  return RUNBOOK_SUCCEEDED;
}

void check(const Json& with, Validation& validation) {
  read_wait_spec(with, /*validating=*/true,
                 [&](const std::string& path, const std::string& message) {
                   validation.error(path, message);
                 });
}

runbook_status run(Attempt& attempt) {
  std::string first_problem;
  std::optional<WaitSpec> spec =
      read_wait_spec(attempt.with(), /*validating=*/false,
                     [&](const std::string& path, const std::string& message) {
                       if (first_problem.empty())
                         first_problem = (path.empty() ? "" : path + ": ") + message;
                     });
  if (!spec) return attempt.fail(first_problem);

  if (const auto* duration = std::get_if<DurationTarget>(&spec->target)) {
    return sleep_for(attempt, duration->ms);
  }
  if (const auto* port = std::get_if<PortTarget>(&spec->target)) {
    return poll_until(attempt, port_condition(*port, attempt), *spec);
  }
  return poll_until(attempt, file_condition(std::get<FileTarget>(spec->target), attempt.context()),
                    *spec);
}

const runbook_step_kind kKinds[] = {sdk::step_kind<check, run>(
    "wait", "waits for a TCP port to open or close, a file to appear or go, or a while")};

}  // namespace

}  // namespace runbook::wait

RUNBOOK_PLUGIN("wait", "1.0.0", runbook::wait::kKinds)
