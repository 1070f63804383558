#include "serve/server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <filesystem>
#include <ostream>

#include "runbook/cron.hpp"
#include "runbook/executor.hpp"
#include "runbook/params.hpp"
#include "serve/auth_files.hpp"
#include "store/history_db.hpp"
#include "util/files.hpp"

namespace runbook::serve {

// The auth files' problems, with the rest of the config's. A problem with a
// whole file (missing, too open) is reported where the config names it; one
// inside it (a bad token) at its own line.
void read_auth_files(const ServerConfig& config, LoadedConfig& loaded, Diagnostics& diags) {
  Diagnostics found;
  if (!config.bearer_tokens_file.empty()) {
    if (auto tokens = load_bearer_tokens(config.bearer_tokens_file, found)) {
      for (const std::string& token : *tokens) loaded.tokens.push_back(sha256(token));
    }
  }
  if (!config.hmac_secret_file.empty()) {
    if (auto secret = load_hmac_secret(config.hmac_secret_file, found))
      loaded.hmac_secret = std::move(*secret);
  }
  for (Diagnostic d : found.items()) {
    if (d.mark.line == 0) {
      const bool tokens = d.file == config.bearer_tokens_file;
      d.message = std::string(tokens ? "auth.bearer_tokens_file" : "auth.hmac_secret_file") + " " +
                  d.file + ": " + d.message;
      d.mark = tokens ? config.bearer_tokens_mark : config.hmac_secret_mark;
      d.file = config.path;
    }
    diags.add(std::move(d));
  }
}

std::optional<LoadedConfig> load_config(const std::string& path, const ServeOptions& options,
                                        Diagnostics& diags) {
  ServerConfigResult result = load_server_config(path);
  if (!result.ok()) {
    diags.append(result.diagnostics);
    if (result.config) {
      LoadedConfig unused;
      read_auth_files(*result.config, unused, diags);
    }
    return std::nullopt;
  }
  LoadedConfig loaded{std::move(*result.config), {}, {}};
  ServerConfig& config = loaded.config;
  if (config.state_dir.empty()) config.state_dir = default_state_dir();
  // The runs, the records and the logs name files the same way whatever the
  // server's working directory is.
  auto absolute = [](std::string& p) {
    std::error_code ec;
    std::filesystem::path a = std::filesystem::absolute(p, ec);
    if (ec) return;
    p = a.lexically_normal().string();
    if (p.size() > 1 && p.back() == '/') p.pop_back();  // "dir/." normalises to "dir/"
  };
  absolute(config.state_dir);
  absolute(config.runbooks_dir);
  for (ScheduleConfig& s : config.schedules) absolute(s.runbook_path);
  for (AlertRule& r : config.alerts) absolute(r.runbook_path);
  if (options.plugin_problems) {
    auto check = [&](const Runbook& runbook, Mark mark, const std::string& what,
                     const std::string& path) {
      if (std::string problems = options.plugin_problems(runbook); !problems.empty()) {
        if (problems.back() == '\n') problems.pop_back();
        diags.error(config.path, mark,
                    what + ": runbook " + path + " cannot run here:\n" + problems);
      }
    };
    for (const ScheduleConfig& s : config.schedules)
      check(*s.runbook, s.mark, "schedule '" + s.name + "'", s.runbook_path);
    for (const AlertRule& r : config.alerts)
      check(*r.runbook, r.mark, "alert rule '" + r.name + "'", r.runbook_path);
  }
  read_auth_files(config, loaded, diags);
  if (!diags.empty()) return std::nullopt;
  return loaded;
}

void prepare_params(const Runbook& runbook, const Value::Map& given, RunRequest& request,
                    Diagnostics& diags) {
  ParamSources sources;
  sources.values = given;
  ResolvedParams resolved = resolve_params(runbook, sources, diags);
  if (!diags.empty()) return;
  // Secrets not given are read again by the run from their env:/file:, so
  // that they never reach a file of the server's.
  Value::Map for_child;
  for (const auto& [name, value] : resolved.values) {
    const Param* p = runbook.find_param(name);
    if (value.is_null() || (p && p->type == ParamType::secret && !given.count(name))) continue;
    for_child[name] = value;
  }
  request.params_file_json = Value(for_child).to_json();
  request.params_json_masked = params_json_masked(runbook, resolved.values);
}

void set_run(RunRequest& request, const Runbook& runbook, const std::string& path,
             const char* trigger, bool auto_approve) {
  request.run_id = make_run_id();
  request.runbook_name = runbook.name;
  request.runbook_path = path;
  request.runbook_sha256 = runbook.sha256;
  request.trigger = trigger;
  request.auto_approve = auto_approve;
}

Server::Server(const ServeOptions& options, LoadedConfig loaded)
    : options_(options),
      loaded_(std::move(loaded)),
      state_dir_(loaded_.config.state_dir),
      runner_(io_),
      signals_(io_, SIGTERM, SIGINT, SIGHUP),
      schedule_timer_(io_),
      grace_timer_(io_),
      audit_timer_(io_) {
  RunQueueOptions q;
  q.program = options_.program;
  q.global_args = options_.global_args;
  q.state_dir = state_dir_;
  q.max_running = config().max_concurrent_runs;
  q.queue_limit = config().queue_limit;
  queue_ = std::make_unique<RunQueue>(
      runner_, metrics_, q,
      [this](const RunRequest& request, const RunEnd& end) { run_ended(request, end); });
  HttpServerLimits limits;
  http_ = std::make_unique<HttpServer>(
      io_, [this](const HttpRequest& r, Responder respond) { handle(r, std::move(respond)); },
      limits);
}

int Server::run(std::ostream& err) {
  std::string error;
  if (!make_directories(state_dir_, &error, 0700)) {
    err << "runbook: cannot use the state directory: " << error << "\n";
    return 1;
  }
  // The history exists before the first run starts, so that runs starting
  // together never race to create it.
  try {
    store::open_history_for_writing(state_dir_);
  } catch (const std::exception& e) {
    err << "runbook: cannot open the history in " << state_dir_ << ": " << e.what() << "\n";
    return 1;
  }
  try {
    alert_state_ = AlertState::open(state_dir_, false);
  } catch (const std::exception& e) {
    err << "runbook: cannot open the alert state in " << state_dir_ << "/server: " << e.what()
        << "\n";
    return 1;
  }
  audit_ = std::make_unique<AuditLog>(audit_log_path(state_dir_));
  settle_alert_runs();
  if (std::string problem = http_->listen(config().listen); !problem.empty()) {
    err << "runbook: cannot listen on " << config().listen << ": " << problem << "\n";
    return 1;
  }
  if (loaded_.tokens.empty())
    spdlog::warn("no auth.bearer_tokens_file in {}: every POST will be refused", config().path);
  std::string host = config().listen.substr(0, config().listen.rfind(':'));
  std::string url = "http://" + host + ":" + std::to_string(http_->port());
  spdlog::info("listening on {} (config {}, state {})", url, config().path, state_dir_);
  if (options_.on_listening) options_.on_listening(url);
  start_schedules(true);
  wait_for_signal();
  io_.run();
  spdlog::info("stopped");
  return 0;
}

void Server::wait_for_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      reload();
    } else if (!draining_) {
      spdlog::warn("{}: shutting down", signo == SIGINT ? "SIGINT" : "SIGTERM");
      shut_down();
    } else {
      spdlog::warn("second {}: cancelling every run now", signo == SIGINT ? "SIGINT" : "SIGTERM");
      if (!grace_over_)
        cancel_after_grace();
      else
        queue_->stop_running();
    }
    if (!stopped_) wait_for_signal();
  });
}

void Server::reload() {
  if (draining_) return;
  Diagnostics diags;
  std::optional<LoadedConfig> fresh = load_config(options_.config_path, options_, diags);
  if (fresh && fresh->config.listen != config().listen) {
    diags.error(fresh->config.path, Mark{},
                "listen cannot change without a restart (it is " + config().listen + ")");
    fresh.reset();
  }
  if (fresh && fresh->config.state_dir != state_dir_) {
    diags.error(fresh->config.path, Mark{},
                "state_dir cannot change without a restart (it is " + state_dir_ + ")");
    fresh.reset();
  }
  if (!fresh) {
    metrics_.config_reloaded(false);
    diags.sort();
    spdlog::error("SIGHUP: the new config was refused; the old one stays:\n{}", diags.format());
    return;
  }
  loaded_ = std::move(*fresh);
  queue_->set_limits(config().max_concurrent_runs, config().queue_limit);
  metrics_.config_reloaded(true);
  start_schedules(false);
  spdlog::info("SIGHUP: config {} reloaded ({} schedules, {} alert rules)", config().path,
               config().schedules.size(), config().alerts.size());
}

void Server::shut_down() {
  draining_ = true;
  http_->stop_accepting();
  schedule_timer_.cancel();
  drop_pending("the server shut down before it started");
  queue_->cancel_queued("the server shut down before it started");
  if (queue_->running() > 0) {
    spdlog::warn("waiting up to {} for {} running run(s) to finish",
                 format_duration(config().shutdown_grace), queue_->running());
    grace_timer_.expires_after(config().shutdown_grace);
    grace_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) cancel_after_grace();
    });
  }
  finish_if_idle();
}

void Server::cancel_after_grace() {
  if (grace_over_) return;
  grace_over_ = true;
  grace_timer_.cancel();
  if (queue_->running() == 0) return;
  spdlog::warn("cancelling {} run(s); they roll back", queue_->running());
  queue_->stop_running();
}

void Server::finish_if_idle() {
  if (stopped_ || !draining_ || queue_->running() > 0 || queue_->queued() > 0) return;
  stopped_ = true;
  grace_timer_.cancel();
  signals_.cancel();
  runner_.close();
  http_->close();
}

bool Server::submit(RunRequest request) {
  if (draining_) return false;
  return queue_->submit(std::move(request));
}

void Server::run_ended(const RunRequest& request, const RunEnd& end) {
  if (request.trigger == "cron") schedule_run_ended(request);
  if (request.trigger == "alert") alert_run_ended(request, end);
  // Called from inside the queue: let it finish its bookkeeping first.
  boost::asio::post(io_, [this] { finish_if_idle(); });
}

MetricsGauges Server::gauges() const {
  MetricsGauges g;
  g.running = queue_->running();
  g.queued = queue_->queued();
  for (const auto& [name, s] : schedules_) g.queued += s.pending ? 1 : 0;
  g.draining = draining_;
  g.paused = remediation_paused(state_dir_).has_value();
  if (alert_state_) {
    const auto now = std::chrono::system_clock::now();
    for (const AlertRule& r : config().alerts) {
      if (!r.breaker) continue;
      const AlertState::Breaker b = alert_state_->breaker(r.name);
      g.breakers[r.name] = !b.opened_at ? 0 : now < *b.opened_at + r.breaker->open_for ? 1 : 2;
    }
  }
  return g;
}

}  // namespace runbook::serve

namespace runbook {

int run_server(const ServeOptions& options, std::ostream& err) {
  Diagnostics diags;
  std::optional<serve::LoadedConfig> loaded =
      serve::load_config(options.config_path, options, diags);
  if (!loaded) {
    diags.sort();
    err << diags.format();
    return 2;
  }
  serve::Server server(options, std::move(*loaded));
  return server.run(err);
}

int print_next_fires(const std::string& config_path, const std::string& schedule, size_t count,
                     std::ostream& out, std::ostream& err) {
  serve::ServerConfigResult result = serve::load_server_config(config_path);
  if (!result.ok()) {
    err << result.diagnostics.format();
    return 2;
  }
  const serve::ScheduleConfig* s = result.config->find_schedule(schedule);
  if (!s) {
    std::string names;
    for (const serve::ScheduleConfig& c : result.config->schedules)
      names += (names.empty() ? "" : ", ") + c.name;
    err << "runbook: " << config_path << " has no schedule '" << schedule << "'"
        << (names.empty() ? std::string(" (it has none)") : "; it has: " + names) << "\n";
    return 2;
  }
  for (std::chrono::sys_seconds t :
       next_fires(s->cron, s->zone, std::chrono::system_clock::now(), count))
    out << s->zone.format(t) << "\n";
  return 0;
}

}  // namespace runbook
