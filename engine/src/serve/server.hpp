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
#include "runbook/store.hpp"
#include "serve/alert_payload.hpp"
#include "serve/alert_state.hpp"
#include "serve/http_server.hpp"
#include "serve/metrics.hpp"
#include "serve/run_queue.hpp"
#include "serve/server_config.hpp"
#include "util/sha256.hpp"

namespace runbook::serve {

using TokenDigest = Sha256Digest;

// A config with everything it names read and checked: its runbooks, their
// plugins, the bearer tokens.
struct LoadedConfig {
  ServerConfig config;
  std::vector<TokenDigest> tokens;  // SHA-256 of each; empty: every POST is refused
  std::string hmac_secret;          // empty: every POST to /v1/hooks/* is refused
};

// Reads `path` and what it names; every problem goes to `diags`.
std::optional<LoadedConfig> load_config(const std::string& path, const ServeOptions& options,
                                        Diagnostics& diags);

// Resolves `given` params against `runbook` into `request` (the child's
// params file and the masked JSON). Problems go to `diags`.
void prepare_params(const Runbook& runbook, const Value::Map& given, RunRequest& request,
                    Diagnostics& diags);

// Answers shared by the routes (api.cpp).
constexpr int kRetryAfterSeconds = 10;
HttpResponse json_answer(int status, std::string body);
// {"error": message, "diagnostics": [each line of `diagnostics`]}
HttpResponse error_answer(int status, const std::string& message,
                          const std::string& diagnostics = {});
// 503 with Retry-After: the sender should try again later.
HttpResponse busy_answer(const std::string& message);
// 401 with WWW-Authenticate.
HttpResponse unauthorized_answer(const std::string& message);

// A new run (a fresh run id) of `runbook`, read from `path`.
void set_run(RunRequest& request, const Runbook& runbook, const std::string& path,
             const char* trigger, bool auto_approve);

// The run of `rule` for `alert`: its params rendered from the alert and
// checked against the runbook. "" with `run` ready to submit (a new run id),
// or what is wrong with the params (alerts.cpp).
std::string prepare_alert_run(const AlertRule& rule, const Alert& alert, RunRequest& run);

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

  // alerts.cpp
  HttpResponse post_alerts(const HttpRequest& request, AlertSource source);
  HttpResponse post_hook(const HttpRequest& request, const std::string& name);
  HttpResponse post_pause(const HttpRequest& request, bool pause);
  HttpResponse receive_alerts(const AlertPayload& payload);
  void alert_run_ended(const RunRequest& request, const RunEnd& end);
  void escalate(const AlertRule& rule, const Alert& alert, const std::string& reason,
                const std::string& run_id);
  void settle_alert_runs();
  bool audit_flush();

  // api.cpp
  void handle(const HttpRequest& request, Responder respond);
  HttpResponse route(const HttpRequest& request, std::string& route_name);
  HttpResponse post_run(const HttpRequest& request);
  HttpResponse get_runs(const std::string& query);
  HttpResponse get_run(const std::string& id);
  bool authorized(const HttpRequest& request) const;
  HttpResponse bearer_refusal() const;
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
  std::unique_ptr<AlertState> alert_state_;
  std::unique_ptr<AuditLog> audit_;          // the server's own records (alerts, pauses)
  std::map<std::string, Alert> alert_runs_;  // by run id: the alert each run is for
  boost::asio::steady_timer audit_timer_;    // writes the decisions that start nothing
  bool audit_timer_armed_ = false;
  bool draining_ = false;
  bool grace_over_ = false;
  bool stopped_ = false;  // nothing is left to wait for: io_ runs out
};

}  // namespace runbook::serve
