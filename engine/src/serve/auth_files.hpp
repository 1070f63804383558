#pragma once

// The files holding the trigger server's credentials (`auth:` in its config,
// serve/server_config.hpp). They are refused, as ssh refuses a private key,
// when group or others may access them. Secrets never appear in diagnostics.

#include <optional>
#include <string>
#include <vector>

#include "runbook/diagnostics.hpp"

namespace runbook::serve {

// Reads the bearer tokens file: one token per line, surrounding blanks
// trimmed, blank lines and lines starting with `#` skipped, duplicates merged.
// Refuses (nullopt, with the reason in `diags`) a file that is missing,
// unreadable, not a regular file, larger than 1 MiB, holds no token, or a
// token that is not printable ASCII without blanks (its line and column are
// reported, never the token), or that group or others may access at all.
std::optional<std::vector<std::string>> load_bearer_tokens(const std::string& path,
                                                           Diagnostics& diags);

// Reads the HMAC secret of /v1/hooks/*: the whole file less one trailing
// newline, under the same file rules as load_bearer_tokens; an empty secret is
// refused.
std::optional<std::string> load_hmac_secret(const std::string& path, Diagnostics& diags);

}  // namespace runbook::serve
