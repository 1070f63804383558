#include "exec/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace runbook::exec {

bool should_retry(const RetryPolicy& policy, int attempt, AttemptOutcome outcome,
                  std::optional<int> exit_code) {
  if (attempt >= policy.attempts) return false;
  switch (outcome) {
    case AttemptOutcome::succeeded:
      return false;
    case AttemptOutcome::timed_out:
      return policy.on_timeout;
    case AttemptOutcome::not_started:
      return policy.on_failure && policy.exit_codes.empty();
    case AttemptOutcome::failed:
      if (!policy.on_failure) return false;
      if (policy.exit_codes.empty()) return true;
      return exit_code && std::find(policy.exit_codes.begin(), policy.exit_codes.end(),
                                    *exit_code) != policy.exit_codes.end();
  }
  return false;
}

Duration retry_delay(const RetryPolicy& policy, int attempt, double random01) {
  double ms = double(policy.delay.count()) * std::pow(std::max(policy.backoff, 1.0), attempt - 1);
  if (policy.max_delay) ms = std::min(ms, double(policy.max_delay->count()));
  // Cap before converting: a long chain of backoffs must not overflow.
  ms = std::min(ms, 365.0 * 24 * 3600 * 1000);
  ms += double(policy.jitter.count()) * std::clamp(random01, 0.0, 1.0);
  return Duration(int64_t(std::llround(ms)));
}

}  // namespace runbook::exec
