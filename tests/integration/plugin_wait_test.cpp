// The shipped `wait` plugin through the real binary: ports that open and
// close, files that appear, fixed waits, timeouts, Ctrl-C, and `validate`.
// Every socket is on 127.0.0.1.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <doctest/doctest.h>

#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

namespace {

// A TCP port of 127.0.0.1 that the test owns: bound at once (so nobody else
// takes it, and connects are refused), listening only once listen() is called.
class LocalPort {
 public:
  LocalPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t size = sizeof address;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~LocalPort() { close(); }
  LocalPort(const LocalPort&) = delete;
  LocalPort& operator=(const LocalPort&) = delete;

  int port() const { return port_; }
  void listen() { ::listen(fd_, 64); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Runs `action` on a thread after `delay`; joined when it goes out of scope.
class Later {
 public:
  template <typename Fn>
  Later(std::chrono::milliseconds delay, Fn action)
      : thread_([delay, action] {
          std::this_thread::sleep_for(delay);
          action();
        }) {}
  ~Later() { thread_.join(); }

 private:
  std::thread thread_;
};

// A runbook whose step `w` is a wait with `with` (YAML flow map text), then a
// step writing w's waited_ms output to `waited_file`.
std::string wait_runbook(const std::string& with, const std::string& waited_file,
                         const std::string& step_extra = "") {
  return "version: 1\nname: wait-test\nsteps:\n"
         "  - id: w\n    uses: wait\n    with: " +
         with + "\n" + step_extra +
         "  - id: after\n    needs: [w]\n"
         "    run: echo -n \"${{ steps.w.outputs.waited_ms }}\" > " +
         waited_file + "\n";
}

long waited_ms(const std::string& file) {
  std::string text = read_file(file);
  return text.empty() ? -1 : std::stol(text);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// True when `output` has a line "FILE:LINE:COL: error: ..." about `file` at
// `line` that contains `message`.
bool has_error_at(const std::string& output, const std::string& file, int line,
                  const std::string& message) {
  const std::string prefix = file + ":" + std::to_string(line) + ":";
  std::istringstream lines(output);
  for (std::string l; std::getline(lines, l);) {
    if (l.rfind(prefix, 0) != 0) continue;
    const std::string rest = l.substr(prefix.size());
    const size_t colon = rest.find(':');
    const bool has_column =
        colon != std::string::npos && colon > 0 &&
        rest.substr(0, colon).find_first_not_of("0123456789") == std::string::npos;
    if (has_column && contains(rest, "error:") && contains(rest, message)) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a wait for a port succeeds once the port opens, and outputs how long it waited" *
          doctest::timeout(30)) {
  TempDir dir;
  LocalPort port;
  const std::string rb = dir.write(
      "rb.yaml", wait_runbook("{port: {host: 127.0.0.1, port: " + std::to_string(port.port()) +
                                  "}, interval: 100ms, timeout: 20s}",
                              dir / "waited"));
  Later open(500ms, [&port] { port.listen(); });
  auto f = run_cli(dir, {"run", rb});
  CHECK(f.exit_code == 0);
  CHECK(contains(f.output, "port 127.0.0.1:" + std::to_string(port.port()) + " is open after"));
  CHECK(waited_ms(dir / "waited") >= 400);
  CHECK(f.seconds < 10.0);
}

TEST_CASE("a wait for a port to close succeeds once its listener goes away" *
          doctest::timeout(30)) {
  TempDir dir;
  LocalPort port;
  port.listen();
  const std::string rb =
      dir.write("rb.yaml", wait_runbook("{port: {port: " + std::to_string(port.port()) +
                                            ", state: closed}, interval: 100ms, timeout: 20s}",
                                        dir / "waited"));
  Later close(500ms, [&port] { port.close(); });
  auto f = run_cli(dir, {"run", rb});
  CHECK(f.exit_code == 0);
  CHECK(contains(f.output, "is closed after"));
  CHECK(waited_ms(dir / "waited") >= 400);
}

TEST_CASE("a wait for a file succeeds once the file is created" * doctest::timeout(30)) {
  TempDir dir;
  const std::string target = dir / "ready";
  const std::string rb = dir.write(
      "rb.yaml", wait_runbook("{file: {path: " + target + "}, interval: 100ms, timeout: 20s}",
                              dir / "waited"));
  Later create(500ms, [target] { std::ofstream(target) << "ok\n"; });
  auto f = run_cli(dir, {"run", rb});
  CHECK(f.exit_code == 0);
  CHECK(contains(f.output, "file " + target + " exists after"));
  CHECK(waited_ms(dir / "waited") >= 400);
}

TEST_CASE("a wait for a file to be absent succeeds at once when there is none" *
          doctest::timeout(30)) {
  TempDir dir;
  const std::string rb = dir.write(
      "rb.yaml",
      wait_runbook("{file: {path: " + (dir / "none") + ", state: absent}}", dir / "waited"));
  auto f = run_cli(dir, {"run", rb});
  CHECK(f.exit_code == 0);
  CHECK(waited_ms(dir / "waited") >= 0);
  CHECK(waited_ms(dir / "waited") < 1000);
}

TEST_CASE("a wait of duration 300ms takes about 300ms" * doctest::timeout(30)) {
  TempDir dir;
  const std::string rb = dir.write("rb.yaml", wait_runbook("{duration: 300ms}", dir / "waited"));
  auto f = run_cli(dir, {"run", rb});
  CHECK(f.exit_code == 0);
  const long waited = waited_ms(dir / "waited");
  CHECK(waited >= 300);
  CHECK(waited < 1500);
  CHECK(f.seconds >= 0.3);
}

TEST_CASE("a wait that cannot succeed ends timed_out at the step's timeout" *
          doctest::timeout(30)) {
  TempDir dir;
  LocalPort refusing;  // bound, never listening: every connect is refused
  const std::string rb =
      dir.write("rb.yaml", wait_runbook("{port: {port: " + std::to_string(refusing.port()) + "}}",
                                        dir / "waited", "    timeout: 1s\n"));
  auto f = run_cli(dir, {"run", rb});
  CHECK(f.exit_code == 1);
  CHECK(contains(f.output, "timed_out"));
  CHECK(f.seconds >= 0.9);
  CHECK(f.seconds < 4.0);
  CHECK_FALSE(file_exists(dir / "waited"));
}

TEST_CASE("a wait that reaches its own timeout fails as retryable and is retried" *
          doctest::timeout(30)) {
  TempDir dir;
  LocalPort refusing;
  const std::string port = std::to_string(refusing.port());
  const std::string rb = dir.write(
      "rb.yaml", wait_runbook("{port: {port: " + port + "}, interval: 100ms, timeout: 300ms}",
                              dir / "waited", "    retry: {attempts: 2, delay: 10ms}\n"));
  auto f = run_cli(dir, {"run", rb});
  CHECK(f.exit_code == 1);
  CHECK(contains(f.output, "port 127.0.0.1:" + port + " still closed after 300ms"));
  CHECK(contains(f.output, "attempt 1 of 2 failed"));
  CHECK(f.seconds >= 0.6);
  CHECK(f.seconds < 5.0);
}

TEST_CASE("SIGINT during a long wait ends the run with 130 at once" * doctest::timeout(30)) {
  TempDir dir;
  const std::string rb = dir.write("rb.yaml", wait_runbook("{duration: 1h}", dir / "waited"));
  const std::string out = dir / "out.txt";
  Background bg({"run", rb}, out, {{"RUNBOOK_STATE_DIR", dir / "state"}, {"NO_COLOR", "1"}});
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!contains(read_file(out), "waiting 1h") && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  REQUIRE(contains(read_file(out), "waiting 1h"));
  const auto signalled = std::chrono::steady_clock::now();
  bg.signal(SIGINT);
  CHECK(bg.wait(10s) == 130);
  CHECK(seconds_since(signalled) < 2.0);
  CHECK(contains(read_file(out), "cancelled"));
  CHECK_FALSE(file_exists(dir / "waited"));
}

TEST_CASE("a wait's arguments may come from params, checked only once resolved" *
          doctest::timeout(30)) {
  TempDir dir;
  const std::string rb =
      dir.write("rb.yaml",
                "version: 1\nname: wait-params\nparams:\n  pause: {type: string, default: 50ms}\n"
                "steps:\n  - id: w\n    uses: wait\n    with: {duration: '${{ params.pause }}'}\n");
  auto valid = run_cli(dir, {"validate", rb});
  CHECK(valid.exit_code == 0);
  auto good = run_cli(dir, {"run", rb, "-p", "pause=200ms"});
  CHECK(good.exit_code == 0);
  CHECK(good.seconds >= 0.2);
  auto bad = run_cli(dir, {"run", rb, "-p", "pause=soon"});
  CHECK(bad.exit_code != 0);
  CHECK(contains(bad.output, "must be a duration"));
}

TEST_CASE("validate reports two targets and an unknown key of a wait at their line, exit 2" *
          doctest::timeout(30)) {
  TempDir dir;
  const std::string rb = dir.write("rb.yaml",
                                   "version: 1\n"                            // 1
                                   "name: wait-bad\n"                        // 2
                                   "steps:\n"                                // 3
                                   "  - id: w\n"                             // 4
                                   "    uses: wait\n"                        // 5
                                   "    with:\n"                             // 6
                                   "      port: {port: 8080}\n"              // 7
                                   "      file: {path: /tmp/x}\n"            // 8
                                   "      intervall: 1s\n"                   // 9
                                   "  - id: v\n"                             // 10
                                   "    uses: wait\n"                        // 11
                                   "    with:\n"                             // 12
                                   "      port: {port: 8080, stat: open}\n"  // 13
                                   "  - id: u\n"                             // 14
                                   "    uses: wait\n"                        // 15
                                   "    with: {timeout: 5s}\n");             // 16
  auto f = run_cli(dir, {"validate", rb});
  CHECK(f.exit_code == 2);
  INFO(f.output);
  CHECK(has_error_at(f.output, rb, 8, "give only one of 'port', 'file' or 'duration'"));
  CHECK(has_error_at(f.output, rb, 9, "unknown key 'intervall'; did you mean 'interval'?"));
  CHECK(has_error_at(f.output, rb, 13, "unknown key 'stat'; did you mean 'state'?"));
  CHECK(has_error_at(f.output, rb, 16, "one of 'port', 'file' or 'duration'"));
}

TEST_CASE("validate reports wrong types and values of wait arguments" * doctest::timeout(30)) {
  TempDir dir;
  const std::string rb = dir.write("rb.yaml",
                                   "version: 1\n"                           // 1
                                   "name: wait-types\n"                     // 2
                                   "steps:\n"                               // 3
                                   "  - id: w\n"                            // 4
                                   "    uses: wait\n"                       // 5
                                   "    with:\n"                            // 6
                                   "      port:\n"                          // 7
                                   "        port: 70000\n"                  // 8
                                   "        state: opened\n"                // 9
                                   "      interval: 1ms\n"                  // 10
                                   "      timeout: soon\n"                  // 11
                                   "  - id: v\n"                            // 12
                                   "    uses: wait\n"                       // 13
                                   "    with: {file: {state: absent}}\n");  // 14
  auto f = run_cli(dir, {"validate", rb});
  CHECK(f.exit_code == 2);
  INFO(f.output);
  CHECK(has_error_at(f.output, rb, 8, "must be a port number from 1 to 65535"));
  CHECK(has_error_at(f.output, rb, 9, "must be 'open' or 'closed'"));
  CHECK(has_error_at(f.output, rb, 10, "must be at least 10ms"));
  CHECK(has_error_at(f.output, rb, 11, "must be a duration"));
  CHECK(has_error_at(f.output, rb, 14, "needs 'path'"));
}
