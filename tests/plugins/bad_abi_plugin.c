/* A plugin built for an ABI version this engine does not have. */
#include "runbook/plugin.h"

static runbook_status run(const runbook_run_host* host, const char* with_json) {
  (void)host;
  (void)with_json;
  return RUNBOOK_SUCCEEDED;
}

static const runbook_step_kind kinds[] = {{"future-kind", "from the future", 0, run}};
static const runbook_plugin plugin = {99u, "future", "9.9.9", kinds, 1};

__attribute__((visibility("default"))) const runbook_plugin* runbook_plugin_entry(
    uint32_t host_abi_version) {
  (void)host_abi_version;
  return &plugin;
}
