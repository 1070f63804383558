#pragma once

// A test server written in Python (tests/data/*.py), started on a free port
// of 127.0.0.1 for one test and killed when it ends. The scripts print their
// port on their first line and exit by themselves after two minutes, should
// a test die without stopping them.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "run_fixture.hpp"

namespace runbook_test {

class TestServer {
 public:
  // Starts `python3 tests/data/SCRIPT ARGS...`, its stderr to `stderr_log`
  // when given (shown if it does not start).
  TestServer(const std::string& script, std::vector<std::string> args,
             const std::string& stderr_log = "") {
    int out[2];
    REQUIRE(::pipe(out) == 0);
    args.insert(args.begin(), {"python3", std::string(RUNBOOK_TEST_DATA) + "/" + script});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    if (!stderr_log.empty())
      posix_spawn_file_actions_addopen(&actions, 2, stderr_log.c_str(),
                                       O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, out[1]);
    int spawned = ::posix_spawnp(&pid_, "python3", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (spawned != 0) pid_ = -1;
    port_ = read_port(out[0]);
    ::close(out[0]);
    std::string why = "the test server " + script + " did not start";
    if (!stderr_log.empty()) why += ": " + read_file(stderr_log);
    REQUIRE_MESSAGE(port_ > 0, why);
  }
  ~TestServer() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path, const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  static int read_port(int fd) {
    std::string line;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until && line.find('\n') == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[64];
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, size_t(n));
    }
    return line.find('\n') == std::string::npos ? 0 : std::atoi(line.c_str());
  }

  pid_t pid_ = -1;
  int port_ = 0;
};

// How many lines of the request log at `path` are exactly `method_and_path`
// ("GET /health").
inline int count_requests(const std::string& path, const std::string& method_and_path) {
  std::istringstream lines(read_file(path));
  int n = 0;
  for (std::string line; std::getline(lines, line);) n += line == method_and_path;
  return n;
}

}  // namespace runbook_test
