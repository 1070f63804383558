#pragma once

#include <string_view>

namespace runbook {

// The JSON Schema (draft 2020-12) of the runbook format, version 1, as JSON text
// ending with a newline. For editors (yaml-language-server) and linters; the
// loader remains the authority on what is valid. Static storage: the view never
// dangles.
std::string_view runbook_json_schema();

}  // namespace runbook
