#pragma once

// What a `wait` step waits for: its `with` map, checked and read.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "runbook/plugin.hpp"

namespace runbook::wait {

// A TCP port that should accept connections (open) or refuse them (closed).
struct PortTarget {
  std::string host = "127.0.0.1";
  int port = 0;
  bool open = true;
};

// A path that should exist (anything stat() finds) or be absent.
struct FileTarget {
  std::string path;
  bool exists = true;
};

// A fixed wait.
struct DurationTarget {
  int64_t ms = 0;
};

using Target = std::variant<PortTarget, FileTarget, DurationTarget>;

struct WaitSpec {
  Target target;
  int64_t interval_ms = 500;
  // Give up after this long; nullopt: wait until the step's timeout or
  // deadline, or kDefaultTimeoutMs when it has neither.
  std::optional<int64_t> timeout_ms;
};

// How long to wait when neither `timeout` nor the step bounds the wait.
inline constexpr int64_t kDefaultTimeoutMs = 5 * 60 * 1000;

// Receives one problem: the argument's dotted path ("port.state", "" for the
// whole map) and what is wrong with it.
using ReportFn = std::function<void(const std::string& path, const std::string& message)>;

// Reads `with`, reporting every problem. When `validating` (the map as
// written, before ${{ }} is resolved), a string holding `${{` is accepted
// for any argument. Returns the spec when nothing was reported.
std::optional<WaitSpec> read_wait_spec(const sdk::Json& with, bool validating,
                                       const ReportFn& report);

}  // namespace runbook::wait
