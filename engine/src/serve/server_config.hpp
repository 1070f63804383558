#pragma once

// The trigger server's config file (`runbook serve --config server.yaml`):
// reading it into a ServerConfig with every problem reported at once as
// FILE:LINE:COL diagnostics, like runbooks. The credential files it names are
// read by serve/auth_files.hpp. Pure apart from reading files: no sockets, no
// threads.

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "runbook/cron.hpp"
#include "runbook/diagnostics.hpp"
#include "runbook/duration.hpp"
#include "runbook/expected.hpp"
#include "runbook/model.hpp"
#include "runbook/value.hpp"

namespace runbook::serve {

// What a schedule does when it fires while its previous run is still going.
enum class Overlap {
  skip,     // start nothing
  queue,    // start it when the previous run has ended
  replace,  // cancel the previous run (it rolls back), then start
};
// What a schedule does about fire times missed while the server was down.
enum class CatchUp {
  none,    // nothing: wait for the next fire time
  latest,  // one run for the latest missed fire time
};
const char* to_string(Overlap o);
const char* to_string(CatchUp c);

struct ScheduleConfig {
  std::string name;  // unique in the config: [a-z0-9][a-z0-9_-]*
  Mark mark;         // the schedule's map in the config file
  CronSchedule cron;
  TimeZone zone;  // UTC unless `timezone:` names another
  // As written, resolved against runbooks_dir when relative (see ServerConfig).
  std::string runbook_path;
  Value::Map params;  // as written; checked against the runbook's params
  Overlap overlap = Overlap::skip;
  CatchUp catch_up = CatchUp::none;
  bool auto_approve = false;  // answers yes to the runbook's `confirm:` steps
  // Loaded without diagnostics. Schedules naming the same file share it.
  std::shared_ptr<const Runbook> runbook;
};

// One label condition of an alert rule's `match:`, written `label: VALUE`
// where VALUE is `=~RE` (the whole value matches RE), `!~RE`, `!=TEXT`,
// `=TEXT` or TEXT (equality). A label the alert lacks reads as "".
struct LabelMatcher {
  enum class Op { equal, not_equal, regex, not_regex };
  // Regexes are not tried on label values longer than this (a hostile value
  // could make backtracking slow): such an alert matches no regex condition,
  // `=~` or `!~`.
  static constexpr size_t kMaxRegexInput = 4096;

  std::string label;
  Op op = Op::equal;
  std::string value;                        // the text, or the regex as written
  std::shared_ptr<const std::regex> regex;  // for regex and not_regex

  bool matches(const std::map<std::string, std::string>& labels) const;
};

// Reads a matcher's VALUE; the error says what is wrong with a regex.
Expected<LabelMatcher, std::string> parse_label_matcher(const std::string& label,
                                                        const std::string& value);

// Which alerts of a matching rule start a run.
enum class AlertOn { firing, resolved, both };
const char* to_string(AlertOn on);

struct BreakerConfig {
  int failures = 3;  // failed runs in a row that open it
  Duration open_for = std::chrono::hours(1);
};

// One entry of `alerts:`. Rules are tried in file order; an alert is handled
// by the first rule whose `match:` and `on:` take it.
struct AlertRule {
  std::string name;  // unique in the config: [a-z0-9][a-z0-9_-]*
  Mark mark;
  std::vector<LabelMatcher> match;  // all must hold; at least one
  AlertOn on = AlertOn::firing;
  std::string runbook_path;  // resolved against runbooks_dir
  // As written: strings are templates reading alert.labels.X and
  // alert.annotations.X, rendered for each alert, then checked against the
  // runbook's params like -p values.
  Value::Map params;
  std::vector<std::string> group_by;  // empty: the alert's fingerprint
  Duration cooldown{0};               // 0: none
  int max_runs_per_hour = 0;          // 0: no limit
  std::optional<BreakerConfig> breaker;
  std::vector<std::string> escalate;  // argv templates; empty: none
  Duration escalate_timeout = std::chrono::seconds(60);
  bool auto_approve = false;
  std::shared_ptr<const Runbook> runbook;

  // Whether `labels` satisfy every matcher (not `on:`).
  bool matches(const std::map<std::string, std::string>& labels) const;
  bool takes(const std::string& status) const;  // `on:` for "firing" / "resolved"
};

// Relative paths in the config (state_dir, runbooks_dir, the auth files) are
// resolved against the config file's directory; relative runbook paths against
// runbooks_dir. Resolution is lexical: with a relative config path the results
// are relative to the current directory.
struct ServerConfig {
  std::string path;                       // the config file, as given
  std::string listen = "127.0.0.1:9095";  // host:port or [v6]:port; port 0 picks one
  std::string state_dir;                  // empty: default_state_dir() (runbook/executor.hpp)
  std::string runbooks_dir;               // default: the config file's directory
  // Empty when not set. Read with load_bearer_tokens / load_hmac_secret
  // (serve/auth_files.hpp): the loader only names them, so that tools reading
  // the config (`alerts test`) need no access to secrets.
  std::string bearer_tokens_file;
  std::string hmac_secret_file;
  Mark bearer_tokens_mark, hmac_secret_mark;  // where the config names them
  // /v1/hooks/*: the largest distance between X-Timestamp and the server's
  // clock, and whether requests without X-Timestamp are refused.
  Duration hmac_tolerance = std::chrono::minutes(5);
  bool hmac_require_timestamp = false;
  int max_concurrent_runs = 8;
  size_t queue_limit = 1000;
  Duration shutdown_grace = std::chrono::seconds(60);
  std::vector<ScheduleConfig> schedules;  // in file order
  std::vector<AlertRule> alerts;          // in file order

  const ScheduleConfig* find_schedule(std::string_view name) const;
  const AlertRule* find_alert_rule(std::string_view name) const;
};

struct ServerConfigResult {
  // What was read, also when there are diagnostics (so that a caller checking
  // more, like the server reading the auth files, can report every problem at
  // once); use it as a config only when ok().
  std::optional<ServerConfig> config;
  Diagnostics diagnostics;  // every problem, sorted by file and position
  bool ok() const { return config.has_value() && diagnostics.empty(); }
};

// Reads and checks a server config and loads the runbook of every schedule,
// checking the schedule's params against it (as a run started now would be:
// secrets from the environment and files included) and that a runbook with
// `confirm:` steps is not scheduled without `auto_approve: true`; the same
// for alert rules, whose params are checked as far as they can be before an
// alert fills them in (known names, required ones given, templates parse).
// Errors of a runbook itself are reported as the runbook loader does, in its
// own file. Never throws on bad input.
ServerConfigResult load_server_config(const std::string& path);

// The same for text already in memory; `path` is used in diagnostics and as
// the base of relative paths. Runbooks are still read from files.
ServerConfigResult load_server_config_text(std::string_view text, const std::string& path);

}  // namespace runbook::serve
