#include "runbook/model.hpp"

#include <algorithm>

namespace runbook {

const char* to_string(ParamType t) {
  switch (t) {
    case ParamType::string:
      return "string";
    case ParamType::integer:
      return "int";
    case ParamType::boolean:
      return "bool";
    case ParamType::list:
      return "list";
    case ParamType::secret:
      return "secret";
  }
  return "string";
}

bool AllowFailure::allows(int exit_code) const {
  if (any) return true;
  return std::find(exit_codes.begin(), exit_codes.end(), exit_code) != exit_codes.end();
}

const Step* Runbook::find_step(std::string_view id) const {
  for (const std::vector<Step>* list :
       {&steps, &hooks.on_success, &hooks.on_failure, &hooks.finally}) {
    for (const Step& step : *list) {
      if (step.id == id) return &step;
    }
  }
  return nullptr;
}

const Param* Runbook::find_param(std::string_view name) const {
  for (const Param& param : params) {
    if (param.name == name) return &param;
  }
  return nullptr;
}

}  // namespace runbook
