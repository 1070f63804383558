#pragma once

// A run's params: resolved from the command line, a params file, an API call,
// defaults and secret sources, checked against their declarations; and the
// masking of secret values in everything the engine writes.

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "runbook/diagnostics.hpp"
#include "runbook/model.hpp"
#include "runbook/value.hpp"

namespace runbook {

// Replaces every occurrence of any secret with `***`. Immutable after
// construction, so one masker may be shared by threads.
class SecretMasker {
 public:
  static constexpr size_t kMinSecretLength = 4;
  static constexpr std::string_view kMask = "***";

  SecretMasker() = default;
  // Secrets shorter than kMinSecretLength are ignored: masking "ab" would
  // garble every line (resolve_params refuses them). Duplicates are merged.
  explicit SecretMasker(std::vector<std::string> secrets);

  bool empty() const { return secrets_.empty(); }
  // Where secrets overlap, the longest wins. O(n) for text with none of the
  // secrets' first bytes; O(n · secrets) at worst.
  std::string mask(std::string_view text) const;

 private:
  std::vector<std::string> secrets_;  // longest first
  std::array<bool, 256> first_byte_{};
};

// Where a run's param values come from. A later source wins over an earlier
// one: `values`, then `params_file`, then `pairs` in order; then a secret's
// `env:`/`file:`, then the default.
struct ParamSources {
  std::vector<std::string> pairs;  // "NAME=VALUE", from -p
  std::string params_file;         // a YAML or JSON map; empty for none
  Value::Map values;  // from the HTTP API or a schedule; strings are read like -p values
};

struct ResolvedParams {
  Value::Map values;                 // every declared param; null when it has none
  std::vector<std::string> secrets;  // the values of secret params, for SecretMasker
};

// Reads and checks every param, reporting every problem to `diags` (the run
// must not start unless it stays empty): unknown names (the nearest known one
// suggested), missing required params, wrong types, pattern (whole value),
// allowed, min and max (int: the value; string and list: the length), secrets
// shorter than 4 characters, unreadable params and secret files.
//
// Text values (-p, strings in `values`) are read by the param's type: int as
// a decimal integer; bool as true/false/yes/no/1/0; list as a JSON list
// (`["a","b"]`) or comma-separated (`a,b`, spaces around items trimmed; ''
// is the empty list). Params file values must have the param's type, except
// that a string param takes any scalar as written. A secret's `file:` is read
// with one trailing newline removed. Reads the process environment and files.
ResolvedParams resolve_params(const Runbook& runbook, const ParamSources& sources,
                              Diagnostics& diags);

// The values as one JSON object, secret params as "***" (for history, audit
// and `show`).
std::string params_json_masked(const Runbook& runbook, const Value::Map& values);

// `--help-params`: each param with its type, required or default, constraints
// and description, for people.
std::string format_params_help(const Runbook& runbook);

}  // namespace runbook
