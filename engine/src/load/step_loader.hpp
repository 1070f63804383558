#pragma once

// Steps, hook steps and the `defaults:` merged into them. Internal to the
// loader.

#include <string_view>
#include <vector>

#include "load/yaml_reader.hpp"
#include "runbook/model.hpp"

namespace runbook::load {

enum class StepRole { step, hook };

// Checks the `defaults:` map once, reporting its problems where they are
// written, and returns the fields to merge into every step and hook step that
// does not set them (a step's own field wins, field by field; a step with any
// of run/exec/uses takes none of them from the defaults). `id` and `needs`
// cannot be defaulted. Rollbacks take no defaults.
std::vector<Entry> load_defaults(YamlReader& r, const Entry& e);

// The list under `e` (`steps`, or a hook list named `list_name` like
// "hooks.on_failure"). Steps that are not maps are reported and left out.
std::vector<Step> load_steps(YamlReader& r, const Entry& e, const std::vector<Entry>& defaults,
                             StepRole role, std::string_view list_name);

}  // namespace runbook::load
