#pragma once

#include <optional>

#include "runbook/model.hpp"

namespace runbook::exec {

enum class AttemptOutcome { succeeded, failed, timed_out, not_started };

// Whether the attempt numbered `attempt` (1-based), which ended as `outcome`,
// may be followed by another under `policy`. A command that could not start
// counts as a failure with no exit code.
bool should_retry(const RetryPolicy& policy, int attempt, AttemptOutcome outcome,
                  std::optional<int> exit_code);

// The wait after attempt `attempt` (1-based) before the next one:
// delay × backoff^(attempt−1), capped at max_delay, plus jitter × `random01`
// (a number in [0, 1)).
Duration retry_delay(const RetryPolicy& policy, int attempt, double random01);

}  // namespace runbook::exec
