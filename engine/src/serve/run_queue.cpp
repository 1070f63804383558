#include "serve/run_queue.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "expr/json_reader.hpp"
#include "runbook/store.hpp"
#include "util/files.hpp"

extern char** environ;

namespace runbook::serve {
namespace {

// Long enough for any rollback: the server never SIGKILLs a run of its own
// accord; a second stop_running() makes the child stop at once instead.
constexpr auto kRunKillGrace = std::chrono::hours(24);
constexpr size_t kMaxLine = 1 << 20;  // a longer stdout line is dropped (not an event)

std::optional<RunState> run_state_named(const std::string& name) {
  for (RunState s : {RunState::succeeded, RunState::failed, RunState::rollback_failed,
                     RunState::cancelled, RunState::skipped, RunState::running})
    if (name == to_string(s)) return s;
  return std::nullopt;
}

const std::string* string_member(const Value& v, const std::string& name) {
  if (!v.is_map()) return nullptr;
  auto it = v.as_map().find(name);
  return it != v.as_map().end() && it->second.is_string() ? &it->second.as_string() : nullptr;
}

bool write_private_file(const std::string& path, const std::string& text, std::string* error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = "cannot write " + path + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    done += size_t(n);
  }
  ::close(fd);
  return true;
}

}  // namespace

struct RunQueue::Running {
  RunRequest request;
  std::shared_ptr<exec::ProcessRunner::Process> process;
  std::string params_file;
  std::string alert_file;  // empty unless the run is for an alert
  std::string out_buffer;
  std::string last_error;  // the child's last stderr line
  std::string err_buffer;
  bool started = false;
  std::optional<RunState> ended;
  std::string end_message;
  int stops = 0;
};

RunQueue::RunQueue(exec::ProcessRunner& runner, Metrics& metrics, RunQueueOptions options,
                   EndHandler on_end)
    : runner_(runner),
      metrics_(metrics),
      options_(std::move(options)),
      on_end_(std::move(on_end)) {}

RunQueue::~RunQueue() = default;

bool RunQueue::submit(RunRequest request) {
  if (full()) return false;
  queued_.push_back(std::move(request));
  start_next();
  return true;
}

void RunQueue::set_limits(int max_running, size_t queue_limit) {
  options_.max_running = max_running;
  options_.queue_limit = queue_limit;
  start_next();
}

const RunRequest* RunQueue::find(const std::string& run_id) const {
  for (const RunRequest& r : queued_)
    if (r.run_id == run_id) return &r;
  auto it = running_.find(run_id);
  return it == running_.end() ? nullptr : &it->second->request;
}

std::vector<const RunRequest*> RunQueue::all() const {
  std::vector<const RunRequest*> out;
  for (const RunRequest& r : queued_) out.push_back(&r);
  for (const auto& [id, run] : running_) out.push_back(&run->request);
  return out;
}

void RunQueue::start_next() {
  while (!queued_.empty() && running_.size() < size_t(std::max(1, options_.max_running))) {
    RunRequest next = std::move(queued_.front());
    queued_.pop_front();
    start(std::move(next));
  }
}

void RunQueue::start(RunRequest request) {
  auto run = std::make_unique<Running>();
  run->request = std::move(request);
  const RunRequest& r = run->request;
  std::string error;
  const std::string dir = options_.state_dir + "/server";
  run->params_file = dir + "/" + r.run_id + ".params.json";
  if (!r.alert_json.empty()) run->alert_file = dir + "/" + r.run_id + ".alert.json";
  if (!make_directories(dir, &error, 0700) ||
      !write_private_file(run->params_file, r.params_file_json, &error) ||
      (!run->alert_file.empty() && !write_private_file(run->alert_file, r.alert_json, &error))) {
    ::unlink(run->params_file.c_str());
    spdlog::error("run {} not started: {}", r.run_id, error);
    RunRequest copy = r;
    record_not_started(options_.state_dir, copy, RunState::failed, error);
    metrics_.run_ended(copy.runbook_name, RunState::failed);
    on_end_(copy, RunEnd{RunState::failed, false, error});
    return;
  }

  exec::ProcessSpec spec;
  spec.argv.push_back(options_.program);
  spec.argv.insert(spec.argv.end(), options_.global_args.begin(), options_.global_args.end());
  for (const char* a : {"run", "--output", "json", "--trigger"}) spec.argv.push_back(a);
  spec.argv.push_back(r.trigger);
  spec.argv.push_back("--run-id");
  spec.argv.push_back(r.run_id);
  spec.argv.push_back("--params-file");
  spec.argv.push_back(run->params_file);
  if (!run->alert_file.empty()) {
    spec.argv.push_back("--alert-file");
    spec.argv.push_back(run->alert_file);
  }
  if (r.auto_approve) spec.argv.push_back("--yes");
  spec.argv.push_back("--");
  spec.argv.push_back(r.runbook_path);
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("RUNBOOK_STATE_DIR=")) continue;
    spec.env.emplace_back(kv);
  }
  spec.env.push_back("RUNBOOK_STATE_DIR=" + options_.state_dir);
  spec.workdir = options_.workdir;
  spec.tag = "serve-" + r.run_id;
  spec.kill_grace = kRunKillGrace;
  spec.new_session = true;

  const std::string id = r.run_id;
  spdlog::info("run {} starting: {} ({})", id, r.runbook_path, r.trigger);
  Running* raw = run.get();
  running_[id] = std::move(run);
  raw->process = runner_.start(
      std::move(spec),
      [this, raw](exec::OutputStream stream, std::string_view chunk) {
        if (stream == exec::OutputStream::out)
          on_stdout(*raw, chunk);
        else
          on_stderr(*raw, chunk);
      },
      [this, id](const exec::ProcessExit& exit) { finished(id, exit); });
}

void RunQueue::on_stdout(Running& run, std::string_view chunk) {
  run.out_buffer.append(chunk);
  size_t start = 0;
  for (size_t nl; (nl = run.out_buffer.find('\n', start)) != std::string::npos; start = nl + 1)
    on_line(run, std::string_view(run.out_buffer).substr(start, nl - start));
  run.out_buffer.erase(0, start);
  if (run.out_buffer.size() > kMaxLine) run.out_buffer.clear();
}

void RunQueue::on_stderr(Running& run, std::string_view chunk) {
  run.err_buffer.append(chunk);
  size_t start = 0;
  for (size_t nl; (nl = run.err_buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string line = run.err_buffer.substr(start, nl - start);
    if (line.empty()) continue;
    spdlog::warn("run {}: {}", run.request.run_id, line);
    if (line.starts_with("runbook: ")) line.erase(0, 9);
    run.last_error = line;
  }
  run.err_buffer.erase(0, start);
  if (run.err_buffer.size() > kMaxLine) run.err_buffer.clear();
}

void RunQueue::on_line(Running& run, std::string_view line) {
  // Most lines are the steps' output: not worth parsing.
  if (line.starts_with(R"({"event":"output")")) return;
  Expected<Value, std::string> parsed = expr::read_json(line);
  if (!parsed) return;
  const Value& e = parsed.value();
  const std::string* event = string_member(e, "event");
  if (!event) return;
  if (*event == "run.started") {
    run.started = true;
  } else if (*event == "step.ended") {
    auto it = e.as_map().find("duration_ms");
    if (it != e.as_map().end() && it->second.is_number())
      metrics_.step_ended(run.request.runbook_name, it->second.as_number() / 1000.0);
  } else if (*event == "run.ended") {
    if (const std::string* state = string_member(e, "state")) run.ended = run_state_named(*state);
    if (const std::string* message = string_member(e, "message")) run.end_message = *message;
  }
}

void RunQueue::finished(const std::string& run_id, const exec::ProcessExit& exit) {
  auto it = running_.find(run_id);
  if (it == running_.end()) return;
  std::unique_ptr<Running> run = std::move(it->second);
  running_.erase(it);
  ::unlink(run->params_file.c_str());
  if (!run->alert_file.empty()) ::unlink(run->alert_file.c_str());

  RunEnd end;
  end.started = run->started;
  std::string how = !exit.started ? exit.error
                    : exit.signal ? "killed by signal " + std::to_string(exit.signal)
                                  : "exit code " + std::to_string(exit.exit_code);
  if (run->ended) {
    end.state = *run->ended;
    end.message = run->end_message;
  } else if (run->started) {
    // The child died mid-run: its history row says running, and `runbook
    // resume` can go on with it.
    end.state = RunState::failed;
    end.message = "the run's process ended before the run did (" + how + ")";
  } else {
    end.state = exit.exit_code == 75    ? RunState::skipped
                : exit.exit_code == 130 ? RunState::cancelled
                                        : RunState::failed;
    end.message = run->last_error.empty() ? "the run did not start (" + how + ")" : run->last_error;
    record_not_started(options_.state_dir, run->request, end.state, end.message);
  }
  if (end.started && !run->ended) spdlog::error("run {}: {}", run_id, end.message);
  spdlog::info("run {} ended: {}", run_id, to_string(end.state));
  metrics_.run_ended(run->request.runbook_name, end.state);
  on_end_(run->request, end);
  start_next();
}

bool RunQueue::cancel(const std::string& run_id, const std::string& reason) {
  for (auto it = queued_.begin(); it != queued_.end(); ++it) {
    if (it->run_id != run_id) continue;
    RunRequest request = std::move(*it);
    queued_.erase(it);
    record_not_started(options_.state_dir, request, RunState::cancelled, reason);
    metrics_.run_ended(request.runbook_name, RunState::cancelled);
    on_end_(request, RunEnd{RunState::cancelled, false, reason});
    return true;
  }
  auto it = running_.find(run_id);
  if (it == running_.end()) return false;
  Running& run = *it->second;
  // SIGTERM to the child alone, once per call: `runbook run` cancels and
  // rolls back on the first and stops at once on the second, so the
  // process runner's stop() (group and tagged processes, then SIGKILL) is
  // not the way to ask.
  if (run.stops++ == 0) spdlog::info("run {}: cancelling ({})", run_id, reason);
  if (run.process->pid() > 0 && !run.process->ended()) ::kill(run.process->pid(), SIGTERM);
  return true;
}

void RunQueue::cancel_queued(const std::string& reason) {
  std::vector<std::string> ids;
  for (const RunRequest& r : queued_) ids.push_back(r.run_id);
  for (const std::string& id : ids) cancel(id, reason);
}

void RunQueue::stop_running() {
  std::vector<std::string> ids;
  for (const auto& [id, run] : running_) ids.push_back(id);
  for (const std::string& id : ids) cancel(id, "the server is shutting down");
}

void record_not_started(const std::string& state_dir, const RunRequest& request, RunState state,
                        const std::string& reason) {
  UnstartedRun run;
  run.run_id = request.run_id;
  run.runbook_name = request.runbook_name;
  run.runbook_path = request.runbook_path;
  run.runbook_sha256 = request.runbook_sha256;
  run.trigger = request.trigger;
  run.params_json = request.params_json_masked;
  run.state = state;
  run.reason = reason;
  run.schedule = request.schedule;
  if (std::string error = record_unstarted_run(state_dir, run); !error.empty())
    spdlog::error("run {} ({}) not recorded in the audit log: {}", run.run_id, reason, error);
}

}  // namespace runbook::serve
