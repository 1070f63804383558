#pragma once

#include <sys/types.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "exec/child_reaper.hpp"
#include "exec/running_attempt.hpp"
#include "runbook/duration.hpp"

namespace runbook::exec {

// What to start: the program, its whole environment, where.
struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] without '/' is looked up on the env's PATH
  std::vector<std::string> env;   // "NAME=value", the child's entire environment
  std::string workdir;            // empty: the engine's
  std::string tag;                // unique per attempt (see kProcessTagVariable)
  Duration kill_grace{std::chrono::seconds(10)};  // SIGTERM → SIGKILL when stopped
  // A session of its own rather than only a process group: no controlling
  // terminal, so nothing it starts can be stopped reading one (the server's
  // runs, which must not share the server's terminal).
  bool new_session = false;
};

enum class OutputStream { out, err };

// How a process ended.
struct ProcessExit {
  bool started = false;  // false: it never ran; `error` says why
  std::string error;
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal ended it
};

// Starts processes like ninja, and stops them better: each in its own process
// group, stdin from /dev/null, stdout and stderr read as they come, no engine
// file descriptor inherited; when it ends or is stopped, nothing it started is
// left running. One per io_context; every call and callback on its thread.
class ProcessRunner {
 public:
  class Process;
  using OutputHandler = std::function<void(OutputStream, std::string_view chunk)>;
  using ExitHandler = std::function<void(const ProcessExit&)>;

  explicit ProcessRunner(boost::asio::io_context& io);
  ProcessRunner(const ProcessRunner&) = delete;
  ProcessRunner& operator=(const ProcessRunner&) = delete;

  // Starts `spec`. `on_output` receives chunks as they are read (not split
  // into lines). `on_exit` is called exactly once, after the process was
  // reaped, every process carrying its tag was stopped, and its output was
  // read to the end — or at once (still asynchronously) when it could not
  // start. The returned handle may be used to stop it; dropping it does not.
  std::shared_ptr<Process> start(ProcessSpec spec, OutputHandler on_output, ExitHandler on_exit);

  // Processes started and not yet ended.
  size_t running() const { return running_; }

  // Stops every running process at once with SIGKILL (the second Ctrl-C).
  void kill_all();

  // Stops waiting for children once nothing runs, so the io_context can end.
  void close() { reaper_.close(); }

 private:
  friend class Process;
  boost::asio::io_context& io_;
  ChildReaper reaper_;
  size_t running_ = 0;
  std::vector<std::weak_ptr<Process>> processes_;
  std::vector<pid_t> unreaped_;  // started and not yet reaped, sorted
};

class ProcessRunner::Process : public RunningAttempt,
                               public std::enable_shared_from_this<ProcessRunner::Process> {
 public:
  Process(ProcessRunner& runner, ProcessSpec spec, OutputHandler on_output, ExitHandler on_exit);

  // SIGTERM to the process group and tagged descendants, SIGKILL after the
  // spec's kill_grace. Does nothing once ended; idempotent.
  void stop() override;
  // SIGKILL now.
  void kill() override;
  pid_t pid() const { return pid_; }
  bool ended() const override { return ended_; }

 private:
  friend class ProcessRunner;
  void launch();
  void read(int index);
  void on_reaped(ChildStatus status);
  void sweep();
  void finish_if_done();
  void fail_to_start(std::string error);

  ProcessRunner& runner_;
  ProcessSpec spec_;
  OutputHandler on_output_;
  ExitHandler on_exit_;
  std::array<boost::asio::readable_pipe, 2> pipes_;
  std::array<bool, 2> pipe_open_{false, false};
  // Small until a read fills one: most steps print little, and a process
  // then costs no large allocation.
  std::array<std::vector<char>, 2> buffers_{std::vector<char>(4096), std::vector<char>(4096)};
  boost::asio::steady_timer sweep_timer_;
  pid_t pid_ = -1;
  ProcessExit exit_;
  bool reaped_ = false;
  bool sweeping_ = false;
  bool stopping_ = false;
  bool killed_ = false;
  bool group_terminated_ = false;
  std::unordered_set<pid_t> terminated_;
  bool ended_ = false;
  std::chrono::steady_clock::time_point sweep_started_;
};

// The program `name` resolves to on `path` (a PATH value); "" when not found.
// A name containing '/' is returned as is.
std::string find_program(const std::string& name, std::string_view path);

}  // namespace runbook::exec
