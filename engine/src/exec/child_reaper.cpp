#include "exec/child_reaper.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>

namespace runbook::exec {

ChildReaper::ChildReaper(boost::asio::io_context& io) : sigchld_(io, SIGCHLD) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  arm();
}

void ChildReaper::watch(pid_t pid, std::function<void(ChildStatus)> on_exit) {
  watched_[pid] = std::move(on_exit);
}

void ChildReaper::close() {
  closed_ = true;
  boost::system::error_code ignored;
  sigchld_.cancel(ignored);
}

void ChildReaper::arm() {
  sigchld_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    reap();
    // Reaping may have ended the run, and closed this.
    if (!closed_) arm();
  });
}

void ChildReaper::reap() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid == 0) return;
    if (pid < 0) {
      if (errno == EINTR) continue;
      return;  // ECHILD: nothing left
    }
    auto it = watched_.find(pid);
    // An adopted orphan, or a child whose exec failed: reaped, nobody waits.
    if (it == watched_.end()) continue;
    ChildStatus s;
    if (WIFEXITED(status)) s.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) s.signal = WTERMSIG(status);
    auto on_exit = std::move(it->second);
    watched_.erase(it);
    on_exit(s);
  }
}

}  // namespace runbook::exec
