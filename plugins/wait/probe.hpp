#pragma once

// One look at what a `wait` step waits for.

#include <cstdint>
#include <functional>
#include <string>

namespace runbook::wait {

struct PortProbe {
  bool open = false;
  std::string why_closed;  // "connection refused", "no answer within 1s", ...
};

// Tries a TCP connection to each address of `host` (a name or a numeric
// address) on `port`, giving each try up to `limit_ms`; open when one is
// accepted. The connection is closed at once. Returns early, closed, when
// `cancelled` (asked every 100 ms) says so.
PortProbe probe_port(const std::string& host, int port, int64_t limit_ms,
                     const std::function<bool()>& cancelled);

// True when stat() finds `path` (a symbolic link counts as its target).
bool path_exists(const std::string& path);

}  // namespace runbook::wait
