#pragma once

// The HTTP/1.1 server under `runbook serve`. Beast stays inside
// http_server.cpp: it compiles slowly, and nothing else needs to see it.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace runbook::serve {

// One request, read whole (headers and body) before the handler sees it.
struct HttpRequest {
  std::string method;                          // as sent: "GET", "POST"
  std::string target;                          // path and query: "/runs?limit=5"
  std::map<std::string, std::string> headers;  // lower-case names; repeats joined by ", "
  std::string body;
  std::string remote;  // the peer: "127.0.0.1:53211", "[::1]:53211"
};

// The handler's answer. Content-Length, Connection and Server are added by the
// server; those three (and Transfer-Encoding) are ignored in `headers`.
struct HttpResponse {
  int status = 200;                               // outside 200–599: answered as 500
  std::string content_type = "application/json";  // empty: no Content-Type
  std::string body{};
  std::vector<std::pair<std::string, std::string>> headers{};
};

// Answers one request. Call it once: later calls do nothing, and so does a
// call after the connection was closed. It may be called from any thread
// while the io_context lives (the answer is written on the io_context's
// thread) and may be called later than the handler returns. Dropping every
// copy without calling it answers 500.
using Responder = std::function<void(HttpResponse)>;

// Called on the io_context's thread for every request, one at a time per
// connection. An exception out of it answers 500 (unless it already answered).
using Handler = std::function<void(const HttpRequest&, Responder)>;

struct HttpServerLimits {
  size_t max_body = 1 << 20;     // a larger body: 413, connection closed
  size_t max_header = 16 << 10;  // start line and headers; larger: 431, closed
  // From the first byte of a request (from the accept, for a connection's
  // first request) until it was read whole; slower: 408, closed.
  std::chrono::milliseconds read_timeout{10000};
  // A keep-alive connection waiting for its next request is closed after this.
  std::chrono::milliseconds idle_timeout{30000};
  // Writing one response; a peer that does not read is disconnected.
  std::chrono::milliseconds write_timeout{30000};
  // Connections served at once; one more is answered 503 and closed.
  size_t max_connections = 1024;
};

class HttpServerState;  // http_server.cpp

// Serves HTTP/1.1 (keep-alive, pipelining answered in order, 100-continue)
// and HTTP/1.0 on any number of listening addresses. Every call on the
// io_context's thread; handlers are called there too. Destroying it closes
// everything, as close() does; it must be destroyed before the io_context.
class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, Handler handler, HttpServerLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Starts accepting on `address`: "127.0.0.1:9095", "[::1]:0", "0.0.0.0:80",
  // "localhost:9095" (a name: its first address). Port 0 picks a free one
  // (see port()). May be called again to listen on more addresses. Returns ""
  // or why it could not listen.
  std::string listen(const std::string& address);

  // The port the first listening address is bound to; 0 before listen().
  uint16_t port() const;

  // Closes the listeners. Requests already being read or handled are still
  // answered, with "Connection: close"; idle keep-alive connections are
  // closed. Once the last connection has closed the server holds no work on
  // the io_context. Idempotent.
  void stop_accepting();

  // Closes the listeners and every connection now. Responders still held
  // then do nothing. Idempotent.
  void close();

  // Connections being served (not counting ones refused with 503 or being
  // closed).
  size_t connections() const;

 private:
  std::shared_ptr<HttpServerState> state_;
};

}  // namespace runbook::serve
