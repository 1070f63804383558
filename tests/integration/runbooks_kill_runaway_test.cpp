// runbooks/kill-runaway.yaml run for real on throwaway processes: shell
// scripts whose file name (so whose process name) holds a unique token, one
// that burns CPU, one that idles, one that ignores SIGTERM. The tests check
// which processes died and of which signal, and the outputs the `report` step
// prints. Every process a test starts is killed when the test ends, pass or
// fail.

#include <pwd.h>
#include <sys/stat.h>

#include <doctest/doctest.h>

#include <filesystem>

#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kRunbook = std::string(RUNBOOK_SOURCE_DIR) + "/runbooks/kill-runaway.yaml";

const char* kBurn = "#!/bin/sh\nwhile :; do :; done\n";
const char* kStubborn = "#!/bin/sh\ntrap '' TERM\nwhile :; do :; done\n";
const char* kIdle = "#!/bin/sh\nwhile :; do sleep 1; done\n";

// Kills, when it goes out of scope, every process whose command line holds
// `needle`: what a failing test left behind (grandchildren included).
struct KillOnExit {
  std::string needle;
  ~KillOnExit() { kill_processes(needle); }
};

// A script started by the test (so a child of it), with stdio on /dev/null;
// `argv_prefix` runs it through another program (setpriv ...).
class Script {
 public:
  Script(const std::string& path, const std::string& text,
         const std::vector<std::string>& argv_prefix = {},
         const std::vector<std::string>& args = {}, const std::string& out = "/dev/null",
         const std::map<std::string, std::string>& env = {}) {
    std::ofstream(path) << text;
    ::chmod(path.c_str(), 0755);
    std::vector<std::string> argv_strings = argv_prefix;
    argv_strings.push_back(path);
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
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int rc = ::posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
  }
  ~Script() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
    }
  }
  Script(const Script&) = delete;
  Script& operator=(const Script&) = delete;

  pid_t pid() const { return pid_; }
  // True once it has ended (reaped), waiting at most `limit`.
  bool ended(std::chrono::milliseconds limit = 0ms) {
    auto until = std::chrono::steady_clock::now() + limit;
    do {
      if (reaped_ || ::waitpid(pid_, &status_, WNOHANG) == pid_) return reaped_ = true;
      std::this_thread::sleep_for(10ms);
    } while (std::chrono::steady_clock::now() < until);
    return false;
  }
  // The signal that ended it, 0 if it exited or still runs.
  int signal() const { return reaped_ && WIFSIGNALED(status_) ? WTERMSIG(status_) : 0; }
  int exit_code() const { return reaped_ && WIFEXITED(status_) ? WEXITSTATUS(status_) : -1; }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
};

// runbook run kill-runaway.yaml --yes -p name=NAME -p PARAMS...
Finished run_kill(const TempDir& dir, const std::string& name,
                  const std::vector<std::string>& params) {
  std::vector<std::string> args{"run", kRunbook, "--yes", "-p", "name=" + name};
  for (const auto& p : params) {
    args.push_back("-p");
    args.push_back(p);
  }
  return run_cli(dir, args, 90s);
}

// The value of output KEY as the `report` step printed it.
std::string report(const std::string& output, const std::string& key) {
  std::string marker = "report | " + key + "=";
  auto at = output.find(marker);
  if (at == std::string::npos) return "<missing>";
  at += marker.size();
  return output.substr(at, output.find('\n', at) - at);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Lets a freshly started burner show up as busy before the runbook samples it.
void settle() {
  std::this_thread::sleep_for(300ms);
}

}  // namespace

TEST_CASE("kill-runaway stops a CPU burner with SIGTERM and leaves an idle namesake alone" *
          doctest::timeout(90)) {
  TempDir dir;
  std::string token = std::to_string(unique_token());
  KillOnExit guard{"-" + token};
  Script burner(dir / ("burn-" + token), kBurn);
  Script idle(dir / ("idle-" + token), kIdle);
  settle();

  auto f = run_kill(dir, "(burn|idle)-" + token,
                    {"dry_run=false", "cpu_percent=5", "sample_seconds=2", "grace_seconds=5"});
  INFO(f.output);
  REQUIRE(f.exit_code == 0);
  CHECK(burner.ended(2s));
  CHECK(burner.signal() == SIGTERM);
  CHECK_FALSE(idle.ended());
  CHECK(report(f.output, "count") == "1");
  std::string me = ::getpwuid(::geteuid())->pw_name;
  CHECK(report(f.output, "killed") == "[{\"pid\":" + std::to_string(burner.pid()) +
                                          ",\"name\":\"burn-" + token + "\",\"user\":\"" + me +
                                          "\",\"signal\":\"TERM\"}]");
  CHECK(contains(f.output, "report | " + std::to_string(burner.pid()) + " burn-" + token));
}

TEST_CASE("kill-runaway sends SIGKILL after the grace to a process that ignores SIGTERM" *
          doctest::timeout(90)) {
  TempDir dir;
  std::string token = std::to_string(unique_token());
  KillOnExit guard{"-" + token};
  Script stubborn(dir / ("stub-" + token), kStubborn);
  settle();

  auto start = std::chrono::steady_clock::now();
  auto f = run_kill(dir, "stub-" + token,
                    {"dry_run=false", "cpu_percent=5", "sample_seconds=1", "grace_seconds=2"});
  INFO(f.output);
  REQUIRE(f.exit_code == 0);
  CHECK(stubborn.ended(2s));
  CHECK(stubborn.signal() == SIGKILL);
  CHECK(seconds_since(start) >= 3.0);  // the sample, then the whole grace
  CHECK(report(f.output, "count") == "1");
  CHECK(contains(report(f.output, "killed"), "\"pid\":" + std::to_string(stubborn.pid())));
  CHECK(contains(report(f.output, "killed"), "\"signal\":\"KILL\""));
  CHECK(contains(f.output, "ignored SIGTERM for 2s: SIGKILL"));
}

TEST_CASE("kill-runaway by default is a dry run that kills nothing and reports what it would kill" *
          doctest::timeout(90)) {
  TempDir dir;
  std::string token = std::to_string(unique_token());
  KillOnExit guard{"-" + token};
  Script burner(dir / ("burn-" + token), kBurn);
  settle();

  auto f = run_kill(dir, "burn-" + token, {"cpu_percent=5", "sample_seconds=1"});
  INFO(f.output);
  REQUIRE(f.exit_code == 0);
  CHECK_FALSE(burner.ended(500ms));
  CHECK(report(f.output, "dry_run") == "true");
  CHECK(report(f.output, "count") == "0");
  CHECK(report(f.output, "killed") == "[]");
  CHECK(contains(report(f.output, "would_kill"), "\"pid\":" + std::to_string(burner.pid())));
  CHECK(contains(f.output, "kill    skipped"));
}

TEST_CASE("kill-runaway never signals the engine running it nor the engine's ancestors" *
          doctest::timeout(90)) {
  // The engine runs as bin/eng-TOKEN (a link to runbook, so that is its process
  // name), started by the script anc-TOKEN; a decoy bash script also named
  // eng-TOKEN holds a few MiB. With rss_mb=1 all three are over the threshold:
  // only the decoy may die.
  TempDir dir;
  std::string token = std::to_string(unique_token());
  KillOnExit guard{"-" + token};
  fs::create_directories(dir / "bin");
  fs::create_directories(dir / "decoy");
  std::string engine = dir / ("bin/eng-" + token);
  fs::create_symlink(RUNBOOK_BINARY, engine);
  Script decoy(dir / ("decoy/eng-" + token), "#!/bin/bash\nwhile :; do sleep 1; done\n");
  std::string out = dir / "engine-output.txt";
  Script ancestor(
      dir / ("anc-" + token), "#!/bin/sh\n\"" + engine + "\" \"$@\"\nexit $?\n", {},
      {"run", kRunbook, "--yes", "-p", "name=(eng|anc)-" + token, "-p", "cpu_percent=0", "-p",
       "rss_mb=1", "-p", "sample_seconds=1", "-p", "dry_run=false", "-p", "grace_seconds=5"},
      out, {{"RUNBOOK_STATE_DIR", dir / "state"}, {"NO_COLOR", "1"}});

  REQUIRE(ancestor.ended(60s));
  std::string output = read_file(out);
  INFO(output);
  CHECK(ancestor.signal() == 0);
  CHECK(ancestor.exit_code() == 0);  // the engine ran to its end
  CHECK(contains(output, "left alone: " + std::to_string(ancestor.pid()) + " anc-" + token));
  CHECK(contains(output, "eng-" + token + " (PID 1, or this run's engine"));
  CHECK(decoy.ended(2s));
  CHECK(decoy.signal() == SIGTERM);
  CHECK(report(output, "count") == "1");
  CHECK(contains(report(output, "killed"), "\"pid\":" + std::to_string(decoy.pid())));
}

TEST_CASE("kill-runaway leaves other users' processes alone unless all_users is true" *
          doctest::timeout(90)) {
  if (::geteuid() != 0) {
    MESSAGE("skipped: needs root to start a process as another user");
    return;
  }
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);  // so that nobody can run the script in it
  std::string token = std::to_string(unique_token());
  KillOnExit guard{"-" + token};
  Script other(dir / ("burn-" + token), kBurn,
               {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  settle();

  auto mine_only =
      run_kill(dir, "burn-" + token, {"dry_run=false", "cpu_percent=5", "sample_seconds=1"});
  INFO(mine_only.output);
  REQUIRE(mine_only.exit_code == 0);
  CHECK_FALSE(other.ended(500ms));
  CHECK(contains(mine_only.output, "left alone: " + std::to_string(other.pid())));
  CHECK(contains(mine_only.output, "all_users is false"));
  CHECK(report(mine_only.output, "count") == "0");

  auto everyone =
      run_kill(dir, "burn-" + token,
               {"dry_run=false", "cpu_percent=5", "sample_seconds=1", "all_users=true"});
  INFO(everyone.output);
  REQUIRE(everyone.exit_code == 0);
  CHECK(other.ended(2s));
  CHECK(other.signal() == SIGTERM);
  CHECK(report(everyone.output, "count") == "1");
}

TEST_CASE("kill-runaway kills nothing when more processes than max_count are selected" *
          doctest::timeout(90)) {
  TempDir dir;
  std::string token = std::to_string(unique_token());
  KillOnExit guard{"-" + token};
  Script one(dir / ("burn-" + token), kBurn);
  Script two(dir / ("burn2-" + token), kBurn);
  settle();

  auto f = run_kill(dir, "burn2?-" + token,
                    {"dry_run=false", "cpu_percent=1", "sample_seconds=2", "max_count=1"});
  INFO(f.output);
  CHECK(f.exit_code == 1);
  CHECK(contains(f.output, "REFUSED: 2 processes selected, more than max_count=1"));
  CHECK(contains(f.output, "kill    not_run"));
  CHECK_FALSE(one.ended(300ms));
  CHECK_FALSE(two.ended());
}

TEST_CASE("kill-runaway refuses a name pattern that matches every name" * doctest::timeout(60)) {
  TempDir dir;
  auto f = run_kill(dir, ".*", {"dry_run=false", "cpu_percent=1"});
  CHECK(f.exit_code == 1);
  CHECK(contains(f.output, "matches the empty name, so every process"));
  CHECK(contains(f.output, "kill    not_run"));
}
