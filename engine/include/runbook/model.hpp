#pragma once

// The runbook model: plain values that the loader fills and everything else
// reads. No behaviour lives here beyond small queries.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runbook/diagnostics.hpp"
#include "runbook/duration.hpp"
#include "runbook/value.hpp"

namespace runbook {

// A string from the runbook that may hold `${{ }}` templates, with where it was
// written so that expression errors can point at it.
struct Text {
  std::string value;
  Mark mark;
};

using EnvList = std::vector<std::pair<std::string, Text>>;  // in file order

enum class ParamType { string, integer, boolean, list, secret };
const char* to_string(ParamType t);

struct Param {
  std::string name;
  Mark mark;
  ParamType type = ParamType::string;
  bool required = false;
  std::optional<Value> default_value;
  std::optional<std::string> pattern;  // must match the whole value
  std::vector<Value> allowed;          // empty: anything
  std::optional<double> min, max;      // int: value; string/list: length
  std::string description;
  std::optional<std::string> from_env;   // secret: read from this variable
  std::optional<std::string> from_file;  // secret: read from this file
};

struct RetryPolicy {
  int attempts = 1;  // counts the first attempt
  Duration delay{0};
  double backoff = 1.0;  // factor applied to the delay after each attempt
  std::optional<Duration> max_delay;
  Duration jitter{0};  // a random 0..jitter added to each delay
  bool on_failure = true;
  bool on_timeout = false;
  std::vector<int> exit_codes;  // empty: any non-zero code may be retried
};

struct AllowFailure {
  bool any = false;             // `allow_failure: true`
  std::vector<int> exit_codes;  // `allow_failure: {exit_codes: [..]}`
  bool allows(int exit_code) const;
  bool enabled() const { return any || !exit_codes.empty(); }
};

enum class ActionKind { none, run, exec, uses };

// What a step, a rollback or a hook runs, with the settings an attempt needs.
struct StepBody {
  ActionKind kind = ActionKind::none;
  Mark kind_mark;          // the `run`/`exec`/`uses` key
  Text run;                // ActionKind::run: the script
  std::string shell;       // empty: bash -eo pipefail -c
  std::vector<Text> exec;  // ActionKind::exec: argv
  std::string uses;        // ActionKind::uses: the plugin step kind
  Value with;              // its arguments (a map)
  Mark with_mark;
  // Where each argument's value is, by path: "url", "expect_json.path",
  // "headers.Accept", "expect_status[1]". For a plugin's diagnostics.
  std::map<std::string, Mark> with_marks;
  EnvList env;
  std::optional<Text> workdir;
  std::optional<Duration> timeout;  // one attempt
  RetryPolicy retry;
  Duration kill_grace{std::chrono::seconds(10)};
};

struct Step {
  std::string id;
  Mark mark;  // the step's map
  Mark id_mark;
  std::string name;
  std::string description;
  StepBody body;
  std::vector<std::string> needs;
  std::vector<Mark> needs_marks;  // parallel to `needs`
  std::optional<Text> when;
  std::optional<Duration> deadline;  // the step as a whole, attempts and delays included
  AllowFailure allow_failure;
  std::optional<StepBody> rollback;
  std::optional<Text> confirm;
  std::optional<Text> for_each;        // an expression giving the list
  std::optional<Value> for_each_list;  // or a literal YAML list (Value::List)
  int for_each_parallel = 0;           // 0: no limit beyond the run's
  bool idempotent = false;
};

enum class OnFailure { rollback, stop };

struct Hooks {
  std::vector<Step> on_success;
  std::vector<Step> on_failure;
  std::vector<Step> finally;
};

inline constexpr int kDefaultMaxParallel = 4;

struct Runbook {
  std::string path;    // as given to the loader
  std::string sha256;  // SHA-256 of the file's bytes, 64 hex digits (audit log, history)
  int version = 1;
  std::string name;
  std::string description;
  std::vector<Param> params;
  EnvList env;
  std::optional<int> max_parallel;
  std::optional<Duration> timeout;  // the whole run, rollback excluded
  std::optional<Text> lock;
  OnFailure on_failure = OnFailure::rollback;
  std::vector<Step> steps;  // in file order; defaults already merged
  Hooks hooks;

  // Looks in `steps`, then in the hooks (ids are unique across both). Linear:
  // for many lookups, build a Graph.
  const Step* find_step(std::string_view id) const;
  const Param* find_param(std::string_view name) const;
  int effective_max_parallel() const { return max_parallel.value_or(kDefaultMaxParallel); }
};

}  // namespace runbook
