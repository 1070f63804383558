#include "exec/process_runner.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/connect_pipe.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/writable_pipe.hpp>
// Boost 1.81's Process v2 uses boost::optional and boost type traits without
// including them when built on std::filesystem (BOOST_PROCESS_USE_STD_FS).
#include <boost/optional.hpp>
#include <boost/type_traits.hpp>
#include <type_traits>
// Header-only: this is the one file that includes it.
#include <boost/process/v2.hpp>
#include <cstring>

#include <spdlog/spdlog.h>

#include "exec/process_tree.hpp"

namespace asio = boost::asio;
namespace bp = boost::process::v2;

namespace runbook::exec {
namespace {

// Runs in the child between fork and exec: its own process group, and the
// signal state of a fresh process (the engine blocks or handles some).
struct ChildSetup {
  template <class Launcher>
  bp::error_code on_exec_setup(Launcher&, const bp::filesystem::path&, const char* const*) {
    if (::setpgid(0, 0) != 0) return bp::error_code(errno, bp::system_category());
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    return {};
  }
};

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
  std::string program = find_program(spec_.argv[0], path_of(spec_.env));
  if (program.empty()) return fail_to_start("command not found: " + spec_.argv[0]);
  if (::access(program.c_str(), F_OK) != 0) return fail_to_start("no such program: " + program);
  if (!is_executable_file(program))
    return fail_to_start("cannot execute " + program + ": not an executable file");
  if (!spec_.workdir.empty() && !is_directory(spec_.workdir))
    return fail_to_start("workdir " + spec_.workdir + " is not a directory");

  std::vector<std::string> env_strings = spec_.env;
  env_strings.push_back(std::string(kProcessTagVariable) + "=" + spec_.tag);
  std::vector<const char*> env;
  env.reserve(env_strings.size() + 1);
  for (const std::string& kv : env_strings) env.push_back(kv.c_str());
  env.push_back(nullptr);

  asio::writable_pipe out_w(runner_.io_), err_w(runner_.io_);
  boost::system::error_code ec;
  asio::connect_pipe(pipes_[0], out_w, ec);
  if (!ec) asio::connect_pipe(pipes_[1], err_w, ec);
  if (ec) return fail_to_start("cannot create pipes: " + ec.message());

  // Not Boost's vfork_launcher: in 1.81 it calls the io_context's
  // notify_fork(fork_child) in the vfork child, which shares the engine's
  // memory, and so breaks the engine's own signal handling.
  bp::posix::default_launcher launcher;
  launcher.env = env.data();
  std::vector<std::string> args(spec_.argv.begin() + 1, spec_.argv.end());
  bp::basic_process<asio::io_context::executor_type> proc(runner_.io_.get_executor());
  if (spec_.workdir.empty()) {
    proc = launcher(runner_.io_, ec, program, args, bp::process_stdio{nullptr, out_w, err_w},
                    ChildSetup{});
  } else {
    proc = launcher(runner_.io_, ec, program, args, bp::process_stdio{nullptr, out_w, err_w},
                    ChildSetup{}, bp::process_start_dir(spec_.workdir));
  }
  if (ec) {
    pipes_[0].close();
    pipes_[1].close();
    return fail_to_start("cannot start " + program + ": " + ec.message());
  }
  pid_ = proc.id();
  proc.detach();
  spdlog::debug("started pid {} ({}) for {}", pid_, program, spec_.tag);
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
        if (n > 0)
          self->on_output_(index == 0 ? OutputStream::out : OutputStream::err,
                           std::string_view(self->buffers_[index].data(), n));
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
  Stragglers left = find_stragglers(pid_, spec_.tag, /*full_scan=*/false);
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
