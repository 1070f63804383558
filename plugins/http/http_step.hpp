#pragma once

// The http step kind: what `validate` and `run` do with a step's `with`.

#include "runbook/plugin.hpp"

namespace runbook::http {

// Reports every problem of the `with` map as written. Main thread.
void validate_http_step(const sdk::Json& with, sdk::Validation& validation);

// One attempt: sends the request (following redirects when asked), checks
// the answer and publishes the outputs. On the attempt's worker thread.
runbook_status run_http_step(sdk::Attempt& attempt);

}  // namespace runbook::http
