#pragma once

// What a step or a rollback runs: the action (`run`, `exec` or `uses`) and the
// settings of one attempt, retries included. Internal to the loader.

#include <optional>
#include <string_view>
#include <vector>

#include "load/yaml_reader.hpp"
#include "runbook/model.hpp"

namespace runbook::load {

bool is_action_key(std::string_view key);

// The keys load_body_field() reads: a rollback written as a map takes these.
const std::vector<std::string_view>& body_keys();

// Reads `e` into `body` when it is a StepBody field (run, shell, exec, uses,
// with, env, workdir, timeout, retry, kill_grace); false when it is not one.
// `owner` names what the body belongs to ("step 'build'").
bool load_body_field(YamlReader& r, const Entry& e, StepBody& body, std::string_view owner);

// Sets body.kind from the action keys that were given (`actions`, in file
// order), reporting none (at `owner_mark`) or more than one, and a `with`
// written on a body that does not `use` a plugin.
void settle_action(YamlReader& r, const std::vector<const Entry*>& actions, const Entry* with,
                   StepBody& body, std::string_view owner, Mark owner_mark);

// `retry: 3` or `retry: {attempts, delay, backoff, max_delay, jitter, on, exit_codes}`.
std::optional<RetryPolicy> load_retry(YamlReader& r, const Entry& e, std::string_view owner);

// `allow_failure: true` or `allow_failure: {exit_codes: [..]}`.
std::optional<AllowFailure> load_allow_failure(YamlReader& r, const Entry& e,
                                               std::string_view owner);

// `rollback: SCRIPT` or a map of body fields. Defaults do not apply to it.
std::optional<StepBody> load_rollback(YamlReader& r, const Entry& e, std::string_view owner);

}  // namespace runbook::load
