// runbooks/cert-expiry.yaml run for real: the test makes self-signed
// certificates with `openssl req` (one valid 5 days, one 400 days), checks
// them as files, and serves one over TLS on 127.0.0.1
// (tests/data/runbooks_test_server.py --tls). The tests check the days-left
// outputs the run prints and the offenders it names, not only exit codes.
// They need `openssl` (scripts/install-deps.sh installs it) and fail, rather
// than pass, without it.

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <regex>

#include "run_fixture.hpp"
#include "test_server.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

namespace {

const std::string kRunbook = std::string(RUNBOOK_SOURCE_DIR) + "/runbooks/cert-expiry.yaml";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Runs a program (looked up on PATH) with its output to `log`; its exit code,
// or -1 if it could not start.
int run_program(std::vector<std::string> args, const std::string& log) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  int spawned = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A self-signed certificate valid for `days` days from now, made with
// openssl: `dir/NAME.pem` and its key `dir/NAME.key`.
struct Cert {
  std::string pem, key;
};
Cert make_cert(const TempDir& dir, const std::string& name, int days) {
  Cert c{dir / (name + ".pem"), dir / (name + ".key")};
  std::string log = dir / "openssl.log";
  int code =
      run_program({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                   std::to_string(days), "-subj", "/CN=127.0.0.1", "-keyout", c.key, "-out", c.pem},
                  log);
  INFO(read_file(log));
  REQUIRE_MESSAGE(code == 0,
                  "openssl req failed or openssl is not installed (it is in "
                  "scripts/install-deps.sh)");
  return c;
}

// tests/data/runbooks_test_server.py serving HTTPS with `cert` on a free port
// of 127.0.0.1; killed when the test ends (it also exits by itself after two
// minutes).
class TlsServer {
 public:
  TlsServer(const TempDir& dir, const Cert& cert)
      : server_("runbooks_test_server.py", {"--tls", cert.pem, cert.key}, dir / "tls-server.log") {}
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(server_.port()); }

 private:
  TestServer server_;
};

// A port of 127.0.0.1 bound but not listening: connections to it are refused.
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t size = sizeof address;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~ClosedPort() { ::close(fd_); }
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

Finished run_runbook(const TempDir& dir, const std::vector<std::string>& params) {
  std::vector<std::string> args{"run", kRunbook};
  for (const auto& p : params) {
    args.push_back("-p");
    args.push_back(p);
  }
  return run_cli(dir, args, 90s);
}

// The value of the output `key` as the inspect step printed it
// ("HH:MM:SS inspect | key=value"); empty if it did not.
std::string output(const std::string& text, const std::string& key) {
  for (const auto& line : lines_of(text)) {
    auto at = line.find(" inspect | " + key + "=");
    if (at != std::string::npos) return line.substr(at + 11 + key.size() + 1);
  }
  return "";
}

// The JSON text `{"TARGET": DAYS, ...}` read back as target -> days.
std::map<std::string, int> days_map(const std::string& json) {
  std::map<std::string, int> days;
  static const std::regex entry(R"re("([^"]*)": (-?[0-9]+))re");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), entry);
       it != std::sregex_iterator(); ++it)
    days[(*it)[1]] = std::stoi((*it)[2]);
  return days;
}

// A certificate made for `days` days, read a moment later, has `days - 1`
// whole days left (or `days` within the same second).
bool about(int value, int days) {
  return value == days - 1 || value == days;
}

}  // namespace

TEST_CASE("cert-expiry validates and has the header the runbook README is made from" *
          doctest::timeout(30)) {
  TempDir dir;
  auto f = run_cli(dir, {"validate", kRunbook});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  auto header = lines_of(read_file(kRunbook));
  REQUIRE(header.size() > 10);
  CHECK(header[0] == "# cert-expiry: report how many days TLS certificates have left");
  CHECK(header[1] == "#");
  for (const char* section : {"# What: ", "# When: ", "# Changes: ", "# Rollback: "}) {
    CAPTURE(section);
    CHECK(std::count_if(header.begin(), header.end(),
                        [&](const std::string& line) { return line.rfind(section, 0) == 0; }) == 1);
  }
}

TEST_CASE("cert-expiry reports the days left of an endpoint and a file and passes above warn_days" *
          doctest::timeout(90)) {
  TempDir dir;
  Cert long_cert = make_cert(dir, "long", 400);
  TlsServer server(dir, long_cert);
  auto f = run_runbook(
      dir, {"endpoints=" + server.endpoint(), "files=" + long_cert.pem, "warn_days=30"});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  auto days = days_map(output(f.output, "days_left"));
  REQUIRE(days.size() == 2);
  CHECK(about(days[server.endpoint()], 400));
  CHECK(about(days[long_cert.pem], 400));
  CHECK(about(std::atoi(output(f.output, "min_days_left").c_str()), 400));
  CHECK(output(f.output, "offenders") == "[]");
  CHECK(contains(f.output, "ok: all 2 certificate(s) have at least 30 days left"));
}

TEST_CASE("cert-expiry fails below warn_days and lists each offender, endpoint and file" *
          doctest::timeout(90)) {
  TempDir dir;
  Cert short_cert = make_cert(dir, "short", 5);
  Cert long_cert = make_cert(dir, "long", 400);
  TlsServer server(dir, short_cert);
  auto f = run_runbook(dir, {"endpoints=" + server.endpoint(),
                             "files=" + short_cert.pem + "," + long_cert.pem, "warn_days=30"});
  CAPTURE(f.output);
  CHECK(f.exit_code == 1);
  auto days = days_map(output(f.output, "days_left"));
  REQUIRE(days.size() == 3);
  CHECK(about(days[server.endpoint()], 5));
  CHECK(about(days[short_cert.pem], 5));
  CHECK(about(days[long_cert.pem], 400));
  CHECK(about(std::atoi(output(f.output, "min_days_left").c_str()), 5));
  CHECK(output(f.output, "offenders") ==
        "[\"" + server.endpoint() + "\", \"" + short_cert.pem + "\"]");
  CHECK(contains(f.output, "2 certificate(s) need attention (threshold: 30 days)"));
  CHECK(contains(f.output, "offenders: " + server.endpoint() + ", " + short_cert.pem));
  CHECK(contains(f.output, "step 'verdict' exited with code 1"));
}

TEST_CASE("cert-expiry passes a certificate with fewer days left when warn_days is lower" *
          doctest::timeout(90)) {
  TempDir dir;
  Cert short_cert = make_cert(dir, "short", 5);
  auto f = run_runbook(dir, {"files=" + short_cert.pem, "warn_days=3"});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  CHECK(output(f.output, "offenders") == "[]");
}

TEST_CASE("cert-expiry fails on an endpoint it cannot reach or a file it cannot read, naming them" *
          doctest::timeout(90)) {
  TempDir dir;
  ClosedPort closed;
  std::string not_a_cert = dir.write("not-a-cert.pem", "hello\n");
  auto f = run_runbook(dir, {"endpoints=" + closed.endpoint(), "files=" + not_a_cert});
  CAPTURE(f.output);
  CHECK(f.exit_code == 1);
  CHECK(output(f.output, "offenders") == "[\"" + closed.endpoint() + "\", \"" + not_a_cert + "\"]");
  CHECK(contains(f.output, closed.endpoint() + ": UNREADABLE: openssl s_client"));
  CHECK(contains(f.output, not_a_cert + ": UNREADABLE: openssl x509"));
  CHECK(contains(f.output, "offenders: " + closed.endpoint() + ", " + not_a_cert));
}

TEST_CASE("cert-expiry refuses to run with nothing to check or a malformed endpoint" *
          doctest::timeout(60)) {
  TempDir dir;
  auto none = run_runbook(dir, {});
  CAPTURE(none.output);
  CHECK(none.exit_code == 1);
  CHECK(contains(none.output, "nothing to check"));
  auto bad = run_runbook(dir, {"endpoints=example.org", "warn_days=10"});
  CAPTURE(bad.output);
  CHECK(bad.exit_code == 1);
  CHECK(contains(bad.output, "not host:port endpoints or file paths: example.org"));
}
