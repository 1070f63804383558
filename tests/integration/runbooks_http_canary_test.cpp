// runbooks/http-canary.yaml run for real against a local HTTP server on
// 127.0.0.1 (tests/data/runbooks_test_server.py): a fast route that always
// answers 200, routes that answer errors, and a slow route. The tests check
// the outputs the run prints (p50/p95, errors, error rate), the requests the
// server got and the verdict, not only exit codes.

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>

#include "run_fixture.hpp"
#include "test_server.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

namespace {

const std::string kRunbook = std::string(RUNBOOK_SOURCE_DIR) + "/runbooks/http-canary.yaml";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// tests/data/runbooks_test_server.py on a free port of 127.0.0.1, killed when
// the test ends (it also exits by itself after two minutes). Every request it
// gets is appended to its log as "METHOD PATH".
class HttpServer {
 public:
  explicit HttpServer(const TempDir& dir)
      : log_(dir / "server-requests.txt"), server_("runbooks_test_server.py", {"--log", log_}) {}
  std::string url(const std::string& path) const { return server_.url(path); }
  // How many requests the server got for "METHOD PATH".
  int requests(const std::string& method_and_path) const {
    return count_requests(log_, method_and_path);
  }

 private:
  std::string log_;
  TestServer server_;
};

Finished run_runbook(const TempDir& dir, const std::vector<std::string>& params) {
  std::vector<std::string> args{"run", kRunbook};
  for (const auto& p : params) {
    args.push_back("-p");
    args.push_back(p);
  }
  return run_cli(dir, args, 90s);
}

// The value of the output `key` as the probe step printed it
// ("HH:MM:SS probe | key=value"); "(none)" if it did not.
std::string output(const std::string& text, const std::string& key) {
  for (const auto& line : lines_of(text)) {
    auto at = line.find(" probe | " + key + "=");
    if (at != std::string::npos) return line.substr(at + 9 + key.size() + 1);
  }
  return "(none)";
}

bool is_number(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

TEST_CASE("http-canary validates and has the header the runbook README is made from" *
          doctest::timeout(30)) {
  TempDir dir;
  auto f = run_cli(dir, {"validate", kRunbook});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  auto header = lines_of(read_file(kRunbook));
  REQUIRE(header.size() > 10);
  CHECK(header[0] == "# http-canary: probe a URL and judge its latency and error rate");
  CHECK(header[1] == "#");
  for (const char* section : {"# What: ", "# When: ", "# Changes: ", "# Rollback: "}) {
    CAPTURE(section);
    CHECK(std::count_if(header.begin(), header.end(),
                        [&](const std::string& line) { return line.rfind(section, 0) == 0; }) == 1);
  }
}

TEST_CASE("http-canary passes on a fast route that always answers 200 and reports p50 and p95" *
          doctest::timeout(90)) {
  TempDir dir;
  HttpServer server(dir);
  auto f = run_runbook(dir, {"url=" + server.url("/ok"), "count=5", "interval=20ms"});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  CHECK(server.requests("GET /ok") == 5);
  CHECK(output(f.output, "count") == "5");
  CHECK(output(f.output, "errors") == "0");
  CHECK(output(f.output, "error_rate") == "0.0");
  CHECK(output(f.output, "statuses") == "{\"200\": 5}");
  std::string p50 = output(f.output, "p50_ms"), p95 = output(f.output, "p95_ms");
  REQUIRE(is_number(p50));
  REQUIRE(is_number(p95));
  CHECK(std::stoi(p50) <= std::stoi(p95));
  // The verdict reads the probe's outputs through the engine.
  CHECK(contains(f.output, "verdict | ok: p50 " + p50 + " ms, p95 " + p95 + " ms (max 1000)"));
}

TEST_CASE("http-canary fails when the error rate is over max_error_rate, naming the first error" *
          doctest::timeout(90)) {
  TempDir dir;
  HttpServer server(dir);
  // Every other request answers 500: an error rate of 0.5.
  auto f = run_runbook(
      dir, {"url=" + server.url("/cycle/2/500"), "count=4", "interval=0", "max_error_rate=0.25"});
  CAPTURE(f.output);
  CHECK(f.exit_code == 1);
  CHECK(server.requests("GET /cycle/2/500") == 4);
  CHECK(output(f.output, "errors") == "2");
  CHECK(output(f.output, "error_rate") == "0.5");
  CHECK(output(f.output, "statuses") == "{\"200\": 2, \"500\": 2}");
  CHECK(contains(f.output,
                 "FAIL: error rate 0.5 (2 of 4) is over max_error_rate 0.25; first: "
                 "request 1: status 500"));
  CHECK_FALSE(contains(f.output, "p95 latency"));
}

TEST_CASE("http-canary passes when the error rate is at max_error_rate, not over it" *
          doctest::timeout(90)) {
  TempDir dir;
  HttpServer server(dir);
  // The first of every four requests answers 503: an error rate of 0.25.
  auto f = run_runbook(
      dir, {"url=" + server.url("/cycle/4/503"), "count=4", "interval=0", "max_error_rate=0.25"});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  CHECK(output(f.output, "errors") == "1");
  CHECK(output(f.output, "error_rate") == "0.25");
}

TEST_CASE("http-canary fails when the p95 latency is over max_p95_ms" * doctest::timeout(90)) {
  TempDir dir;
  HttpServer server(dir);
  auto f = run_runbook(
      dir, {"url=" + server.url("/delay/400"), "count=3", "interval=0", "max_p95_ms=150"});
  CAPTURE(f.output);
  CHECK(f.exit_code == 1);
  CHECK(server.requests("GET /delay/400") == 3);
  CHECK(output(f.output, "errors") == "0");
  std::string p95 = output(f.output, "p95_ms");
  REQUIRE(is_number(p95));
  CHECK(std::stoi(p95) >= 400);
  CHECK(contains(f.output, "FAIL: p95 latency " + p95 + " ms is over max_p95_ms 150 ms"));
  CHECK_FALSE(contains(f.output, "FAIL: error rate"));
}

TEST_CASE("http-canary counts a request that times out as an error" * doctest::timeout(90)) {
  TempDir dir;
  HttpServer server(dir);
  auto slow = run_runbook(dir, {"url=" + server.url("/delay/5000"), "count=2", "interval=0",
                                "request_timeout=1", "max_error_rate=1"});
  CAPTURE(slow.output);
  CHECK(slow.exit_code == 1);
  CHECK(output(slow.output, "errors") == "2");
  CHECK(output(slow.output, "answered") == "0");
  CHECK(output(slow.output, "p95_ms") == "");
  CHECK(contains(slow.output, "FAIL: no request was answered"));
}

TEST_CASE("http-canary counts a refused connection as an error" * doctest::timeout(60)) {
  TempDir dir;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // bound, not listening
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t size = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
  std::string refused_url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/";
  auto refused = run_runbook(dir, {"url=" + refused_url, "count=2", "interval=0"});
  ::close(fd);
  CAPTURE(refused.output);
  CHECK(refused.exit_code == 1);
  CHECK(output(refused.output, "errors") == "2");
  CHECK(output(refused.output, "error_rate") == "1.0");
  CHECK(contains(refused.output, "Connection refused"));
}

TEST_CASE("http-canary refuses bad params before sending any request" * doctest::timeout(60)) {
  TempDir dir;
  HttpServer server(dir);
  for (const char* bad :
       {"interval=5 minutes", "max_error_rate=2", "count=0", "method=POST", "expect_status=2xx"}) {
    CAPTURE(bad);
    auto f = run_runbook(dir, {"url=" + server.url("/ok"), bad});
    CAPTURE(f.output);
    CHECK(f.exit_code == 2);
  }
  auto f = run_runbook(dir, {"url=ftp://127.0.0.1/"});
  CHECK(f.exit_code == 2);
  CHECK(server.requests("GET /ok") == 0);
}
