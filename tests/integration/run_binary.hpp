#pragma once

// Runs a program the way a user would and captures what it says: for
// integration tests of the `runbook` binary. POSIX only, no dependencies.
//
//   RunResult r = run_binary({RUNBOOK_BINARY, "validate", "x.yaml"});
//   CHECK(r.exit_code == 2);
//
// The child gets its own process group, the test's environment plus
// `extra_env`, and `stdin_text` on its stdin (else /dev/null). It is killed
// (the whole group, SIGKILL) if it runs past `timeout`.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace runbook::testing {

struct RunResult {
  int exit_code = -1;  // the exit status, or 128 + signal number when killed by one
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr
  bool timed_out = false;
};

struct RunOptions {
  std::map<std::string, std::string> extra_env;  // added to (or replacing in) the environment
  std::optional<std::string> stdin_text;         // nullopt: stdin is /dev/null
  std::string workdir;                           // empty: the test's own
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

namespace detail {

inline void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string(what) + ": " + std::strerror(rc));
}

inline void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
}

}  // namespace detail

// Runs args[0] (looked up on PATH when it has no '/') with the rest as its
// arguments, and waits for it to end. Throws std::runtime_error only when
// the program cannot be started at all.
inline RunResult run_binary(const std::vector<std::string>& args, const RunOptions& options) {
  if (args.empty()) throw std::invalid_argument("run_binary: no program");

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    if (!options.extra_env.contains(name)) env_strings.push_back(std::move(entry));
  }
  for (const auto& [name, value] : options.extra_env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp, argv;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> arg_copies = args;
  for (std::string& s : arg_copies) argv.push_back(s.data());
  argv.push_back(nullptr);

  int out_pipe[2], err_pipe[2], in_pipe[2] = {-1, -1};
  detail::make_pipe(out_pipe);
  detail::make_pipe(err_pipe);
  if (options.stdin_text) detail::make_pipe(in_pipe);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (options.stdin_text) {
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  if (!options.workdir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.workdir.c_str());
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);

  pid_t pid = -1;
  const int rc = args[0].find('/') == std::string::npos
                     ? posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data())
                     : posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (options.stdin_text) ::close(in_pipe[0]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    if (options.stdin_text) ::close(in_pipe[1]);
    detail::check(rc, ("cannot start " + args[0]).c_str());
  }

  RunResult result;
  // Feed stdin and drain both outputs together, so that neither side blocks
  // on a full pipe.
  const std::string input = options.stdin_text.value_or("");
  size_t written = 0;
  int in_fd = options.stdin_text ? in_pipe[1] : -1;
  if (in_fd >= 0) {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
    if (input.empty()) {
      ::close(in_fd);
      in_fd = -1;
    }
  }
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  char buffer[65536];
  while (out_fd >= 0 || err_fd >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      break;
    }
    pollfd fds[3];
    nfds_t n = 0;
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (::poll(fds, n, static_cast<int>(std::min<long>(left.count(), 1000))) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (nfds_t k = 0; k < n; ++k) {
      if (fds[k].revents == 0) continue;
      if (fds[k].fd == in_fd) {
        const ssize_t w = ::write(in_fd, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) written = input.size();  // the child closed its stdin
        if (written == input.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      const ssize_t r = ::read(fds[k].fd, buffer, sizeof buffer);
      if (r > 0) {
        (fds[k].fd == out_fd ? result.out : result.err).append(buffer, static_cast<size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        ::close(fds[k].fd);
        (fds[k].fd == out_fd ? out_fd : err_fd) = -1;
      }
    }
  }
  if (in_fd >= 0) ::close(in_fd);
  if (out_fd >= 0) ::close(out_fd);
  if (err_fd >= 0) ::close(err_fd);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

inline RunResult run_binary(const std::vector<std::string>& args,
                            const std::map<std::string, std::string>& extra_env = {},
                            std::optional<std::string> stdin_text = std::nullopt) {
  RunOptions options;
  options.extra_env = extra_env;
  options.stdin_text = std::move(stdin_text);
  return run_binary(args, options);
}

}  // namespace runbook::testing
