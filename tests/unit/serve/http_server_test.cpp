#include "serve/http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using runbook::serve::Handler;
using runbook::serve::HttpRequest;
using runbook::serve::HttpResponse;
using runbook::serve::HttpServer;
using runbook::serve::HttpServerLimits;
using runbook::serve::Responder;
using Clock = std::chrono::steady_clock;

namespace {

// An HttpServer on 127.0.0.1, port 0, run by its own thread.
class TestServer {
 public:
  explicit TestServer(Handler handler, HttpServerLimits limits = {}) {
    server_.emplace(io_, std::move(handler), limits);
    std::string error = server_->listen("127.0.0.1:0");
    REQUIRE(error == "");
    port = server_->port();
    REQUIRE(port != 0);
    thread_ = std::thread([this] { io_.run(); });
  }

  // Runs `f` on the server's thread and waits for it.
  template <class F>
  auto on_io(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }

  ~TestServer() {
    on_io([this] { server_->close(); });
    io_.stop();
    thread_.join();
    server_.reset();
  }

  HttpServer& server() { return *server_; }
  asio::io_context& io() { return io_; }

  uint16_t port = 0;

 private:
  asio::io_context io_;
  // run() must not return when the server has nothing left to do.
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::optional<HttpServer> server_;
  std::thread thread_;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// A blocking client socket speaking raw HTTP text; every wait is bounded.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    if (!connected_) connect_errno_ = errno;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  int connect_errno() const { return connect_errno_; }

  bool send(std::string_view text) {
    while (!text.empty()) {
      ssize_t n = ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      text.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Whether something (or EOF) is waiting to be read.
  bool readable() {
    pollfd p{fd_, POLLIN, 0};
    return !pending_.empty() || ::poll(&p, 1, 0) > 0;
  }

  // Reads until `pending_` holds `n` bytes; false on EOF, error or timeout.
  bool fill(size_t n, Clock::time_point deadline) {
    std::array<char, 65536> chunk{};
    while (pending_.size() < n) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left <= 0ms) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      ssize_t got = ::recv(fd_, chunk.data(), chunk.size(), 0);
      if (got <= 0) return false;
      pending_.append(chunk.data(), static_cast<size_t>(got));
    }
    return true;
  }

  // The next response (Content-Length framed, no body after HEAD), or nullopt.
  std::optional<Response> read_response(std::chrono::milliseconds timeout = 5000ms,
                                        bool head_request = false) {
    auto deadline = Clock::now() + timeout;
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos)
      if (!fill(pending_.size() + 1, deadline)) return std::nullopt;
    std::string head = pending_.substr(0, end + 2);
    pending_.erase(0, end + 4);

    Response response;
    if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12) return std::nullopt;
    response.status = std::stoi(head.substr(9, 3));
    size_t line = head.find("\r\n") + 2;
    while (line < head.size()) {
      size_t eol = head.find("\r\n", line);
      std::string field = head.substr(line, eol - line);
      size_t colon = field.find(':');
      std::string name = field.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t value = field.find_first_not_of(' ', colon + 1);
      response.headers[name] = value == std::string::npos ? "" : field.substr(value);
      line = eol + 2;
    }
    size_t length = 0;
    if (auto it = response.headers.find("content-length");
        it != response.headers.end() && !head_request)
      length = std::stoul(it->second);
    if (!fill(length, deadline)) return std::nullopt;
    response.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return response;
  }

  // True when the server closes the connection (EOF or reset) within
  // `timeout`, dropping anything else it sends.
  bool closed_by_server(std::chrono::milliseconds timeout = 5000ms) {
    auto deadline = Clock::now() + timeout;
    std::array<char, 65536> chunk{};
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left <= 0ms) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      ssize_t got = ::recv(fd_, chunk.data(), chunk.size(), 0);
      if (got <= 0) return true;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  int connect_errno_ = 0;
  std::string pending_;
};

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n";
}

std::string post(const std::string& target, const std::string& body) {
  return "POST " + target + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Answers with the method and target; echoes the body.
void echo(const HttpRequest& request, const Responder& respond) {
  HttpResponse response;
  response.content_type = "text/plain";
  response.body = request.method + " " + request.target + "\n" + request.body;
  response.headers.emplace_back("X-Remote", request.remote);
  respond(std::move(response));
}

// Answers after `delay` through a timer on the server's io_context.
Handler delayed(asio::io_context& io, std::chrono::milliseconds delay) {
  return [&io, delay](const HttpRequest& request, const Responder& respond) {
    auto timer = std::make_shared<asio::steady_timer>(io, delay);
    timer->async_wait([timer, respond, target = request.target](boost::system::error_code) {
      respond(HttpResponse{.body = R"({"target": ")" + target + R"("})"});
    });
  };
}

}  // namespace

TEST_CASE("a GET request is answered with the handler's response" * doctest::timeout(10)) {
  TestServer server(echo);
  Client client(server.port);
  REQUIRE(client.connected());
  REQUIRE(client.send(get("/runs?limit=5")));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == "GET /runs?limit=5\n");
  CHECK(response->headers["content-type"] == "text/plain");
  CHECK(response->headers["content-length"] == "18");
  CHECK(response->headers["server"] == "runbook");
  CHECK(response->headers["connection"] == "keep-alive");
  CHECK(response->headers["x-remote"].rfind("127.0.0.1:", 0) == 0);
}

TEST_CASE("the handler sees the method, target, lower-case headers and body" *
          doctest::timeout(10)) {
  std::promise<HttpRequest> seen;
  TestServer server([&seen](const HttpRequest& request, const Responder& respond) {
    seen.set_value(request);
    respond({});
  });
  Client client(server.port);
  REQUIRE(
      client.send("PUT /a/b HTTP/1.1\r\nHost: h\r\nX-Token: one\r\nx-token: two\r\nContent-Length: "
                  "3\r\n\r\nabc"));
  REQUIRE(client.read_response());
  HttpRequest request = seen.get_future().get();
  CHECK(request.method == "PUT");
  CHECK(request.target == "/a/b");
  CHECK(request.headers["host"] == "h");
  CHECK(request.headers["x-token"] == "one, two");
  CHECK(request.body == "abc");
}

TEST_CASE("two requests on one keep-alive connection are both answered" * doctest::timeout(10)) {
  TestServer server(echo);
  Client client(server.port);
  REQUIRE(client.send(get("/first")));
  auto first = client.read_response();
  REQUIRE(first);
  CHECK(first->body == "GET /first\n");
  REQUIRE(client.send(get("/second")));
  auto second = client.read_response();
  REQUIRE(second);
  CHECK(second->body == "GET /second\n");
}

TEST_CASE("pipelined requests are answered in order" * doctest::timeout(10)) {
  TestServer server(echo);
  Client client(server.port);
  REQUIRE(client.send(get("/1") + post("/2", "two") + get("/3")));
  auto one = client.read_response();
  auto two = client.read_response();
  auto three = client.read_response();
  REQUIRE((one && two && three));
  CHECK(one->body == "GET /1\n");
  CHECK(two->body == "POST /2\ntwo");
  CHECK(three->body == "GET /3\n");
}

TEST_CASE("a POST body is echoed back" * doctest::timeout(10)) {
  TestServer server(echo);
  Client client(server.port);
  std::string body(100000, 'x');
  body += "end";
  REQUIRE(client.send(post("/echo", body)));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == "POST /echo\n" + body);
}

TEST_CASE("a body of exactly max_body is accepted" * doctest::timeout(10)) {
  TestServer server(echo);
  Client client(server.port);
  REQUIRE(client.send(post("/", std::string(1 << 20, 'b'))));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body.size() == (1u << 20) + 7);  // "POST /\n" and the body
}

TEST_CASE("a body one byte over 1 MiB is refused with 413 and the connection closed" *
          doctest::timeout(10)) {
  std::atomic<int> calls = 0;
  TestServer server([&calls](const HttpRequest& request, const Responder& respond) {
    ++calls;
    echo(request, respond);
  });
  Client client(server.port);
  client.send(post("/", std::string((1 << 20) + 1, 'b')));  // the server may stop reading
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 413);
  CHECK(response->body == R"({"error": "request body over 1 MiB"})");
  CHECK(response->headers["content-type"] == "application/json");
  CHECK(response->headers["connection"] == "close");
  CHECK(client.closed_by_server());
  CHECK(calls == 0);
}

TEST_CASE("a chunked body over max_body is refused with 413" * doctest::timeout(10)) {
  TestServer server(echo, {.max_body = 1000});
  Client client(server.port);
  std::string request = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) request += "1f4\r\n" + std::string(500, 'c') + "\r\n";
  client.send(request + "0\r\n\r\n");
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 413);
  CHECK(response->body == R"({"error": "request body over 1000 bytes"})");
  CHECK(client.closed_by_server());
}

TEST_CASE("a header over max_header is refused with 431" * doctest::timeout(10)) {
  TestServer server(echo);
  Client client(server.port);
  client.send(get("/", "X-Big: " + std::string(20000, 'h') + "\r\n"));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 431);
  CHECK(response->body == R"({"error": "request header over 16 KiB"})");
  CHECK(client.closed_by_server());
}

TEST_CASE("a malformed request is answered 400 and the connection closed" * doctest::timeout(10)) {
  for (std::string garbage :
       {"GARBAGE\r\n\r\n", "\x01\x02\x03 / HTTP/1.1\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"}) {
    CAPTURE(garbage);
    TestServer server(echo);
    Client client(server.port);
    REQUIRE(client.send(garbage));
    auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 400);
    CHECK(response->body.rfind(R"({"error": "malformed request)", 0) == 0);
    CHECK(client.closed_by_server());
  }
}

TEST_CASE("an HTTP/1.0 request is answered and the connection closed" * doctest::timeout(10)) {
  TestServer server(echo);
  Client client(server.port);
  REQUIRE(client.send("GET /old HTTP/1.0\r\n\r\n"));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->headers["connection"] == "close");
  CHECK(client.closed_by_server());
}

TEST_CASE("Connection: close from the client closes after the answer" * doctest::timeout(10)) {
  TestServer server(echo);
  Client client(server.port);
  REQUIRE(client.send(get("/", "Connection: close\r\n")));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->headers["connection"] == "close");
  CHECK(client.closed_by_server());
}

TEST_CASE("a client expecting 100-continue is told to continue before sending the body" *
          doctest::timeout(10)) {
  TestServer server(echo);
  Client client(server.port);
  REQUIRE(client.send(
      "POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  auto interim = client.read_response();
  REQUIRE(interim);
  CHECK(interim->status == 100);
  REQUIRE(client.send("data"));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == "POST /up\ndata");
}

TEST_CASE("a slow client that does not finish its request within read_timeout is disconnected" *
          doctest::timeout(10)) {
  TestServer server(echo, {.read_timeout = 300ms});
  Client client(server.port);
  auto start = Clock::now();
  // Slowloris: a header byte every 100 ms, never the blank line.
  REQUIRE(client.send("GET / HTTP/1.1\r\nHost: h\r\n"));
  for (char c : std::string("X-Slow: abcdefghijklmnop")) {
    if (client.readable() || !client.send(std::string(1, c))) break;
    std::this_thread::sleep_for(100ms);
  }
  auto response = client.read_response(3000ms);
  REQUIRE(response);
  CHECK(response->status == 408);
  CHECK(client.closed_by_server(3000ms));
  auto elapsed = Clock::now() - start;
  CHECK(elapsed >= 300ms);
  CHECK(elapsed < 3000ms);
}

TEST_CASE("a connection that sends nothing is closed after read_timeout" * doctest::timeout(10)) {
  TestServer server(echo, {.read_timeout = 200ms});
  Client client(server.port);
  auto start = Clock::now();
  CHECK(client.closed_by_server(3000ms));
  CHECK(Clock::now() - start >= 200ms);
}

TEST_CASE("an idle keep-alive connection is closed after idle_timeout" * doctest::timeout(10)) {
  TestServer server(echo, {.idle_timeout = 200ms});
  Client client(server.port);
  REQUIRE(client.send(get("/")));
  REQUIRE(client.read_response());
  CHECK(server.on_io([&] { return server.server().connections(); }) == 1);
  auto start = Clock::now();
  CHECK(client.closed_by_server(3000ms));
  CHECK(Clock::now() - start >= 150ms);
  CHECK(server.on_io([&] { return server.server().connections(); }) == 0);
}

TEST_CASE("a handler may answer later, from a timer" * doctest::timeout(10)) {
  asio::io_context* io = nullptr;
  Handler forward = [&io](const HttpRequest& request, const Responder& respond) {
    delayed(*io, 100ms)(request, respond);
  };
  TestServer server(forward);
  io = &server.io();
  Client client(server.port);
  auto start = Clock::now();
  REQUIRE(client.send(get("/later")));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == R"({"target": "/later"})");
  CHECK(Clock::now() - start >= 100ms);
}

TEST_CASE("a handler that throws is answered 500 and the connection stays usable" *
          doctest::timeout(10)) {
  TestServer server([](const HttpRequest& request, const Responder& respond) {
    if (request.target == "/throw") throw std::runtime_error("boom");
    echo(request, respond);
  });
  Client client(server.port);
  REQUIRE(client.send(get("/throw")));
  auto failed = client.read_response();
  REQUIRE(failed);
  CHECK(failed->status == 500);
  CHECK(failed->body == R"({"error": "internal error"})");
  REQUIRE(client.send(get("/fine")));
  auto fine = client.read_response();
  REQUIRE(fine);
  CHECK(fine->status == 200);
}

TEST_CASE("a handler that drops its responder unanswered gets a 500" * doctest::timeout(10)) {
  TestServer server([](const HttpRequest&, const Responder&) {});
  Client client(server.port);
  REQUIRE(client.send(get("/")));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 500);
}

TEST_CASE("only the first call of a responder is answered" * doctest::timeout(10)) {
  TestServer server([](const HttpRequest&, const Responder& respond) {
    respond(HttpResponse{.body = "first"});
    respond(HttpResponse{.body = "second"});
  });
  Client client(server.port);
  REQUIRE(client.send(get("/") + get("/")));
  auto one = client.read_response();
  auto two = client.read_response();
  REQUIRE((one && two));
  CHECK(one->body == "first");
  CHECK(two->body == "first");
}

TEST_CASE("a responder called from another thread is answered" * doctest::timeout(10)) {
  std::vector<std::thread> threads;
  TestServer server([&threads](const HttpRequest&, const Responder& respond) {
    threads.emplace_back([respond] {
      std::this_thread::sleep_for(50ms);
      respond(HttpResponse{.status = 202, .body = "{}"});
    });
  });
  Client client(server.port);
  REQUIRE(client.send(get("/")));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 202);
  for (auto& thread : threads) thread.join();
}

TEST_CASE("handler headers are sent, framing headers from the handler are ignored" *
          doctest::timeout(10)) {
  TestServer server([](const HttpRequest&, const Responder& respond) {
    respond(HttpResponse{.status = 201,
                         .body = "{}",
                         .headers = {{"Location", "/runs/7"},
                                     {"Content-Length", "99"},
                                     {"Connection", "close"},
                                     {"X-Split", "a\r\nInjected: yes"}}});
  });
  Client client(server.port);
  REQUIRE(client.send(get("/")));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 201);
  CHECK(response->headers["location"] == "/runs/7");
  CHECK(response->headers["content-length"] == "2");
  CHECK(response->headers["connection"] == "keep-alive");
  CHECK(response->headers.count("x-split") == 0);
  CHECK(response->headers.count("injected") == 0);
}

TEST_CASE("a HEAD request gets the headers without the body" * doctest::timeout(10)) {
  TestServer server(echo);
  Client client(server.port);
  REQUIRE(client.send("HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n" + get("/after")));
  auto head = client.read_response(5000ms, true);
  REQUIRE(head);
  CHECK(head->headers["content-length"] == "8");
  // No body was sent: the next bytes are the next response.
  auto after = client.read_response();
  REQUIRE(after);
  CHECK(after->status == 200);
}

TEST_CASE("50 concurrent connections are all answered" * doctest::timeout(20)) {
  asio::io_context* io = nullptr;
  std::atomic<int> in_flight = 0;
  std::atomic<int> most_in_flight = 0;
  Handler handler = [&](const HttpRequest& request, const Responder& respond) {
    int now = ++in_flight;
    most_in_flight = std::max(most_in_flight.load(), now);
    auto timer = std::make_shared<asio::steady_timer>(*io, 200ms);
    timer->async_wait([&, timer, respond, target = request.target](boost::system::error_code) {
      --in_flight;
      respond(HttpResponse{.body = target});
    });
  };
  TestServer server(handler);
  io = &server.io();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back(std::make_unique<Client>(server.port));
    REQUIRE(clients.back()->connected());
    REQUIRE(clients.back()->send(get("/" + std::to_string(i))));
  }
  for (int i = 0; i < 50; ++i) {
    auto response = clients[i]->read_response();
    REQUIRE(response);
    CHECK(response->body == "/" + std::to_string(i));
  }
  CHECK(most_in_flight > 1);
}

TEST_CASE("connections over max_connections are refused with 503" * doctest::timeout(10)) {
  TestServer server(echo, {.max_connections = 2});
  Client one(server.port);
  Client two(server.port);
  for (Client* client : {&one, &two}) {
    REQUIRE(client->send(get("/")));
    REQUIRE(client->read_response());
  }
  Client three(server.port);
  auto refused = three.read_response();
  REQUIRE(refused);
  CHECK(refused->status == 503);
  CHECK(three.closed_by_server());

  // A slot freed is a slot for the next connection.
  REQUIRE(one.send(get("/", "Connection: close\r\n")));
  REQUIRE(one.read_response());
  CHECK(one.closed_by_server());
  Client four(server.port);
  REQUIRE(four.send(get("/four")));
  auto answered = four.read_response();
  REQUIRE(answered);
  CHECK(answered->status == 200);
}

TEST_CASE("after stop_accepting new connections are refused and in-flight requests answered" *
          doctest::timeout(10)) {
  asio::io_context* io = nullptr;
  std::promise<void> handling;
  Handler handler = [&](const HttpRequest& request, const Responder& respond) {
    if (request.target != "/slow") return echo(request, respond);
    handling.set_value();
    delayed(*io, 300ms)(request, respond);
  };
  TestServer server(handler);
  io = &server.io();
  Client idle(server.port);  // keep-alive, between requests
  REQUIRE(idle.send(get("/quick")));
  REQUIRE(idle.read_response());
  Client silent(server.port);  // connected, nothing sent yet
  REQUIRE(silent.connected());
  Client in_flight(server.port);
  REQUIRE(in_flight.send(get("/slow")));
  handling.get_future().wait();

  server.on_io([&] { server.server().stop_accepting(); });
  Client late(server.port);
  CHECK_FALSE(late.connected());
  CHECK(late.connect_errno() == ECONNREFUSED);
  CHECK(idle.closed_by_server());
  CHECK(silent.closed_by_server());

  auto response = in_flight.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == R"({"target": "/slow"})");
  CHECK(response->headers["connection"] == "close");
  CHECK(in_flight.closed_by_server());
  CHECK(server.on_io([&] { return server.server().connections(); }) == 0);
}

TEST_CASE("a responder called after the connection closed does nothing" * doctest::timeout(10)) {
  std::promise<Responder> held;
  TestServer server(
      [&held](const HttpRequest&, const Responder& respond) { held.set_value(respond); });
  Client client(server.port);
  REQUIRE(client.send(get("/")));
  Responder respond = held.get_future().get();
  server.on_io([&] { server.server().close(); });
  CHECK(client.closed_by_server());
  server.on_io([&] { respond(HttpResponse{.body = "too late"}); });
  CHECK(server.on_io([&] { return server.server().connections(); }) == 0);
}

TEST_CASE("listen reports addresses it cannot use" * doctest::timeout(10)) {
  asio::io_context io;
  HttpServer server(io, echo);
  CHECK(server.listen("127.0.0.1") != "");
  CHECK(server.listen("::1:80") != "");
  CHECK(server.listen("127.0.0.1:65536") != "");
  CHECK(server.listen("127.0.0.1:http") != "");
  CHECK(server.listen(":80") != "");
  CHECK(server.port() == 0);
  CHECK(server.listen("127.0.0.1:0") == "");
  uint16_t port = server.port();
  CHECK(port != 0);
  HttpServer other(io, echo);
  CHECK(other.listen("127.0.0.1:" + std::to_string(port)).find("cannot listen on") == 0);
}
