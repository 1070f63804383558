// The `http` plugin: its one step kind and the entry point the engine loads.

#include "http_step.hpp"
#include "runbook/plugin.hpp"

namespace {

// A C array: RUNBOOK_PLUGIN counts it with sizeof.
const runbook_step_kind kKinds[] = {  // NOLINT(modernize-avoid-c-arrays)
    runbook::sdk::step_kind<runbook::http::validate_http_step, runbook::http::run_http_step>(
        "http", "sends an HTTP(S) request and checks the status, body or JSON of the answer")};

}  // namespace

RUNBOOK_PLUGIN("http", "1.0.0", kKinds)
