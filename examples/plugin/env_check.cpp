// env-check: a minimal runbook plugin, to copy. Its one step kind checks
// that environment variables are set for the step before anything relies
// on them:
//
//   - id: preflight
//     uses: env-check
//     with:
//       require: [DEPLOY_ENV, API_URL]
//       allow_empty: false        # optional; an empty value counts as unset
//
// Outputs: `checked`, the number of variables checked.
//
// Built with the C++ helper runbook/plugin.hpp, which parses the JSON the
// engine passes, wraps the host callbacks and defines the entry point.

#include <runbook/plugin.hpp>

#include <string>

namespace {

using runbook::sdk::Attempt;
using runbook::sdk::Json;
using runbook::sdk::Validation;

// Called by `runbook validate` and before every run, with `with` as written
// in the runbook (JSON). Report each problem at the argument it is about; the
// engine prints it at that key's line and column, after "with.KEY: ".
void check(const Json& with, Validation& v) {
  for (const auto& [key, value] : with.as_object()) {
    if (key != "require" && key != "allow_empty")
      v.error(key, "unknown key; expected 'require' or 'allow_empty'");
  }
  // Every problem at once: no early return.
  const Json& require = with.get("require");
  // A string holding ${{ }} is known only at run time: do not check its type.
  if (!require.is_deferred()) {
    if (!require.is_array() || require.as_array().empty()) {
      v.error("require", "must be a non-empty list of variable names");
    } else {
      for (const Json& name : require.as_array()) {
        if (!name.is_string() || name.as_string().empty())
          v.error("require", "every name must be a non-empty string");
      }
    }
  }
  const Json& allow_empty = with.get("allow_empty");
  if (!allow_empty.is_null() && !allow_empty.is_bool() && !allow_empty.is_deferred())
    v.error("allow_empty", "must be true or false");
}

// Runs one attempt on a worker thread, `with` resolved. The context holds the
// environment the step would have as a command ("env"), RUNBOOK_* included.
runbook_status run(Attempt& attempt) {
  const Json& env = attempt.context().get("env");
  const bool allow_empty =
      attempt.with().get("allow_empty").is_bool() && attempt.with().get("allow_empty").as_bool();
  std::string missing;
  int checked = 0;
  for (const Json& item : attempt.with().get("require").as_array()) {
    // A long loop checks attempt.cancelled() (Ctrl-C, the step's timeout)
    // and returns soon after it turns true.
    if (attempt.cancelled()) return attempt.fail("cancelled");
    const std::string name = item.to_text();
    const Json& value = env.get(name);
    ++checked;
    if (value.is_string() && (allow_empty || !value.as_string().empty())) {
      attempt.log(name + " is set\n");
    } else {
      attempt.log_error(name + " is not set\n");
      missing += (missing.empty() ? "" : ", ") + name;
    }
  }
  attempt.output("checked", std::to_string(checked));
  // FAILED: another attempt would not help. RETRYABLE would let the step's
  // `retry:` policy try again.
  if (!missing.empty()) return attempt.fail("not set: " + missing);
  return RUNBOOK_SUCCEEDED;
}

// The step kinds this plugin provides: name (what `uses:` names), a one-line
// summary for `runbook plugins list`, then validate and run.
const runbook_step_kind kKinds[] = {runbook::sdk::step_kind<check, run>(
    "env-check", "checks that environment variables are set for the step")};

}  // namespace

// The exported entry point, `runbook_plugin_entry`: plugin name, version, kinds.
RUNBOOK_PLUGIN("env-check", "1.0.0", kKinds)
