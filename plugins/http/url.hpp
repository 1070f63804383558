#pragma once

// URLs as the http step kind reads them: http:// or https://, a host, an
// optional port, and the rest as the request target.

#include <optional>
#include <string>
#include <string_view>

namespace runbook::http {

struct Url {
  bool tls = false;    // https
  std::string host;    // lowercased; an IPv6 address without brackets
  std::string port;    // always set: "80", "443" or as written
  std::string target;  // path and query, at least "/"; no fragment

  // The URL as a request line would show it: "http://127.0.0.1:8080/health".
  std::string text() const;
  // "host:port" with IPv6 hosts in brackets, for messages.
  std::string authority() const;
  // The Host header: the port only when it is not the scheme's default.
  std::string host_header() const;
  bool same_origin(const Url& other) const {
    return tls == other.tls && host == other.host && port == other.port;
  }
};

// Parses an absolute http(s) URL; nullopt with `why` set when it is not one.
std::optional<Url> parse_url(std::string_view text, std::string* why = nullptr);

// The URL a redirect's Location header points to, relative to `base`.
std::optional<Url> resolve_location(const Url& base, std::string_view location,
                                    std::string* why = nullptr);

}  // namespace runbook::http
