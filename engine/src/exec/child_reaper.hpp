#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <functional>
#include <unordered_map>

namespace runbook::exec {

// How a child ended, from waitpid().
struct ChildStatus {
  int exit_code = -1;  // set when the child exited
  int signal = 0;      // set when a signal killed it
};

// Reaps every child of the engine on SIGCHLD: the processes it started and the
// orphans it adopts as a child subreaper. One per io_context; all calls on its
// thread.
class ChildReaper {
 public:
  // Makes the engine a child subreaper (Linux), so descendants that leave
  // their process group are re-parented to it instead of to init.
  explicit ChildReaper(boost::asio::io_context& io);
  ChildReaper(const ChildReaper&) = delete;
  ChildReaper& operator=(const ChildReaper&) = delete;

  // Calls `on_exit` once, when `pid` has been reaped. Must be called before
  // control returns to the io_context after the child was started.
  void watch(pid_t pid, std::function<void(ChildStatus)> on_exit);

  // Reaps whatever has ended now; also runs from the SIGCHLD handler.
  void reap();

  // Stops listening for SIGCHLD, so that the io_context can run out of work.
  void close();

 private:
  void arm();

  boost::asio::signal_set sigchld_;
  std::unordered_map<pid_t, std::function<void(ChildStatus)>> watched_;
  bool closed_ = false;
};

}  // namespace runbook::exec
