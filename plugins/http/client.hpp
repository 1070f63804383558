#pragma once

// One HTTP(S) exchange: connect, send a request, read the answer. The only
// part of the plugin that sees Asio and Beast.

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "url.hpp"

namespace runbook::http {

struct ClientRequest {
  std::string method;
  Url url;
  // Sent after Host, User-Agent, Accept and Connection, replacing those of
  // the same name.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool has_body = false;  // send Content-Length even when `body` is empty
  size_t max_body = 0;    // bytes of the answer's body kept; the rest is not read
  bool insecure = false;  // https: no certificate or host name check
  std::string ca_file;    // https: trust these CAs too; "" for the system's only
};

// How an exchange ended when it got no answer.
enum class ClientFailure {
  none,
  resolve,    // the host name did not resolve
  connect,    // refused, unreachable...
  tls,        // the TLS handshake failed (certificate included)
  transport,  // the connection broke while sending or reading
  protocol,   // the answer is not HTTP
  timeout,    // the deadline passed
  cancelled,  // `cancelled()` turned true
  setup,      // nothing was sent: e.g. ca_file cannot be read
};

struct ClientResponse {
  ClientFailure failure = ClientFailure::none;
  std::string reason;  // when failure != none: "connection refused (127.0.0.1:1)"
  int status = 0;
  std::string location;  // the Location header, for redirects
  std::string body;      // at most max_body bytes
  bool truncated = false;
};

// Runs the exchange on the calling thread, in an io_context of its own. It
// ends by itself at `deadline`, and within about 50 ms of `cancelled()`
// returning true (polled from the same thread).
ClientResponse send_request(const ClientRequest& request,
                            std::chrono::steady_clock::time_point deadline,
                            const std::function<bool()>& cancelled);

}  // namespace runbook::http
