#pragma once

// Helpers for tests that run the real `runbook` binary on real processes:
// a private temporary directory (also the state directory), runbook files
// written into it, a process started in the background, and checks that
// nothing was left running.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace runbook_test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "runbook-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

  // Writes `text` to `name` inside the directory; returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name) << text;
    return path_ + "/" + name;
  }

 private:
  std::string path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline bool file_exists(const std::string& path) {
  return std::filesystem::exists(path);
}

// A number unlikely to collide with anything else running, to make a
// process's command line unique: `sleep 3<token>`.
inline int unique_token() {
  static std::mt19937 rng{std::random_device{}()};
  return int(100000 + rng() % 800000);
}

// Processes whose command line contains `needle` (as pgrep -f would).
inline int count_processes(const std::string& needle) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_file(entry.path().string() + "/cmdline");
    std::string stat = read_file(entry.path().string() + "/stat");
    // Zombies have no command line and are not running.
    if (cmdline.empty()) continue;
    for (char& c : cmdline)
      if (c == '\0') c = ' ';
    if (cmdline.find(needle) != std::string::npos &&
        cmdline.find("count_processes") == std::string::npos)
      ++count;
  }
  return count;
}

// Sends SIGKILL to every process whose command line contains `needle`.
inline void kill_processes(const std::string& needle) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_file(entry.path().string() + "/cmdline");
    for (char& c : cmdline)
      if (c == '\0') c = ' ';
    if (cmdline.find(needle) != std::string::npos) ::kill(std::stoi(name), SIGKILL);
  }
}

// `runbook ARGS...` started in the background with stdout and stderr to
// files; the environment is the test's plus `env`.
class Background {
 public:
  Background(const std::vector<std::string>& args, const std::string& out_path,
             const std::map<std::string, std::string>& env = {}) {
    std::vector<std::string> argv_strings{RUNBOOK_BINARY};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
      std::string kv = *e;
      if (!env.count(kv.substr(0, kv.find('=')))) env_strings.push_back(kv);
    }
    for (auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Background() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      int status;
      ::waitpid(pid_, &status, 0);
    }
  }
  pid_t pid() const { return pid_; }
  void signal(int sig) { ::kill(pid_, sig); }
  // The exit code (128+N for a signal), or -1 if it did not end within `limit`.
  int wait(std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        waited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  bool waited_ = false;
};

// Waits (bounded) until `path` exists.
inline bool wait_for_file(const std::string& path, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (file_exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace runbook_test

namespace runbook_test {

struct Finished {
  int exit_code = -1;
  std::string output;  // stdout and stderr, interleaved
  double seconds = 0;
};

// Runs `runbook ARGS...` to its end (bounded by `limit`) with the state
// directory inside `dir`.
inline Finished run_cli(const TempDir& dir, const std::vector<std::string>& args,
                        std::chrono::milliseconds limit = std::chrono::seconds(60),
                        std::map<std::string, std::string> env = {}) {
  env.emplace("RUNBOOK_STATE_DIR", dir / "state");
  env.emplace("NO_COLOR", "1");
  std::string out = dir / ("out-" + std::to_string(unique_token()) + ".txt");
  auto start = std::chrono::steady_clock::now();
  Background bg(args, out, env);
  Finished f;
  f.exit_code = bg.wait(limit);
  f.seconds = seconds_since(start);
  f.output = read_file(out);
  return f;
}

}  // namespace runbook_test
