#pragma once

// The `params:` map: each param's type and constraints, with its default
// checked against them. Internal to the loader.

#include <vector>

#include "load/yaml_reader.hpp"
#include "runbook/model.hpp"

namespace runbook::load {

std::vector<Param> load_params(YamlReader& r, const Entry& e);

}  // namespace runbook::load
