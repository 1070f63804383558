// runbooks/restart-service.yaml run for real in a sandbox: a fake `systemctl`
// (and fake drain/undrain/notify commands) first on PATH, each appending its
// argv to a calls file, and the test HTTP server (tests/data/http_server.py)
// on 127.0.0.1 as the health endpoint. The tests check the calls made, in
// order, and what the run printed, not only its exit code.

#include <doctest/doctest.h>
#include <poll.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

#include "run_fixture.hpp"
#include "test_server.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

namespace {

const std::string kRunbook = std::string(RUNBOOK_SOURCE_DIR) + "/runbooks/restart-service.yaml";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The test HTTP server on a free port of 127.0.0.1, killed when the test ends
// (it also exits by itself after two minutes). Requests go to `log()`.
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

// A directory of fake commands put first on PATH: `systemctl` knows the
// units listed in $FAKE_UNITS (loaded and active; any other is not-found and
// inactive) and fails `restart` when $FAKE_RESTART_FAILS is 1; `lbctl` and
// `notify` stand for drain/undrain and notification commands. Each appends
// one line, its name and its arguments, to the calls file.
class Sandbox {
 public:
  explicit Sandbox(const TempDir& dir) : dir_(dir), bin_(dir / "bin"), calls_(dir / "calls.txt") {
    std::filesystem::create_directory(bin_);
    tool("systemctl", R"(#!/bin/sh
echo "systemctl $*" >> "$FAKE_CALLS"
command=$1
shift
for unit; do :; done
case " $FAKE_UNITS " in *" $unit "*) known=1 ;; *) known=0 ;; esac
case $command in
  show) if [ $known = 1 ]; then echo loaded; else echo not-found; fi ;;
  is-active) if [ $known = 1 ]; then echo active; else echo inactive; exit 3; fi ;;
  restart)
    if [ $known = 0 ]; then echo "Failed to restart $unit: Unit $unit not found." >&2; exit 5; fi
    if [ "$FAKE_RESTART_FAILS" = 1 ]; then echo "Job for $unit failed." >&2; exit 1; fi ;;
  *) echo "fake systemctl: unexpected command $command" >&2; exit 1 ;;
esac
)");
    tool("lbctl", "#!/bin/sh\necho \"lbctl $* (unit $SERVICE_UNIT)\" >> \"$FAKE_CALLS\"\n");
    tool("notify", "#!/bin/sh\necho \"notify $*\" >> \"$FAKE_CALLS\"\n");
  }

  std::map<std::string, std::string> env(const std::string& units = "web.service") const {
    const char* path = std::getenv("PATH");
    return {{"PATH", bin_ + ":" + (path ? path : "/usr/bin:/bin")},
            {"FAKE_CALLS", calls_},
            {"FAKE_UNITS", units},
            {"FAKE_RESTART_FAILS", restart_fails_ ? "1" : "0"}};
  }
  void make_restart_fail() { restart_fails_ = true; }

  std::vector<std::string> calls() const { return lines_of(read_file(calls_)); }

  Finished run(std::vector<std::string> params, bool yes = true,
               const std::string& units = "web.service") const {
    std::vector<std::string> args{"run", kRunbook};
    if (yes) args.push_back("--yes");
    for (auto& p : params) {
      args.push_back("-p");
      args.push_back(p);
    }
    return run_cli(dir_, args, 90s, env(units));
  }

 private:
  void tool(const std::string& name, const std::string& script) const {
    std::string path = bin_ + "/" + name;
    std::ofstream(path) << script;
    ::chmod(path.c_str(), 0755);
  }

  const TempDir& dir_;
  std::string bin_;
  std::string calls_;
  bool restart_fails_ = false;
};

const std::vector<std::string> kPrecheckCalls = {
    "systemctl show --property=LoadState --value web.service",
    "systemctl is-active web.service",
};

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("restart-service validates and has the header the runbook README is made from" *
          doctest::timeout(30)) {
  TempDir dir;
  auto f = run_cli(dir, {"validate", kRunbook});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  CHECK(contains(f.output, "ok "));
  auto header = lines_of(read_file(kRunbook));
  REQUIRE(header.size() > 10);
  CHECK(header[0] == "# restart-service: restart a systemd unit safely");
  CHECK(header[1] == "#");
  for (const char* section : {"# What: ", "# When: ", "# Changes: ", "# Rollback: "}) {
    CAPTURE(section);
    CHECK(std::count_if(header.begin(), header.end(),
                        [&](const std::string& line) { return line.rfind(section, 0) == 0; }) == 1);
  }
}

TEST_CASE("restart-service drains, restarts, checks health and undrains, in that order" *
          doctest::timeout(90)) {
  TempDir dir;
  HttpServer server(dir);
  Sandbox sandbox(dir);
  auto f = sandbox.run({"unit=web.service", "health_url=" + server.url("/health"),
                        "drain_cmd=lbctl drain web1", "undrain_cmd=lbctl undrain web1",
                        "notify_cmd=notify"});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  CHECK(sandbox.calls() == concat(kPrecheckCalls, {
                                                      "lbctl drain web1 (unit web.service)",
                                                      "systemctl restart web.service",
                                                      "systemctl is-active web.service",
                                                      "lbctl undrain web1 (unit web.service)",
                                                  }));
  CHECK(server.requests("GET /health") == 1);
  CHECK(
      contains(f.output, "restarted web.service: it was active, it is active; health check: 200"));
  CHECK_FALSE(contains(f.output, "rolling back"));
}

TEST_CASE("restart-service without drain commands or health_url only checks and restarts" *
          doctest::timeout(60)) {
  TempDir dir;
  Sandbox sandbox(dir);
  auto f = sandbox.run({"unit=web.service"});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  CHECK(sandbox.calls() == concat(kPrecheckCalls, {
                                                      "systemctl restart web.service",
                                                      "systemctl is-active web.service",
                                                  }));
  CHECK(contains(f.output, "health check: not configured"));
}

TEST_CASE("restart-service rolls back the drain and runs the failure hook when health fails" *
          doctest::timeout(90)) {
  TempDir dir;
  HttpServer server(dir);
  Sandbox sandbox(dir);
  auto f = sandbox.run({"unit=web.service", "health_url=" + server.url("/status/503"),
                        "drain_cmd=lbctl drain web1", "undrain_cmd=lbctl undrain web1",
                        "notify_cmd=notify"});
  CAPTURE(f.output);
  CHECK(f.exit_code == 1);
  auto calls = sandbox.calls();
  REQUIRE(calls.size() == 7);
  CHECK(std::vector<std::string>(calls.begin(), calls.begin() + 6) ==
        concat(kPrecheckCalls, {
                                   "lbctl drain web1 (unit web.service)",
                                   "systemctl restart web.service",
                                   "systemctl is-active web.service",
                                   "lbctl undrain web1 (unit web.service)",
                               }));
  // Last, the failure hook, with the message as the last argument.
  CHECK(calls[6].rfind("notify restart-service FAILED for web.service on ", 0) == 0);
  CHECK(contains(calls[6], "health failed"));
  CHECK(contains(calls[6], "the drain was rolled back"));
  // The health check was retried (503 is retryable) before giving up.
  CHECK(server.requests("GET /status/503") == 6);
  CHECK(contains(f.output, "expected status 200-299, got 503"));
  CHECK(contains(f.output, "!!! restart-service FAILED for web.service"));
}

TEST_CASE("restart-service rolls back the drain when the restart itself fails" *
          doctest::timeout(60)) {
  TempDir dir;
  HttpServer server(dir);
  Sandbox sandbox(dir);
  sandbox.make_restart_fail();
  auto f = sandbox.run({"unit=web.service", "health_url=" + server.url("/health"),
                        "drain_cmd=lbctl drain web1", "undrain_cmd=lbctl undrain web1",
                        "notify_cmd=notify"});
  CAPTURE(f.output);
  CHECK(f.exit_code == 1);
  auto calls = sandbox.calls();
  REQUIRE(calls.size() == 6);
  CHECK(std::vector<std::string>(calls.begin(), calls.begin() + 5) ==
        concat(kPrecheckCalls, {
                                   "lbctl drain web1 (unit web.service)",
                                   "systemctl restart web.service",
                                   "lbctl undrain web1 (unit web.service)",
                               }));
  CHECK(calls[5].rfind("notify restart-service FAILED for web.service", 0) == 0);
  CHECK(contains(calls[5], "restart failed"));
  CHECK(server.requests("GET /health") == 0);
}

TEST_CASE("restart-service stops at the pre-check for a unit that does not exist" *
          doctest::timeout(60)) {
  TempDir dir;
  Sandbox sandbox(dir);
  auto f = sandbox.run({"unit=nope.service", "drain_cmd=lbctl drain web1",
                        "undrain_cmd=lbctl undrain web1", "notify_cmd=notify"});
  CAPTURE(f.output);
  CHECK(f.exit_code == 1);
  auto calls = sandbox.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0] == "systemctl show --property=LoadState --value nope.service");
  // Nothing was drained or restarted; the failure hook still says so.
  CHECK(calls[1].rfind("notify restart-service FAILED for nope.service", 0) == 0);
  CHECK(contains(calls[1], "nothing was drained"));
  CHECK(contains(f.output, "unit nope.service is not loaded (LoadState=not-found)"));
}

TEST_CASE("restart-service refuses a drain_cmd without an undrain_cmd before changing anything" *
          doctest::timeout(60)) {
  TempDir dir;
  Sandbox sandbox(dir);
  auto f = sandbox.run({"unit=web.service", "drain_cmd=lbctl drain web1"});
  CAPTURE(f.output);
  CHECK(f.exit_code == 1);
  CHECK(sandbox.calls().empty());
  CHECK(contains(f.output, "drain_cmd is given but undrain_cmd is not"));
}

TEST_CASE(
    "restart-service asks before restarting and, with no terminal and no --yes, does nothing" *
    doctest::timeout(60)) {
  TempDir dir;
  Sandbox sandbox(dir);
  auto f = sandbox.run({"unit=web.service"}, /*yes=*/false);
  CAPTURE(f.output);
  CHECK(f.exit_code == 2);
  CHECK(contains(f.output, "step restart asks for confirmation"));
  CHECK(sandbox.calls().empty());
}

TEST_CASE("restart-service refuses a unit name that is not a unit name, before anything runs" *
          doctest::timeout(60)) {
  TempDir dir;
  Sandbox sandbox(dir);
  for (const char* unit : {"-all", "web service", "web;reboot", "../etc/passwd"}) {
    CAPTURE(unit);
    auto f = sandbox.run({std::string("unit=") + unit});
    CAPTURE(f.output);
    CHECK(f.exit_code == 2);
    CHECK(contains(f.output, "does not match its pattern"));
  }
  CHECK(sandbox.calls().empty());
}

TEST_CASE("restart-service passes shell syntax in drain_cmd as text and never runs it" *
          doctest::timeout(60)) {
  TempDir dir;
  Sandbox sandbox(dir);
  std::string marker = dir / "injected";
  auto f = sandbox.run({"unit=web.service", "drain_cmd=lbctl drain $(touch " + marker + ");touch",
                        "undrain_cmd=lbctl undrain `touch " + marker + "`"});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  CHECK_FALSE(file_exists(marker));
  CHECK(sandbox.calls() ==
        concat(kPrecheckCalls, {
                                   "lbctl drain $(touch " + marker + ");touch (unit web.service)",
                                   "systemctl restart web.service",
                                   "systemctl is-active web.service",
                                   "lbctl undrain `touch " + marker + "` (unit web.service)",
                               }));
}

TEST_CASE("restart-service run twice restarts twice and succeeds both times" *
          doctest::timeout(90)) {
  TempDir dir;
  HttpServer server(dir);
  Sandbox sandbox(dir);
  std::vector<std::string> params{"unit=web.service", "health_url=" + server.url("/health"),
                                  "drain_cmd=lbctl drain web1", "undrain_cmd=lbctl undrain web1"};
  auto first = sandbox.run(params);
  CAPTURE(first.output);
  CHECK(first.exit_code == 0);
  auto once = sandbox.calls();
  auto second = sandbox.run(params);
  CAPTURE(second.output);
  CHECK(second.exit_code == 0);
  CHECK(sandbox.calls() == concat(once, once));
  CHECK(server.requests("GET /health") == 2);
}

TEST_CASE("restart-service with dry_run checks the unit and its health and changes nothing" *
          doctest::timeout(60)) {
  TempDir dir;
  HttpServer server(dir);
  Sandbox sandbox(dir);
  auto f =
      sandbox.run({"unit=web.service", "health_url=" + server.url("/health"),
                   "drain_cmd=lbctl drain web1", "undrain_cmd=lbctl undrain web1", "dry_run=true"});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  CHECK(sandbox.calls() == kPrecheckCalls);
  CHECK(server.requests("GET /health") == 1);
  CHECK(contains(f.output, "dry run: web.service is active; health check: 200"));
  CHECK(contains(f.output,
                 "a real run would: drain: lbctl drain web1; systemctl restart "
                 "web.service; wait for it to be active; check " +
                     server.url("/health") + "; undrain: lbctl undrain web1"));
  CHECK(contains(f.output, "nothing was changed"));
}
