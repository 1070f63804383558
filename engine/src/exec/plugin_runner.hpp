#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exec/process_runner.hpp"
#include "exec/running_attempt.hpp"
#include "runbook/duration.hpp"

#include "runbook/plugin.h"

namespace runbook::exec {

// One attempt of a plugin step.
struct PluginCallSpec {
  const runbook_step_kind* kind = nullptr;
  std::string with_json;     // `with:` rendered
  std::string context_json;  // see runbook_run_host::context_json
  // When the attempt must end (its timeout or the step's deadline, the
  // sooner): what remaining_ms() counts down to.
  std::optional<std::chrono::steady_clock::time_point> ends_at;
  Duration kill_grace{std::chrono::seconds(10)};  // cancel flag → abandoned
};

// How a plugin attempt ended.
struct PluginExit {
  enum class Status { succeeded, failed, retryable, abandoned };
  Status status = Status::failed;
  std::string message;                         // the plugin's, or why it was abandoned
  std::map<std::string, std::string> outputs;  // as the plugin set them
  std::string outputs_error;                   // set when they broke the rules
};

// Runs plugin calls off the event loop: each attempt on a worker thread of
// its own (the executor holds at most max_parallel of them, one per slot),
// so a slow plugin never stalls the run. Log text and the end come back
// through the io_context, in order. One per io_context; every call and
// callback on its thread.
class PluginRunner {
 public:
  class Call;
  using OutputHandler = std::function<void(OutputStream, std::string_view chunk)>;
  using ExitHandler = std::function<void(const PluginExit&)>;

  explicit PluginRunner(boost::asio::io_context& io) : io_(io) {}
  PluginRunner(const PluginRunner&) = delete;
  PluginRunner& operator=(const PluginRunner&) = delete;
  ~PluginRunner();

  // Starts `spec` on a new thread. `on_exit` is called exactly once: after
  // the plugin returned and its log was delivered, or when the call is
  // abandoned (a plugin that ignores its cancel flag for kill_grace, or
  // kill()), after which nothing more from it is delivered.
  std::shared_ptr<Call> start(PluginCallSpec spec, OutputHandler on_output, ExitHandler on_exit);

  // Abandons every call in flight (the second Ctrl-C).
  void kill_all();

 private:
  boost::asio::io_context& io_;
  std::vector<std::weak_ptr<Call>> calls_;
};

struct PluginCallState;  // shared with the worker thread

class PluginRunner::Call : public RunningAttempt, public std::enable_shared_from_this<Call> {
 public:
  Call(boost::asio::io_context& io, PluginCallSpec spec, OutputHandler on_output,
       ExitHandler on_exit);
  ~Call() override;

  void stop() override;
  void kill() override;
  bool ended() const override { return ended_; }

  // From the worker, through the io_context: a chunk of its log, and its
  // return.
  void deliver_output(OutputStream stream, const std::string& chunk);
  void on_returned(runbook_status status);

 private:
  friend class PluginRunner;
  void launch();
  void abandon(const std::string& why);
  void finish(PluginExit exit);

  boost::asio::io_context& io_;
  PluginCallSpec spec_;
  OutputHandler on_output_;
  ExitHandler on_exit_;
  std::shared_ptr<PluginCallState> state_;
  boost::asio::steady_timer grace_timer_;
  bool stopping_ = false;
  bool ended_ = false;
};

}  // namespace runbook::exec
