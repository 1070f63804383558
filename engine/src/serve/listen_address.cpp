#include "serve/listen_address.hpp"

#include <cctype>

namespace runbook::serve {
namespace {

bool is_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  int port = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    port = port * 10 + (c - '0');
  }
  return port <= 65535;
}

std::string listen_problem(std::string_view address, ListenAddress& out) {
  std::string_view host, port;
  if (address.starts_with('[')) {
    const size_t close = address.find(']');
    if (close == std::string_view::npos) return "the ']' closing the IPv6 address is missing";
    host = address.substr(1, close - 1);
    const std::string_view rest = address.substr(close + 1);
    if (!rest.starts_with(':')) return "the port is missing after ']'";
    port = rest.substr(1);
    const std::string_view ip = host.substr(0, host.find('%'));  // "%eth0": a zone
    if (ip.find(':') == std::string_view::npos) return "'" + std::string(host) + "' is not IPv6";
    for (char c : ip) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
        return "'" + std::string(host) + "' is not an IPv6 address";
    }
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) return "the port is missing";
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return "an IPv6 address must be in brackets, like [::1]:9095";
    if (host.empty()) return "the host is missing";
    for (char c : host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-')
        return "'" + std::string(host) + "' is not a host name or an IPv4 address";
    }
  }
  if (!is_port(port)) return "the port must be a number from 0 to 65535";
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(std::stoul(std::string(port)));
  return {};
}

}  // namespace

Expected<ListenAddress, std::string> parse_listen_address(std::string_view address) {
  ListenAddress parsed;
  std::string problem = listen_problem(address, parsed);
  if (!problem.empty()) return problem;
  return parsed;
}

}  // namespace runbook::serve
