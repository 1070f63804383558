#pragma once

// The trigger server's runs: a FIFO queue and at most `max_running` runs at
// once, each a child `runbook run … --output json` process. A run in its own
// process (and process group, without the server's terminal) cannot take
// the server down with it, and goes through exactly the executor, audit log
// and history that a run from the command line does.

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "exec/process_runner.hpp"
#include "runbook/events.hpp"
#include "serve/metrics.hpp"

namespace runbook::serve {

// One run to start.
struct RunRequest {
  std::string run_id;
  std::string runbook_name;
  std::string runbook_path;  // the file, as the child will read it
  std::string runbook_sha256;
  std::string trigger;   // api, cron, alert
  std::string schedule;  // the schedule that fired, for cron runs
  // For alert runs: the rule and the group it remediates, and the child's
  // --alert-file, a JSON object {rule, fingerprint, status, labels,
  // annotations}.
  std::string rule, group;
  std::string alert_json;
  // The params for the child's --params-file: a JSON object of typed values.
  // It may hold secrets given with the request: it is written 0600 and
  // removed when the run ends.
  std::string params_file_json = "{}";
  std::string params_json_masked = "{}";  // for records of a run that never started
  bool auto_approve = false;              // --yes
  SystemTime accepted_at = std::chrono::system_clock::now();
};

// How a run of the queue ended.
struct RunEnd {
  RunState state = RunState::failed;
  bool started = false;  // the child recorded run.started
  std::string message;   // why it failed or did not start, when known
};

// Records `request` as a run that never started, in the audit log and history
// (record_unstarted_run); a failure to write the audit log is logged.
void record_not_started(const std::string& state_dir, const RunRequest& request, RunState state,
                        const std::string& reason);

struct RunQueueOptions {
  std::string program;                   // the runbook binary
  std::vector<std::string> global_args;  // before `run`: --plugin-dir D …
  std::string state_dir;
  std::string workdir;  // the children's; empty: the server's
  int max_running = 8;
  size_t queue_limit = 1000;
};

class RunQueue {
 public:
  using EndHandler = std::function<void(const RunRequest&, const RunEnd&)>;

  RunQueue(exec::ProcessRunner& runner, Metrics& metrics, RunQueueOptions options,
           EndHandler on_end);
  ~RunQueue();
  RunQueue(const RunQueue&) = delete;
  RunQueue& operator=(const RunQueue&) = delete;

  // Queues `request` and starts it when a slot is free. False when the queue
  // already holds queue_limit runs (nothing is recorded: the caller answers).
  bool submit(RunRequest request);
  bool full() const { return queued_.size() >= options_.queue_limit; }

  // A queued run is removed and recorded as cancelled; a running one is sent
  // SIGTERM once (its child cancels and rolls back). False when unknown.
  bool cancel(const std::string& run_id, const std::string& reason);
  // Every queued run, recorded as cancelled with `reason`.
  void cancel_queued(const std::string& reason);
  // SIGTERM to every running run (first call), then to each again (a second
  // call: the children stop at once, as a second Ctrl-C does).
  void stop_running();

  void set_limits(int max_running, size_t queue_limit);

  size_t running() const { return running_.size(); }
  size_t queued() const { return queued_.size(); }
  // The request of a queued or running run; null when unknown.
  const RunRequest* find(const std::string& run_id) const;
  bool is_running(const std::string& run_id) const { return running_.count(run_id) != 0; }
  // Queued runs in order, then running ones.
  std::vector<const RunRequest*> all() const;

 private:
  struct Running;
  void start_next();
  void start(RunRequest request);
  void on_stdout(Running& run, std::string_view chunk);
  void on_stderr(Running& run, std::string_view chunk);
  void on_line(Running& run, std::string_view line);
  void finished(const std::string& run_id, const exec::ProcessExit& exit);

  exec::ProcessRunner& runner_;
  Metrics& metrics_;
  RunQueueOptions options_;
  EndHandler on_end_;
  std::deque<RunRequest> queued_;
  std::map<std::string, std::unique_ptr<Running>> running_;
};

}  // namespace runbook::serve
