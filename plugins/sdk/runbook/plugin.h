/*
 * runbook plugin ABI: step kinds provided by a shared library.
 *
 * A runbook step `uses: KIND` with `with: {...}` runs a step kind provided by
 * a plugin: a shared library (`NAME.so`) in the plugin search path that exports
 * one C function, `runbook_plugin_entry`, returning a descriptor of the plugin
 * and its step kinds.
 *
 * Everything that may grow crosses the boundary as JSON text (the `with`
 * arguments, the attempt's context), so adding a field never changes the ABI.
 * The structs below change only with RUNBOOK_PLUGIN_ABI_VERSION.
 *
 * Threads: `validate` is called on the engine's main thread; `run` on a
 * worker thread of its own, one call per attempt, several at once for
 * parallel steps. A plugin keeps no state between calls unless it guards it.
 * The host callbacks may be called from that worker thread (and threads it
 * starts) until `run` returns, not after.
 *
 * Errors never cross as C++ exceptions: a plugin catches its own.
 *
 * Child processes: the engine reaps every child of its process (it is a
 * child subreaper), so a plugin cannot wait for a process it starts itself
 * (waitpid, system(), pclose get ECHILD). A plugin runs commands through
 * steps, not children of its own.
 */
#ifndef RUNBOOK_PLUGIN_H
#define RUNBOOK_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The engine refuses a plugin built for another version. */
#define RUNBOOK_PLUGIN_ABI_VERSION 1u

/* The name of the one exported entry point (a runbook_plugin_entry_fn). */
#define RUNBOOK_PLUGIN_ENTRY_NAME "runbook_plugin_entry"

/* How an attempt of a plugin step ended. */
typedef enum runbook_status {
  RUNBOOK_SUCCEEDED = 0,
  /* Failed in a way trying again will not fix: bad arguments, a check that
   * does not hold. The step's `retry` policy is not applied. */
  RUNBOOK_FAILED = 1,
  /* Failed in a way that may pass on another attempt (connection refused,
   * a 5xx answer): retried as the step's `retry` policy says. */
  RUNBOOK_RETRYABLE = 2
} runbook_status;

typedef enum runbook_stream { RUNBOOK_STDOUT = 1, RUNBOOK_STDERR = 2 } runbook_stream;

/* What `validate` reports problems to. */
typedef struct runbook_validate_host {
  void* ctx; /* the engine's; pass it back */
  /* One problem with the `with` map. `path` names the argument it is about,
   * dotted for nested keys ("url", "expect_json.path"), or "" for the map as
   * a whole; the engine reports it at that key's line:col in the runbook.
   * Both strings are copied before the call returns. */
  void (*error)(void* ctx, const char* path, const char* message);
} runbook_validate_host;

/* What `run` works with: the attempt's context and the engine's callbacks. */
typedef struct runbook_run_host {
  void* ctx; /* the engine's; pass it back */
  /* The attempt as a JSON object: {"run_id", "step_id", "attempt",
   * "tmp_dir", "workdir", "env": {NAME: value}}, `env` being the environment
   * a process step would get (the engine's, the runbook's and the step's
   * env:, the RUNBOOK_* variables). Valid until run returns. */
  const char* context_json;
  /* Text for the step's log and the display. Lines end with '\n'; a line
   * may arrive in several calls. Secrets are masked by the engine. */
  void (*log)(void* ctx, runbook_stream stream, const char* text, size_t size);
  /* An output, read by later steps as steps.ID.outputs.KEY. KEY is a name
   * ([A-Za-z_][A-Za-z0-9_-]*); a later call for the same key replaces it.
   * Kept only when the attempt succeeds; 1 MiB in all per step. */
  void (*output)(void* ctx, const char* key, const char* value, size_t size);
  /* Why the attempt failed, one line, shown with the step's status. */
  void (*message)(void* ctx, const char* text);
  /* Nonzero once the attempt must stop: its timeout or deadline passed, or
   * the run is cancelled. A plugin checks it at least every 100 ms and
   * returns soon after; one that does not return within the step's
   * kill_grace is abandoned (the step ends, its thread is left to finish). */
  int (*cancelled)(void* ctx);
  /* Milliseconds left before the attempt's timeout or the step's deadline,
   * whichever comes first; -1 when neither is set. */
  int64_t (*remaining_ms)(void* ctx);
  /* Sleeps up to `ms` milliseconds; returns nonzero, early, when the attempt
   * is cancelled. */
  int (*sleep_ms)(void* ctx, int64_t ms);
} runbook_run_host;

/* One step kind. */
typedef struct runbook_step_kind {
  const char* name;    /* what `uses:` names: [a-z][a-z0-9_-]* */
  const char* summary; /* one line, for `runbook plugins list` */
  /* Checks the `with` map (JSON text) as written in the runbook; called by
   * `runbook validate` and before every run. A string holding `${{ }}` is
   * resolved only at run time: check what it can be, not its type. May be
   * NULL when any map is accepted. */
  void (*validate)(const runbook_validate_host* host, const char* with_json);
  /* Runs one attempt with `with` resolved (JSON text). */
  runbook_status (*run)(const runbook_run_host* host, const char* with_json);
} runbook_step_kind;

/* What the entry point returns; it and everything it points to live as long
 * as the library is loaded. */
typedef struct runbook_plugin {
  uint32_t abi_version; /* RUNBOOK_PLUGIN_ABI_VERSION when built */
  const char* name;     /* the plugin's name, e.g. "http" */
  const char* version;  /* the plugin's own version, e.g. "1.0.0" */
  const runbook_step_kind* kinds;
  size_t kind_count;
} runbook_plugin;

/* The entry point: `host_abi_version` is the engine's ABI version. Returns
 * the descriptor, or NULL when the plugin cannot work with this engine. */
typedef const runbook_plugin* (*runbook_plugin_entry_fn)(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* RUNBOOK_PLUGIN_H */
