#include "serve/http_server.hpp"
#include "serve/listen_address.hpp"

#include <fcntl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstdio>
#include <limits>
#include <optional>
#include <string_view>
#include <unordered_map>

#include <spdlog/spdlog.h>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace runbook::serve {
namespace {

// After a response that ends a connection, the rest of what the peer sent is
// read and dropped for a while before closing: closing with unread input
// makes the kernel send a reset, which can destroy the response in flight
// (a 413 sent while the client is still uploading).
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 8 << 20;
constexpr size_t kLingerChunk = 16 << 10;
// Accepting again after an error such as EMFILE without spinning.
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

void set_close_on_exec(int fd) {
  int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

std::string byte_size(size_t n) {
  if (n >= (1u << 20) && n % (1u << 20) == 0) return std::to_string(n >> 20) + " MiB";
  if (n >= (1u << 10) && n % (1u << 10) == 0) return std::to_string(n >> 10) + " KiB";
  return std::to_string(n) + " bytes";
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      std::array<char, 8> escaped{};
      std::snprintf(escaped.data(), escaped.size(), "\\u%04x", static_cast<unsigned>(c));
      out += escaped.data();
    } else {
      out += c;
    }
  }
  return out + "\"";
}

HttpResponse error_response(int status, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.body = "{\"error\": " + json_string(message) + "}";
  return response;
}

std::string endpoint_text(const tcp::endpoint& endpoint) {
  std::string address = endpoint.address().to_string();
  if (endpoint.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(endpoint.port());
}

// Framing is the server's business; a handler cannot set these.
bool is_framing_field(std::string_view name) {
  return beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
         beast::iequals(name, "connection");
}

// A CR or LF in a field would let a handler's value split the response.
bool is_safe_field(std::string_view name, std::string_view value) {
  auto unsafe = [](char c) { return c == '\r' || c == '\n'; };
  return !name.empty() && name.find_first_of(" :\t") == std::string_view::npos &&
         std::none_of(name.begin(), name.end(), unsafe) &&
         std::none_of(value.begin(), value.end(), unsafe);
}

bool has_no_body(int status) {
  return status == 204 || status == 304;
}

class Connection;

}  // namespace

// What the HttpServer and its connections share. Connections keep it alive,
// so it outlives the HttpServer while their handlers are still queued.
class HttpServerState : public std::enable_shared_from_this<HttpServerState> {
 public:
  struct Listener {
    explicit Listener(asio::io_context& io) : acceptor(io), retry(io) {}
    tcp::acceptor acceptor;
    asio::steady_timer retry;
    uint16_t port = 0;
  };

  HttpServerState(asio::io_context& io, Handler handler, HttpServerLimits limits)
      : io(io), handler(std::move(handler)), limits(limits) {}

  void accept(Listener& listener);
  void stop_accepting();
  void close();

  asio::io_context& io;
  Handler handler;
  HttpServerLimits limits;
  std::vector<std::unique_ptr<Listener>> listeners;
  // Every open connection; a connection removes itself when it closes.
  std::unordered_map<Connection*, std::shared_ptr<Connection>> open;
  size_t serving = 0;     // connections admitted under max_connections
  bool draining = false;  // stop_accepting() or close() was called
  bool closed = false;

 private:
  void on_accept(Listener& listener, error_code error, tcp::socket socket);
  std::vector<std::shared_ptr<Connection>> open_connections() const;
};

namespace {

// One accepted socket: reads a request, hands it to the handler, writes the
// answer, and again while keep-alive lasts. Owned by HttpServerState::open
// until it closes; every call on the io_context's thread.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<HttpServerState> server, tcp::socket socket, bool admitted)
      : server_(std::move(server)),
        socket_(std::move(socket)),
        deadline_(socket_.get_executor()),
        admitted_(admitted) {}

  void start();
  // The handler's answer to request number `request`; ignored unless that
  // request is still waiting for it.
  void answer(uint64_t request, HttpResponse response);
  // Closes the connection unless a request is being read or handled.
  void stop_if_idle();
  void close();

 private:
  enum class Phase { waiting, reading, handling, writing, lingering, closed };

  void await_request();
  void start_reading();
  void on_header(error_code error);
  void read_body();
  void on_read_error(error_code error);
  void handle_request();
  void reply_and_close(int status, std::string_view message);
  void write(HttpResponse response, bool close_after);
  void on_written(error_code error);
  void linger();
  void drain();
  void arm(std::chrono::steady_clock::duration timeout);
  void disarm();
  void on_deadline();
  void release_slot();

  std::shared_ptr<HttpServerState> server_;
  tcp::socket socket_;
  asio::steady_timer deadline_;
  uint64_t deadline_generation_ = 0;  // a stale expiry is ignored
  bool admitted_;
  Phase phase_ = Phase::waiting;
  bool first_request_ = true;
  bool timed_out_ = false;
  std::string remote_;
  beast::flat_buffer buffer_;  // may hold the start of the next request
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  uint64_t request_ = 0;  // the number of the request last read
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool head_ = false;
  bool close_after_write_ = false;
  size_t drained_ = 0;
};

// Shared by the copies of one Responder: the first answer wins, and dropping
// the last copy unanswered answers 500 so the connection does not hang.
class PendingAnswer {
 public:
  PendingAnswer(std::weak_ptr<Connection> connection, asio::io_context::executor_type executor,
                uint64_t request)
      : connection_(std::move(connection)), executor_(std::move(executor)), request_(request) {}
  PendingAnswer(const PendingAnswer&) = delete;
  PendingAnswer& operator=(const PendingAnswer&) = delete;

  ~PendingAnswer() {
    try {
      if (!answered_.exchange(true))
        deliver(error_response(500, "the handler dropped the request unanswered"));
    } catch (...) {
      // Nothing sensible is left to do from a destructor; the idle or
      // close path will reclaim the connection.
    }
  }

  void answer(HttpResponse response) {
    if (answered_.exchange(true)) return;
    deliver(std::move(response));
  }

 private:
  void deliver(HttpResponse response) {
    if (connection_.expired()) return;
    // Inline on the io_context's thread; queued to it from any other.
    asio::dispatch(executor_, [connection = connection_, request = request_,
                               response = std::move(response)]() mutable {
      if (auto live = connection.lock()) live->answer(request, std::move(response));
    });
  }

  std::weak_ptr<Connection> connection_;
  asio::io_context::executor_type executor_;
  uint64_t request_;
  std::atomic<bool> answered_{false};
};

}  // namespace

void Connection::start() {
  error_code ignored;
  tcp::endpoint peer = socket_.remote_endpoint(ignored);
  if (!ignored) remote_ = endpoint_text(peer);
  socket_.set_option(tcp::no_delay(true), ignored);  // responses are written whole
  if (!admitted_) {
    write(error_response(503, "too many connections"), true);
    return;
  }
  await_request();
}

// Waits for the first byte of the next request without a parser: the idle
// timeout runs until it arrives, the read timeout from then on.
void Connection::await_request() {
  phase_ = Phase::waiting;
  const HttpServerLimits& limits = server_->limits;
  arm(first_request_ ? limits.read_timeout : limits.idle_timeout);
  if (buffer_.size() > 0) {
    start_reading();  // pipelined: already here
    return;
  }
  socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code error) {
    if (self->phase_ != Phase::waiting) return;
    if (error) {
      self->close();
      return;
    }
    self->start_reading();
  });
}

void Connection::start_reading() {
  phase_ = Phase::reading;
  const HttpServerLimits& limits = server_->limits;
  // A first request's clock started at the accept.
  if (!first_request_) arm(limits.read_timeout);
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(
      std::min<size_t>(limits.max_header, std::numeric_limits<uint32_t>::max())));
  parser_->body_limit(static_cast<uint64_t>(limits.max_body));
  http::async_read_header(socket_, buffer_, *parser_,
                          [self = shared_from_this()](error_code error, size_t) {
                            if (self->phase_ == Phase::reading) self->on_header(error);
                          });
}

void Connection::on_header(error_code error) {
  if (error) {
    on_read_error(error);
    return;
  }
  const auto& request = parser_->get();
  bool expects_continue = request.version() >= 11 && !parser_->is_done() &&
                          beast::iequals(request[http::field::expect], "100-continue");
  if (!expects_continue) {
    read_body();
    return;
  }
  asio::async_write(socket_, asio::buffer(kContinue),
                    [self = shared_from_this()](error_code error, size_t) {
                      if (self->phase_ != Phase::reading) return;
                      if (error)
                        self->on_read_error(error);
                      else
                        self->read_body();
                    });
}

void Connection::read_body() {
  if (parser_->is_done()) {
    handle_request();
    return;
  }
  http::async_read(socket_, buffer_, *parser_,
                   [self = shared_from_this()](error_code error, size_t) {
                     if (self->phase_ != Phase::reading) return;
                     if (error)
                       self->on_read_error(error);
                     else
                       self->handle_request();
                   });
}

void Connection::on_read_error(error_code error) {
  const HttpServerLimits& limits = server_->limits;
  if (timed_out_) {
    reply_and_close(
        408, "request not received within " + std::to_string(limits.read_timeout.count()) + " ms");
  } else if (error == http::error::body_limit) {
    reply_and_close(413, "request body over " + byte_size(limits.max_body));
  } else if (error == http::error::header_limit) {
    reply_and_close(431, "request header over " + byte_size(limits.max_header));
  } else if (error.category() == http::make_error_code(http::error::bad_method).category() &&
             error != http::error::end_of_stream && error != http::error::partial_message) {
    reply_and_close(400, "malformed request: " + error.message());
  } else {
    close();  // the peer went away or the socket failed: nobody to answer
  }
}

void Connection::handle_request() {
  auto self = shared_from_this();  // the handler may close the server
  phase_ = Phase::handling;
  disarm();
  first_request_ = false;

  auto& message = parser_->get();
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto [it, inserted] = request.headers.try_emplace(std::move(name), field.value());
    if (!inserted) it->second.append(", ").append(field.value());
  }
  request.body = std::move(message.body());
  request.remote = remote_;
  version_ = message.version();
  keep_alive_ = message.keep_alive();
  head_ = message.method() == http::verb::head;
  parser_.reset();

  auto pending =
      std::make_shared<PendingAnswer>(weak_from_this(), server_->io.get_executor(), ++request_);
  Responder responder = [pending](HttpResponse response) { pending->answer(std::move(response)); };
  try {
    server_->handler(request, responder);
  } catch (const std::exception& e) {
    spdlog::error("HTTP handler for {} {} failed: {}", request.method, request.target, e.what());
    responder(error_response(500, "internal error"));
  } catch (...) {
    spdlog::error("HTTP handler for {} {} failed", request.method, request.target);
    responder(error_response(500, "internal error"));
  }
}

void Connection::answer(uint64_t request, HttpResponse response) {
  if (phase_ != Phase::handling || request != request_) return;
  write(std::move(response), false);
}

void Connection::reply_and_close(int status, std::string_view message) {
  version_ = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
  head_ = false;
  parser_.reset();
  write(error_response(status, message), true);
}

void Connection::write(HttpResponse answer, bool close_after) {
  close_after_write_ = close_after || !keep_alive_ || server_->draining;
  try {
    if (answer.status < 200 || answer.status > 599) {
      spdlog::error("HTTP handler answered with status {}", answer.status);
      answer = error_response(500, "invalid response status " + std::to_string(answer.status));
    }
    response_ = {};
    response_.version(version_);
    response_.result(static_cast<unsigned>(answer.status));
    response_.set(http::field::server, "runbook");
    if (!answer.content_type.empty() && is_safe_field("content-type", answer.content_type))
      response_.set(http::field::content_type, answer.content_type);
    for (const auto& [name, value] : answer.headers) {
      if (is_framing_field(name) || !is_safe_field(name, value)) continue;
      if (beast::iequals(name, "server") || beast::iequals(name, "content-type"))
        response_.set(name, value);
      else
        response_.insert(name, value);
    }
    response_.set(http::field::connection, close_after_write_ ? "close" : "keep-alive");
    if (!has_no_body(answer.status)) {
      response_.content_length(answer.body.size());
      if (!head_) response_.body() = std::move(answer.body);
    }
  } catch (const std::exception& e) {
    spdlog::error("HTTP response not written: {}", e.what());
    close();
    return;
  }
  phase_ = Phase::writing;
  arm(server_->limits.write_timeout);
  http::async_write(socket_, response_, [self = shared_from_this()](error_code error, size_t) {
    if (self->phase_ == Phase::writing) self->on_written(error);
  });
}

void Connection::on_written(error_code error) {
  disarm();
  response_ = {};
  if (error)
    close();
  else if (close_after_write_)
    linger();
  else
    await_request();
}

void Connection::linger() {
  phase_ = Phase::lingering;
  release_slot();
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  arm(kLingerTime);
  buffer_.clear();
  drain();
}

void Connection::drain() {
  socket_.async_read_some(buffer_.prepare(kLingerChunk),
                          [self = shared_from_this()](error_code error, size_t n) {
                            if (self->phase_ != Phase::lingering) return;
                            self->drained_ += n;
                            if (error || self->drained_ > kLingerBytes)
                              self->close();
                            else
                              self->drain();
                          });
}

void Connection::stop_if_idle() {
  error_code ignored;
  if (phase_ == Phase::waiting && socket_.available(ignored) == 0) close();
}

void Connection::close() {
  if (phase_ == Phase::closed) return;
  auto self = shared_from_this();  // erasing it below may drop the last owner
  phase_ = Phase::closed;
  release_slot();
  disarm();
  error_code ignored;
  socket_.close(ignored);
  server_->open.erase(this);
}

void Connection::arm(std::chrono::steady_clock::duration timeout) {
  deadline_.expires_after(timeout);
  deadline_.async_wait(
      [self = shared_from_this(), generation = ++deadline_generation_](error_code error) {
        if (!error && generation == self->deadline_generation_) self->on_deadline();
      });
}

void Connection::disarm() {
  ++deadline_generation_;
  deadline_.cancel();
}

void Connection::on_deadline() {
  switch (phase_) {
    case Phase::reading: {
      // Cancelling the read makes it end with an error that on_read_error
      // answers with 408; the socket stays open for that answer.
      timed_out_ = true;
      error_code ignored;
      socket_.cancel(ignored);
      break;
    }
    case Phase::waiting:  // nothing of a request arrived: nothing to answer
    case Phase::writing:  // the peer does not read
    case Phase::lingering:
      close();
      break;
    case Phase::handling:
    case Phase::closed:
      break;
  }
}

void Connection::release_slot() {
  if (!admitted_) return;
  admitted_ = false;
  --server_->serving;
}

void HttpServerState::accept(Listener& listener) {
  listener.acceptor.async_accept(
      [self = shared_from_this(), &listener](error_code error, tcp::socket socket) {
        self->on_accept(listener, error, std::move(socket));
      });
}

void HttpServerState::on_accept(Listener& listener, error_code error, tcp::socket socket) {
  if (draining || !listener.acceptor.is_open()) return;
  if (error) {
    if (error != asio::error::connection_aborted)
      spdlog::warn("HTTP server: accept failed: {}", error.message());
    listener.retry.expires_after(kAcceptRetry);
    listener.retry.async_wait([self = shared_from_this(), &listener](error_code error) {
      if (!error && !self->draining) self->accept(listener);
    });
    return;
  }
  set_close_on_exec(socket.native_handle());
  bool admitted = serving < limits.max_connections;
  if (admitted) ++serving;
  auto connection = std::make_shared<Connection>(shared_from_this(), std::move(socket), admitted);
  open.emplace(connection.get(), connection);
  connection->start();
  accept(listener);
}

std::vector<std::shared_ptr<Connection>> HttpServerState::open_connections() const {
  std::vector<std::shared_ptr<Connection>> connections;
  connections.reserve(open.size());
  for (const auto& [key, connection] : open) connections.push_back(connection);
  return connections;
}

void HttpServerState::stop_accepting() {
  draining = true;
  for (auto& listener : listeners) {
    error_code ignored;
    listener->acceptor.close(ignored);
    listener->retry.cancel();
  }
  for (const auto& connection : open_connections()) connection->stop_if_idle();
}

void HttpServerState::close() {
  stop_accepting();
  closed = true;
  for (const auto& connection : open_connections()) connection->close();
}

HttpServer::HttpServer(asio::io_context& io, Handler handler, HttpServerLimits limits)
    : state_(std::make_shared<HttpServerState>(io, std::move(handler), limits)) {}

HttpServer::~HttpServer() {
  state_->close();
}

std::string HttpServer::listen(const std::string& address) {
  HttpServerState& state = *state_;
  auto failure = [&](const std::string& why) { return "cannot listen on " + address + ": " + why; };
  if (state.draining) return failure("the server has stopped accepting");
  Expected<ListenAddress, std::string> parsed = parse_listen_address(address);
  if (!parsed) return failure(parsed.error());
  const ListenAddress& parts = parsed.value();

  error_code error;
  tcp::endpoint endpoint;
  asio::ip::address ip = asio::ip::make_address(parts.host, error);
  uint16_t port = parts.port;
  if (!error) {
    endpoint = tcp::endpoint(ip, port);
  } else {
    tcp::resolver resolver(state.io);
    auto results =
        resolver.resolve(parts.host, std::to_string(port), tcp::resolver::passive, error);
    if (error || results.empty())
      return failure(error ? error.message() : "the host has no address");
    endpoint = results.begin()->endpoint();
  }

  auto listener = std::make_unique<HttpServerState::Listener>(state.io);
  tcp::acceptor& acceptor = listener->acceptor;
  acceptor.open(endpoint.protocol(), error);
  if (error) return failure(error.message());
  set_close_on_exec(acceptor.native_handle());
  acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  acceptor.bind(endpoint, error);
  if (error) return failure(error.message());
  acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) return failure(error.message());
  listener->port = acceptor.local_endpoint(error).port();
  state.listeners.push_back(std::move(listener));
  state.accept(*state.listeners.back());
  return "";
}

uint16_t HttpServer::port() const {
  return state_->listeners.empty() ? 0 : state_->listeners.front()->port;
}

void HttpServer::stop_accepting() {
  state_->stop_accepting();
}

void HttpServer::close() {
  state_->close();
}

size_t HttpServer::connections() const {
  return state_->serving;
}

}  // namespace runbook::serve
