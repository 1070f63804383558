#pragma once

// The trigger server's state on its io_context: the config in force, the
// run queue, the schedules and the HTTP routes. server.cpp holds the life
// cycle (start, SIGHUP reload, SIGTERM drain), schedules.cpp the schedules,
// api.cpp the routes. Everything runs on the one io_context thread.

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exec/process_runner.hpp"
#include "runbook/diagnostics.hpp"
#include "runbook/serve.hpp"
#include "serve/http_server.hpp"
#include "serve/metrics.hpp"
#include "serve/run_queue.hpp"
#include "serve/server_config.hpp"

namespace runbook::serve {

using TokenDigest = std::array<unsigned char, 32>;

// A config with everything it names read and checked: its runbooks, their
// plugins, the bearer tokens.
struct LoadedConfig {
  ServerConfig config;
  std::vector<TokenDigest> tokens;  // SHA-256 of each; empty: every POST is refused
};

// Reads `path` and what it names; every problem goes to `diags`.
std::optional<LoadedConfig> load_config(const std::string& path, const ServeOptions& options,
                                        Diagnostics& diags);

// Resolves `given` params against `runbook` into `request` (the child's
// params file and the masked JSON). Problems go to `diags`.
void prepare_params(const Runbook& runbook, const Value::Map& given, RunRequest& request,
                    Diagnostics& diags);

class Server {
 public:
  Server(const ServeOptions& options, LoadedConfig loaded);
  // Listens and serves until shut down; the process's exit code.
  int run(std::ostream& err);

 private:
  struct ScheduleState {
    std::chrono::sys_seconds next{};
    std::string active;                 // the run id of its queued or running run
    std::optional<RunRequest> pending;  // overlap queue/replace: waits for `active`
  };

  // server.cpp
  void wait_for_signal();
  void reload();
  void shut_down();
  void cancel_after_grace();
  void finish_if_idle();
  void run_ended(const RunRequest& request, const RunEnd& end);
  MetricsGauges gauges() const;
  bool submit(RunRequest request);

  // schedules.cpp
  void start_schedules(bool at_start);
  void arm_schedule_timer();
  void on_schedule_timer();
  void fire(const ScheduleConfig& schedule, std::chrono::sys_seconds at, bool catch_up);
  void schedule_run_ended(const RunRequest& request);
  void drop_pending(const std::string& reason);
  void save_last_fires();
  RunRequest schedule_request(const ScheduleConfig& schedule, std::string* error);

  // api.cpp
  void handle(const HttpRequest& request, Responder respond);
  HttpResponse route(const HttpRequest& request, std::string& route_name);
  HttpResponse post_run(const HttpRequest& request);
  HttpResponse get_runs(const std::string& query);
  HttpResponse get_run(const std::string& id);
  bool authorized(const HttpRequest& request) const;
  std::string queued_json(const RunRequest& request) const;

  ServeOptions options_;
  LoadedConfig loaded_;
  const ServerConfig& config() const { return loaded_.config; }
  std::string state_dir_;
  boost::asio::io_context io_;
  exec::ProcessRunner runner_;
  Metrics metrics_;
  std::unique_ptr<RunQueue> queue_;
  std::unique_ptr<HttpServer> http_;
  boost::asio::signal_set signals_;
  boost::asio::system_timer schedule_timer_;
  boost::asio::steady_timer grace_timer_;
  std::map<std::string, ScheduleState> schedules_;
  std::map<std::string, std::chrono::sys_seconds> last_fires_;  // kept in the state dir
  bool draining_ = false;
  bool grace_over_ = false;
  bool stopped_ = false;  // nothing is left to wait for: io_ runs out
};

}  // namespace runbook::serve
