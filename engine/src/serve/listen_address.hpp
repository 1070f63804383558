#pragma once

// The address a server listens on, as written in its config: "host:port" or
// "[v6]:port".

#include <cstdint>
#include <string>
#include <string_view>

#include "runbook/expected.hpp"

namespace runbook::serve {

struct ListenAddress {
  std::string host;   // a name, an IPv4 address, or an IPv6 address without brackets
  uint16_t port = 0;  // 0: any free port
};

// Parses `address`; the error says why it is not one ("an IPv6 address must be
// in brackets, like [::1]:9095").
Expected<ListenAddress, std::string> parse_listen_address(std::string_view address);

}  // namespace runbook::serve
