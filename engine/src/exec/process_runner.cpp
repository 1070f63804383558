#include "exec/process_runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstring>

#include <spdlog/spdlog.h>

#include "exec/process_tree.hpp"

namespace asio = boost::asio;

namespace runbook::exec {
namespace {

// posix_spawn's attributes and file actions, freed however the spawn ends.
class SpawnSetup {
 public:
  SpawnSetup() {
    ok_ = ::posix_spawnattr_init(&attr_) == 0;
    ok_ = ::posix_spawn_file_actions_init(&actions_) == 0 && ok_;
  }
  ~SpawnSetup() {
    ::posix_spawnattr_destroy(&attr_);
    ::posix_spawn_file_actions_destroy(&actions_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // The child gets its own process group (or session: it leads a group of
  // the same id too) and the signal state of a fresh process (the engine
  // blocks, handles or ignores some); stdin from /dev/null, stdout and
  // stderr to the pipes, no other descriptor of the engine's, and `workdir`
  // as its directory when not empty.
  int prepare(int out_fd, int err_fd, const std::string& workdir, bool new_session) {
    if (!ok_) return ENOMEM;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    // Not both: a session leader may not change its process group.
    short flags = new_session ? POSIX_SPAWN_SETSID : POSIX_SPAWN_SETPGROUP;
    flags |= POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    int rc = ::posix_spawnattr_setflags(&attr_, flags);
    if (rc == 0 && !new_session) rc = ::posix_spawnattr_setpgroup(&attr_, 0);
    if (rc == 0) rc = ::posix_spawnattr_setsigmask(&attr_, &none);
    if (rc == 0) rc = ::posix_spawnattr_setsigdefault(&attr_, &all);
    if (rc == 0)
      rc = ::posix_spawn_file_actions_addopen(&actions_, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(&actions_, out_fd, STDOUT_FILENO);
    if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(&actions_, err_fd, STDERR_FILENO);
    if (rc == 0) rc = ::posix_spawn_file_actions_addclosefrom_np(&actions_, STDERR_FILENO + 1);
    if (rc == 0 && !workdir.empty())
      rc = ::posix_spawn_file_actions_addchdir_np(&actions_, workdir.c_str());
    return rc;
  }

  // Starts `program` (vfork and exec: the engine's memory is not copied).
  int spawn(pid_t* pid, const std::string& program, char* const argv[], char* const envp[]) {
    return ::posix_spawn(pid, program.c_str(), &actions_, &attr_, argv, envp);
  }

 private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
  bool ok_ = false;
};

// `fd` moved above the standard descriptors if it is one of them (the engine
// was started with one closed), so that dup2 onto 1 and 2 cannot clash.
int above_stdio(int fd) {
  if (fd > STDERR_FILENO) return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  return moved >= 0 ? moved : fd;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string_view path_of(const std::vector<std::string>& env) {
  for (const std::string& kv : env)
    if (kv.rfind("PATH=", 0) == 0) return std::string_view(kv).substr(5);
  return "/usr/local/bin:/usr/bin:/bin";
}

constexpr size_t kMaxReadBuffer = 64 * 1024;
constexpr auto kSweepInterval = std::chrono::milliseconds(20);
constexpr auto kUncertainWindow = std::chrono::milliseconds(200);
// How long output may stay open after the process and everything tagged with
// it are gone (a descendant that hid from the sweep still holds the pipe).
constexpr auto kOrphanedPipeGrace = std::chrono::milliseconds(500);

}  // namespace

std::string find_program(const std::string& name, std::string_view path) {
  if (name.find('/') != std::string::npos) return name;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find(':', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string dir(path.substr(pos, end - pos));
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    if (is_executable_file(candidate)) return candidate;
    pos = end + 1;
  }
  return "";
}

ProcessRunner::ProcessRunner(asio::io_context& io) : io_(io), reaper_(io) {}

std::shared_ptr<ProcessRunner::Process> ProcessRunner::start(ProcessSpec spec,
                                                             OutputHandler on_output,
                                                             ExitHandler on_exit) {
  auto process =
      std::make_shared<Process>(*this, std::move(spec), std::move(on_output), std::move(on_exit));
  ++running_;
  std::erase_if(processes_, [](const std::weak_ptr<Process>& p) { return p.expired(); });
  processes_.push_back(process);
  process->launch();
  return process;
}

void ProcessRunner::kill_all() {
  for (auto& weak : processes_)
    if (auto p = weak.lock()) p->kill();
}

ProcessRunner::Process::Process(ProcessRunner& runner, ProcessSpec spec, OutputHandler on_output,
                                ExitHandler on_exit)
    : runner_(runner),
      spec_(std::move(spec)),
      on_output_(std::move(on_output)),
      on_exit_(std::move(on_exit)),
      pipes_{asio::readable_pipe(runner.io_), asio::readable_pipe(runner.io_)},
      sweep_timer_(runner.io_) {}

void ProcessRunner::Process::fail_to_start(std::string error) {
  exit_.started = false;
  exit_.error = std::move(error);
  reaped_ = true;
  // Report asynchronously, as for a process that ran.
  asio::post(runner_.io_, [self = shared_from_this()] { self->finish_if_done(); });
}

void ProcessRunner::Process::launch() {
  if (spec_.argv.empty() || spec_.argv[0].empty()) return fail_to_start("empty command");
  const std::string& name = spec_.argv[0];
  std::string program;
  if (name.find('/') == std::string::npos) {
    program = find_program(name, path_of(spec_.env));
    if (program.empty()) return fail_to_start("command not found: " + name);
  } else {
    program = name;
    if (::access(program.c_str(), F_OK) != 0) return fail_to_start("no such program: " + program);
    if (!is_executable_file(program))
      return fail_to_start("cannot execute " + program + ": not an executable file");
  }
  if (!spec_.workdir.empty() && !is_directory(spec_.workdir))
    return fail_to_start("workdir " + spec_.workdir + " is not a directory");

  std::vector<std::string> env_strings = std::move(spec_.env);
  env_strings.push_back(std::string(kProcessTagVariable) + "=" + spec_.tag);

  // The engine reads one end of each pipe; the child writes to the other.
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0)
    return fail_to_start(std::string("cannot create pipes: ") + std::strerror(errno));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return fail_to_start(std::string("cannot create pipes: ") + std::strerror(err));
  }
  pipes_[0].assign(out_pipe[0]);
  pipes_[1].assign(err_pipe[0]);
  int out_fd = above_stdio(out_pipe[1]);
  int err_fd = above_stdio(err_pipe[1]);

  std::vector<char*> argv;
  argv.reserve(spec_.argv.size() + 1);
  for (std::string& a : spec_.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (std::string& kv : env_strings) envp.push_back(kv.data());
  envp.push_back(nullptr);

  SpawnSetup setup;
  int rc = setup.prepare(out_fd, err_fd, spec_.workdir, spec_.new_session);
  if (rc == 0) rc = setup.spawn(&pid_, program, argv.data(), envp.data());
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (out_fd != out_pipe[1]) ::close(out_fd);
  if (err_fd != err_pipe[1]) ::close(err_fd);
  if (rc != 0) {
    pid_ = -1;
    pipes_[0].close();
    pipes_[1].close();
    return fail_to_start("cannot start " + program + ": " + std::strerror(rc));
  }
  spdlog::debug("started pid {} ({}) for {}", pid_, program, spec_.tag);
  auto& unreaped = runner_.unreaped_;
  unreaped.insert(std::lower_bound(unreaped.begin(), unreaped.end(), pid_), pid_);
  exit_.started = true;
  auto self = shared_from_this();
  runner_.reaper_.watch(pid_, [self](ChildStatus s) { self->on_reaped(s); });
  pipe_open_ = {true, true};
  read(0);
  read(1);
}

void ProcessRunner::Process::read(int index) {
  pipes_[index].async_read_some(
      asio::buffer(buffers_[index]),
      [self = shared_from_this(), index](const boost::system::error_code& ec, size_t n) {
        std::vector<char>& buffer = self->buffers_[index];
        if (n > 0)
          self->on_output_(index == 0 ? OutputStream::out : OutputStream::err,
                           std::string_view(buffer.data(), n));
        if (n == buffer.size() && buffer.size() < kMaxReadBuffer) buffer.resize(kMaxReadBuffer);
        if (ec) {
          self->pipe_open_[index] = false;
          boost::system::error_code ignored;
          self->pipes_[index].close(ignored);
          self->finish_if_done();
          return;
        }
        self->read(index);
      });
}

void ProcessRunner::Process::on_reaped(ChildStatus status) {
  spdlog::debug("pid {} ended: exit code {}, signal {}", pid_, status.exit_code, status.signal);
  reaped_ = true;
  auto& unreaped = runner_.unreaped_;
  if (auto it = std::lower_bound(unreaped.begin(), unreaped.end(), pid_);
      it != unreaped.end() && *it == pid_)
    unreaped.erase(it);
  exit_.exit_code = status.exit_code;
  exit_.signal = status.signal;
  // Whatever it left behind (background jobs, daemons that called setsid)
  // ends with it.
  if (!sweeping_) {
    sweep_started_ = std::chrono::steady_clock::now();
    sweep();
  }
}

void ProcessRunner::Process::stop() {
  if (ended_ || stopping_) return;
  stopping_ = true;
  if (!sweeping_) {
    sweep_started_ = std::chrono::steady_clock::now();
    sweep();
  }
}

void ProcessRunner::Process::kill() {
  if (ended_) return;
  stopping_ = true;
  killed_ = true;
  if (!sweeping_) {
    sweep_started_ = std::chrono::steady_clock::now();
    sweep();
  }
}

void ProcessRunner::Process::sweep() {
  if (ended_) return;
  sweeping_ = true;
  if (!killed_ && std::chrono::steady_clock::now() - sweep_started_ >= spec_.kill_grace)
    killed_ = true;
  // The main process is signalled through its group; once reaped its pid may
  // be reused, so only the group and the tag identify what is left.
  Stragglers left = find_stragglers(pid_, spec_.tag, /*full_scan=*/false, runner_.unreaped_);
  // An adopted child caught mid-exec has no readable environment yet: look
  // again shortly rather than miss it (bounded, in case it is someone else's
  // that cleared its environment).
  if (left.empty() && left.uncertain > 0 &&
      std::chrono::steady_clock::now() - sweep_started_ < kUncertainWindow) {
    sweep_timer_.expires_after(kSweepInterval);
    sweep_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->sweep();
    });
    return;
  }
  if (left.empty() && reaped_ && stopping_) {
    // Last look across the whole machine, for descendants of descendants.
    left = find_stragglers(pid_, spec_.tag, /*full_scan=*/true);
  }
  if (left.empty() && reaped_) {
    sweeping_ = false;
    if (pipe_open_[0] || pipe_open_[1]) {
      sweep_timer_.expires_after(kOrphanedPipeGrace);
      sweep_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec) return;
        boost::system::error_code ignored;
        for (auto& p : self->pipes_) p.cancel(ignored);
      });
    }
    finish_if_done();
    return;
  }
  if (killed_) {
    spdlog::debug("SIGKILL to what is left of {} (group {}, {} more)", spec_.tag, pid_,
                  left.tagged.size());
    if (left.group_alive) ::kill(-pid_, SIGKILL);
    for (pid_t pid : left.tagged) signal_straggler(pid, pid_, SIGKILL);
  } else {
    // SIGTERM once to each, then wait for the grace to run out.
    if (left.group_alive && !group_terminated_) {
      spdlog::debug("SIGTERM to process group {} of {}", pid_, spec_.tag);
      ::kill(-pid_, SIGTERM);
      group_terminated_ = true;
    }
    for (pid_t pid : left.tagged)
      if (terminated_.insert(pid).second) signal_straggler(pid, pid_, SIGTERM);
  }
  sweep_timer_.expires_after(kSweepInterval);
  sweep_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->sweep();
  });
}

void ProcessRunner::Process::finish_if_done() {
  if (ended_ || !reaped_ || sweeping_ || pipe_open_[0] || pipe_open_[1]) return;
  ended_ = true;
  sweep_timer_.cancel();
  --runner_.running_;
  auto on_exit = std::move(on_exit_);
  on_output_ = nullptr;
  on_exit(exit_);
}

}  // namespace runbook::exec
