// Step kinds for the engine's own tests of plugin steps: what a plugin can
// do (log, outputs, fail, ask for a retry, sleep, ignore its cancel flag).

#include <chrono>
#include <thread>

#include "runbook/plugin.hpp"

namespace {

using runbook::sdk::Attempt;
using runbook::sdk::Json;
using runbook::sdk::Validation;

void check_echo(const Json& with, Validation& v) {
  for (const auto& [key, value] : with.as_object()) {
    if (key == "message" || key == "fail" || key == "retryable") {
      if (!value.is_string()) v.error(key, "must be a string");
    } else if (key == "outputs") {
      if (!value.is_object() && !value.is_deferred()) v.error(key, "must be a map");
    } else if (key == "succeed_on_attempt") {
      if (!value.is_int() && !value.is_deferred()) v.error(key, "must be an integer");
    } else {
      v.error(key, "unknown argument '" + key + "'");
    }
  }
}

// Logs `message`, sets `outputs`; fails with `fail`, or asks for a retry
// with `retryable` until the attempt `succeed_on_attempt`.
runbook_status echo(Attempt& a) {
  const Json& with = a.with();
  if (with.has("message")) a.log(with.get("message").as_string() + "\n");
  a.log_error("context " + a.context().dump() + "\n");
  if (with.get("outputs").is_object())
    for (const auto& [key, value] : with.get("outputs").as_object()) a.output(key, value.to_text());
  int64_t attempt = a.context().get("attempt").as_int();
  int64_t succeed_on =
      with.get("succeed_on_attempt").is_int() ? with.get("succeed_on_attempt").as_int() : 0;
  if (succeed_on > 0 && attempt >= succeed_on) return RUNBOOK_SUCCEEDED;
  if (with.has("fail")) return a.fail(with.get("fail").as_string());
  if (with.has("retryable")) return a.retryable(with.get("retryable").as_string());
  return RUNBOOK_SUCCEEDED;
}

void check_sleep(const Json& with, Validation& v) {
  if (!with.get("ms").is_int() && !with.get("ms").is_deferred())
    v.error("ms", "must be an integer number of milliseconds");
}

// Sleeps `ms`, waking on cancel unless `ignore_cancel`.
runbook_status sleep(Attempt& a) {
  int64_t ms = a.with().get("ms").as_int();
  a.log("sleeping " + std::to_string(ms) + " ms, remaining " +
        std::to_string(a.remaining_ms().value_or(-1)) + "\n");
  if (a.with().get("ignore_cancel").is_bool() && a.with().get("ignore_cancel").as_bool()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return RUNBOOK_SUCCEEDED;
  }
  if (!a.sleep_ms(ms)) return a.fail("cancelled");
  return RUNBOOK_SUCCEEDED;
}

const runbook_step_kind kinds[] = {
    runbook::sdk::step_kind<check_echo, echo>("fixture-echo", "logs, sets outputs, fails"),
    runbook::sdk::step_kind<check_sleep, sleep>("fixture-sleep", "sleeps"),
};

}  // namespace

RUNBOOK_PLUGIN("fixture", "0.1.0", kinds)
