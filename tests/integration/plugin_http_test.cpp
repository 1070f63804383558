// The shipped `http` plugin through the real binary, against a local test
// server (tests/data/http_server.py) on 127.0.0.1: expectations, outputs,
// retries, timeouts, cancellation and `runbook validate`.

#include <doctest/doctest.h>
#include <poll.h>

#include <algorithm>

#include "run_fixture.hpp"
#include "test_server.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

namespace {

// The test server, started on a free port of 127.0.0.1 and killed when the
// test ends (it also exits by itself after two minutes). Every request it
// gets is appended to `log()` as "METHOD PATH".
class HttpServer {
 public:
  explicit HttpServer(const TempDir& dir)
      : log_(dir / "server-requests.txt"), server_("http_server.py", {log_}) {}
  std::string url(const std::string& path) const { return server_.url(path); }
  // How many requests the server got for "METHOD PATH".
  int requests(const std::string& method_and_path) const {
    return count_requests(log_, method_and_path);
  }

 private:
  std::string log_;
  TestServer server_;
};

std::string runbook_with(const std::string& steps) {
  return "version: 1\nname: http\nsteps:\n" + steps;
}

// One `uses: http` step `id` with the `with` lines given (indented by 6).
std::string http_step(const std::string& id, const std::string& with_lines,
                      const std::string& extra = "") {
  return "  - id: " + id + "\n    uses: http\n" + extra + "    with:\n" + with_lines;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("an http step that gets 200 succeeds and later steps read its outputs" *
          doctest::timeout(60)) {
  TempDir dir;
  HttpServer server(dir);
  std::string marker = dir / "after-ran";
  auto f = run_cli(
      dir,
      {"run",
       dir.write("rb.yaml", runbook_with(http_step("check", "      url: " + server.url("/health") +
                                                                "\n"
                                                                "      outputs: {version: version, "
                                                                "first_check: 'checks[0]'}\n") +
                                         "  - id: after\n    needs: [check]\n"
                                         "    run: |\n"
                                         "      test \"${{ steps.check.outputs.status }}\" = 200\n"
                                         "      test \"${{ steps.check.outputs.version }}\" = "
                                         "1.2.3\n"
                                         "      test \"${{ steps.check.outputs.first_check }}\" = "
                                         "'{\"name\":\"db\",\"ok\":true}'\n"
                                         "      touch " +
                                         marker + "\n"))});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  CHECK(file_exists(marker));
  CHECK(server.requests("GET /health") == 1);
}

TEST_CASE("an http step fails on an unexpected status, saying what was expected and what came" *
          doctest::timeout(60)) {
  TempDir dir;
  HttpServer server(dir);
  auto f = run_cli(
      dir, {"run", dir.write("rb.yaml", runbook_with(http_step(
                                            "check", "      url: " + server.url("/status/404") +
                                                         "\n      expect_status: 200\n")))});
  CAPTURE(f.output);
  CHECK(f.exit_code == 1);
  CHECK(contains(f.output, "expected status 200, got 404"));
}

TEST_CASE("an http step's expect_status accepts a list mixing codes and ranges" *
          doctest::timeout(60)) {
  TempDir dir;
  HttpServer server(dir);
  auto f = run_cli(
      dir, {"run", dir.write("rb.yaml", runbook_with(http_step(
                                            "check", "      url: " + server.url("/status/404") +
                                                         "\n      expect_status: [200, "
                                                         "\"400-404\"]\n")))});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
}

TEST_CASE("an http step's expect_body checks for a substring or a regex in the body" *
          doctest::timeout(60)) {
  TempDir dir;
  HttpServer server(dir);
  std::string url = "      url: " + server.url("/text") + "\n";
  SUBCASE("a substring that is there passes") {
    auto f = run_cli(
        dir,
        {"run", dir.write("rb.yaml", runbook_with(http_step("check", url + "      expect_body: "
                                                                           "systems ok\n")))});
    CAPTURE(f.output);
    CHECK(f.exit_code == 0);
  }
  SUBCASE("a regex that matches passes") {
    auto f = run_cli(
        dir, {"run", dir.write("rb.yaml", runbook_with(http_step(
                                              "check", url + "      expect_body: {regex: '^all "
                                                             "\\w+ ok$'}\n")))});
    CAPTURE(f.output);
    CHECK(f.exit_code == 0);
  }
  SUBCASE("a substring that is not there fails") {
    auto f = run_cli(
        dir,
        {"run", dir.write("rb.yaml", runbook_with(http_step("check", url + "      expect_body: "
                                                                           "down\n")))});
    CAPTURE(f.output);
    CHECK(f.exit_code == 1);
    CHECK(contains(f.output, "body does not contain \"down\""));
  }
  SUBCASE("a regex that does not match fails") {
    auto f = run_cli(
        dir,
        {"run", dir.write("rb.yaml", runbook_with(http_step("check", url + "      expect_body: "
                                                                           "{regex: '^ok'}\n")))});
    CAPTURE(f.output);
    CHECK(f.exit_code == 1);
    CHECK(contains(f.output, "body does not match /^ok/"));
  }
}

TEST_CASE("an http step's expect_json compares the field at a path of the JSON body" *
          doctest::timeout(60)) {
  TempDir dir;
  HttpServer server(dir);
  std::string url = "      url: " + server.url("/health") + "\n";
  SUBCASE("equal fields pass") {
    auto f = run_cli(
        dir, {"run",
              dir.write("rb.yaml", runbook_with(http_step(
                                       "check", url + "      expect_json:\n"
                                                      "        - {path: status, equals: up}\n"
                                                      "        - {path: 'checks[0].ok', equals: "
                                                      "true}\n"
                                                      "        - {path: $.count, equals: 3}\n")))});
    CAPTURE(f.output);
    CHECK(f.exit_code == 0);
  }
  SUBCASE("a different field fails, naming it") {
    auto f = run_cli(
        dir, {"run", dir.write("rb.yaml",
                               runbook_with(http_step("check", url + "      expect_json: {path: "
                                                                     "status, equals: "
                                                                     "down}\n")))});
    CAPTURE(f.output);
    CHECK(f.exit_code == 1);
    CHECK(contains(f.output, "$.status is \"up\", expected \"down\""));
  }
}

TEST_CASE("an http step sends a map body as JSON with the method and headers given" *
          doctest::timeout(60)) {
  TempDir dir;
  HttpServer server(dir);
  auto f = run_cli(
      dir, {"run", dir.write("rb.yaml", runbook_with(http_step(
                                            "send", "      url: " + server.url("/echo") +
                                                        "\n"
                                                        "      method: PUT\n"
                                                        "      headers: {X-Trace: abc}\n"
                                                        "      body: {name: web, replicas: 3}\n"
                                                        "      expect_json:\n"
                                                        "        - {path: method, equals: PUT}\n"
                                                        "        - {path: headers.x-trace, "
                                                        "equals: abc}\n"
                                                        "        - {path: headers.content-type, "
                                                        "equals: application/json}\n"
                                                        "        - {path: body, equals: "
                                                        "'{\"name\":\"web\",\"replicas\":3}'}"
                                                        "\n")))});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  CHECK(server.requests("PUT /echo") == 1);
}

TEST_CASE("an http step follows redirects only when follow_redirects is set" *
          doctest::timeout(60)) {
  TempDir dir;
  HttpServer server(dir);
  std::string url = "      url: " + server.url("/redirect?to=/health") + "\n";
  SUBCASE("followed") {
    auto f = run_cli(
        dir, {"run", dir.write("rb.yaml",
                               runbook_with(http_step("check", url + "      follow_redirects: "
                                                                     "true\n"
                                                                     "      expect_json: {path: "
                                                                     "status, equals: up}\n")))});
    CAPTURE(f.output);
    CHECK(f.exit_code == 0);
    CHECK(server.requests("GET /health") == 1);
  }
  SUBCASE("not followed") {
    auto f = run_cli(dir, {"run", dir.write("rb.yaml", runbook_with(http_step("check", url)))});
    CAPTURE(f.output);
    CHECK(f.exit_code == 1);
    CHECK(contains(f.output, "expected status 200-299, got 302"));
    CHECK(server.requests("GET /health") == 0);
  }
}

TEST_CASE("an http step keeps at most max_body bytes of the body" * doctest::timeout(60)) {
  TempDir dir;
  HttpServer server(dir);
  auto f = run_cli(
      dir, {"run",
            dir.write("rb.yaml", runbook_with(http_step("big", "      url: " + server.url("/big") +
                                                                   "\n      max_body: 1000\n") +
                                              "  - id: after\n    needs: [big]\n"
                                              "    run: |\n"
                                              "      body=\"${{ steps.big.outputs.body }}\"\n"
                                              "      test ${#body} -eq 1000\n"))});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  CHECK(contains(f.output, "body cut at 1000 bytes"));
}

TEST_CASE("an http step that gets 503 is retried until the 200 that follows" *
          doctest::timeout(60)) {
  TempDir dir;
  HttpServer server(dir);
  auto f = run_cli(
      dir, {"run", dir.write("rb.yaml", runbook_with(http_step(
                                            "check", "      url: " + server.url("/flaky/a") + "\n",
                                            "    retry: {attempts: 5, delay: 100ms}\n")))});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  CHECK(server.requests("GET /flaky/a") == 3);
  CHECK(contains(f.output, "attempt 2 of 5"));
  CHECK(contains(f.output, "expected status 200-299, got 503"));
}

TEST_CASE("an http step that gets 404 is not retried although it has a retry policy" *
          doctest::timeout(60)) {
  TempDir dir;
  HttpServer server(dir);
  auto f = run_cli(
      dir,
      {"run", dir.write("rb.yaml", runbook_with(http_step(
                                       "check", "      url: " + server.url("/status/404") + "\n",
                                       "    retry: {attempts: 5, delay: "
                                       "100ms}\n")))});
  CAPTURE(f.output);
  CHECK(f.exit_code == 1);
  CHECK(server.requests("GET /status/404") == 1);
  CHECK_FALSE(contains(f.output, "attempt 2 of 5"));
}

TEST_CASE("an http step whose connection is refused is retried and names the address" *
          doctest::timeout(60)) {
  TempDir dir;
  // Nothing listens on port 1 of 127.0.0.1 (a privileged port nobody uses).
  auto f = run_cli(
      dir, {"run", dir.write("rb.yaml", runbook_with(http_step(
                                            "check", "      url: http://127.0.0.1:1/health\n",
                                            "    retry: {attempts: 3, delay: "
                                            "10ms}\n")))});
  CAPTURE(f.output);
  CHECK(f.exit_code == 1);
  CHECK(contains(f.output, "connection refused (127.0.0.1:1)"));
  CHECK(contains(f.output, "attempt 2 of 3"));
}

TEST_CASE("an http step's own timeout fails a slow answer as retryable" * doctest::timeout(60)) {
  TempDir dir;
  HttpServer server(dir);
  auto f = run_cli(
      dir, {"run", dir.write("rb.yaml", runbook_with(http_step("check",
                                                               "      url: " + server.url("/slow") +
                                                                   "\n      timeout: 300ms\n",
                                                               "    retry: {attempts: 2, delay: "
                                                               "10ms}\n")))});
  CAPTURE(f.output);
  CHECK(f.exit_code == 1);
  CHECK(contains(f.output, "request timed out after 300 ms"));
  CHECK(server.requests("GET /slow") == 2);
  CHECK(f.seconds < 5.0);
}

TEST_CASE("an http step waiting for a slow answer ends timed_out at the step's timeout" *
          doctest::timeout(60)) {
  TempDir dir;
  HttpServer server(dir);
  auto f = run_cli(
      dir, {"run", dir.write("rb.yaml", runbook_with(http_step(
                                            "check", "      url: " + server.url("/slow") + "\n",
                                            "    timeout: 1s\n")))});
  CAPTURE(f.output);
  CHECK(f.exit_code == 1);
  CHECK(contains(f.output, "timed_out"));
  CHECK(f.seconds >= 0.9);
  CHECK(f.seconds < 4.0);
}

TEST_CASE("SIGINT during a slow http request cancels the run promptly" * doctest::timeout(60)) {
  TempDir dir;
  HttpServer server(dir);
  std::string rb = dir.write(
      "rb.yaml",
      runbook_with(http_step("check", "      url: " + server.url("/slow") + "\n") +
                   "  - id: after\n    needs: [check]\n    run: touch " + (dir / "after") + "\n"));
  Background bg({"run", rb}, dir / "out.txt", {{"RUNBOOK_STATE_DIR", dir / "state"}});
  auto until = std::chrono::steady_clock::now() + 10s;
  while (server.requests("GET /slow") == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  REQUIRE(server.requests("GET /slow") == 1);
  auto signalled = std::chrono::steady_clock::now();
  bg.signal(SIGINT);
  CHECK(bg.wait(10s) == 130);
  CHECK(seconds_since(signalled) < 2.0);
  CHECK_FALSE(file_exists(dir / "after"));
  CHECK(contains(read_file(dir / "out.txt"), "cancelled"));
}

TEST_CASE("validate reports bad http arguments at their line and column and exits 2" *
          doctest::timeout(60)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml",
                             "version: 1\n"                       // 1
                             "name: http\n"                       // 2
                             "steps:\n"                           // 3
                             "  - id: check\n"                    // 4
                             "    uses: http\n"                   // 5
                             "    with:\n"                        // 6
                             "      url: ftp://example.com/\n"    // 7
                             "      expect_stauts: 200\n"         // 8
                             "      expect_status: [200, 700]\n"  // 9
                             "      timeout: soon\n");            // 10
  auto f = run_cli(dir, {"validate", rb});
  CAPTURE(f.output);
  CHECK(f.exit_code == 2);
  CHECK(contains(f.output, rb + ":7:12: error:"));
  CHECK(contains(f.output, "must start with http:// or https://"));
  CHECK(contains(f.output, rb + ":8:22: error:"));
  CHECK(contains(f.output, "did you mean 'expect_status'?"));
  CHECK(contains(f.output, rb + ":9:28: error:"));
  CHECK(contains(f.output, "status codes are from 100 to 599"));
  CHECK(contains(f.output, rb + ":10:16: error:"));
}

TEST_CASE("validate accepts http arguments resolved at run time" * doctest::timeout(60)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml",
                             "version: 1\nname: http\n"
                             "params:\n  base: {default: 'http://127.0.0.1:8080'}\n"
                             "steps:\n  - id: check\n    uses: http\n    with:\n"
                             "      url: '${{ params.base }}/health'\n"
                             "      expect_status: [200, '${{ params.base }}']\n"
                             "      timeout: 5s\n");
  auto f = run_cli(dir, {"validate", rb});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
}

TEST_CASE("runbook plugins list shows the http step kind" * doctest::timeout(60)) {
  TempDir dir;
  auto f = run_cli(dir, {"plugins", "list"});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  CHECK(contains(f.output, "http"));
  CHECK(contains(f.output, "sends an HTTP(S) request"));
}
