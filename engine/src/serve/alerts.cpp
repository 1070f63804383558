// The alert routes of the trigger server: receivers (Alertmanager, Grafana,
// signed hooks), the rules' decisions and their safety rails, escalation,
// and the kill switch over HTTP. See docs/alerts.md.

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstdlib>

#include "expr/json_reader.hpp"
#include "load/yaml_reader.hpp"
#include "runbook/executor.hpp"
#include "runbook/expr.hpp"
#include "serve/server.hpp"
#include "util/json_text.hpp"

extern char** environ;

namespace runbook::serve {
namespace {

// How long a decision that starts nothing may wait to be written with others.
constexpr auto kAuditBatch = std::chrono::milliseconds(20);

// {"a":"x",…} of a label map.
std::string labels_json(const LabelMap& labels) {
  std::string out = "{";
  for (const auto& [k, v] : labels) {
    if (out.size() > 1) out += ',';
    append_json_string(out, k);
    out += ':';
    append_json_string(out, v);
  }
  return out + "}";
}

std::string alert_file_json(const std::string& rule, const Alert& alert) {
  std::string out = "{\"rule\":";
  append_json_string(out, rule);
  out += ",\"fingerprint\":";
  append_json_string(out, alert.fingerprint);
  out += ",\"status\":";
  append_json_string(out, alert.status);
  out += ",\"labels\":" + labels_json(alert.labels);
  out += ",\"annotations\":" + labels_json(alert.annotations) + "}";
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Whether `header` ("sha256=HEX") is the HMAC-SHA256 of `message` under
// `secret`, compared in constant time.
bool signature_matches(const std::string& secret, std::string_view message,
                       std::string_view header) {
  if (!header.starts_with("sha256=")) return false;
  header.remove_prefix(7);
  const Sha256Digest expected = hmac_sha256(secret, message);
  if (header.size() != expected.size() * 2) return false;
  Sha256Digest given;
  for (size_t i = 0; i < given.size(); ++i) {
    const int hi = hex_value(header[2 * i]), lo = hex_value(header[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    given[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return equal_in_constant_time(expected.data(), given.data(), given.size());
}

std::string header(const HttpRequest& request, const char* name) {
  auto it = request.headers.find(name);
  return it == request.headers.end() ? std::string() : it->second;
}

// One entry of the answer: what became of alert `index`.
struct AlertAnswer {
  size_t index = 0;
  const Alert* alert = nullptr;
  std::string rule, decision, reason, group, run_id;

  std::string json() const {
    std::string out = "{\"index\":" + std::to_string(index) + ",\"fingerprint\":";
    append_json_string(out, alert->fingerprint);
    out += ",\"status\":";
    append_json_string(out, alert->status);
    if (!rule.empty()) {
      out += ",\"rule\":";
      append_json_string(out, rule);
    }
    out += ",\"decision\":";
    append_json_string(out, decision);
    if (!run_id.empty()) {
      out += ",\"run_id\":";
      append_json_string(out, run_id);
    }
    if (!group.empty()) {
      out += ",\"group\":";
      append_json_string(out, group);
    }
    if (!reason.empty()) {
      out += ",\"reason\":";
      append_json_string(out, reason);
    }
    return out + "}";
  }
};

}  // namespace

HttpResponse Server::post_alerts(const HttpRequest& request, AlertSource source) {
  if (!authorized(request)) return bearer_refusal();
  Expected<AlertPayload, std::string> payload = parse_alert_payload(request.body, source);
  if (!payload) return error_answer(400, payload.error());
  return receive_alerts(payload.value());
}

HttpResponse Server::post_hook(const HttpRequest& request, const std::string& name) {
  if (!load::is_valid_id(name))
    return error_answer(404, "no such hook name '" + name + "': names are [a-z0-9][a-z0-9_-]*");
  if (loaded_.hmac_secret.empty())
    return unauthorized_answer(
        "this server takes no hooks: its config has no auth.hmac_secret_file");
  const std::string timestamp = header(request, "x-timestamp");
  const std::string signature = header(request, "x-signature-256");
  if (signature.empty())
    return unauthorized_answer("missing X-Signature-256: sha256=HMAC-SHA256 of the body");
  if (timestamp.empty() && config().hmac_require_timestamp)
    return unauthorized_answer("missing X-Timestamp: this server requires signed timestamps");
  if (!timestamp.empty()) {
    char* end = nullptr;
    errno = 0;
    const long long sent = std::strtoll(timestamp.c_str(), &end, 10);
    const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    const long long tolerance =
        std::chrono::duration_cast<std::chrono::seconds>(config().hmac_tolerance).count();
    if (errno != 0 || end == timestamp.c_str() || *end != '\0')
      return unauthorized_answer("X-Timestamp must be UNIX seconds");
    if (std::llabs(now - sent) > tolerance)
      return unauthorized_answer("X-Timestamp is " + std::to_string(std::llabs(now - sent)) +
                                 " s away from the server's clock (tolerance " +
                                 std::to_string(tolerance) + " s): a replay, or a clock to fix");
  }
  const std::string message = timestamp.empty() ? request.body : timestamp + "." + request.body;
  if (!signature_matches(loaded_.hmac_secret, message, signature))
    return unauthorized_answer(
        "wrong X-Signature-256: expected sha256=HEX of HMAC-SHA256 over the body (or over "
        "TIMESTAMP.BODY when X-Timestamp is sent)");
  Expected<AlertPayload, std::string> payload = parse_hook_payload(name, request.body, timestamp);
  if (!payload) return error_answer(400, payload.error());
  return receive_alerts(payload.value());
}

HttpResponse Server::post_pause(const HttpRequest& request, bool pause) {
  if (!authorized(request)) return bearer_refusal();
  std::string reason;
  if (pause && !request.body.empty()) {
    Expected<Value, std::string> body = expr::read_json(request.body);
    if (!body || !body.value().is_map())
      return error_answer(400, "the body must be empty or a JSON object {\"reason\": \"…\"}");
    auto it = body.value().as_map().find("reason");
    if (it != body.value().as_map().end()) {
      if (!it->second.is_string()) return error_answer(400, "'reason' must be a string");
      reason = it->second.as_string();
    }
  }
  if (std::string error = set_remediation_paused(state_dir_, pause, reason, "api"); !error.empty())
    return error_answer(500, error);
  spdlog::warn("automatic remediation {} by {}{}", pause ? "paused" : "resumed", request.remote,
               reason.empty() ? "" : ": " + reason);
  return json_answer(200, std::string("{\"paused\":") + (pause ? "true" : "false") + "}");
}

HttpResponse Server::receive_alerts(const AlertPayload& payload) {
  if (draining_) return busy_answer("the server is shutting down");
  const auto now = std::chrono::system_clock::now();
  const bool paused = remediation_paused(state_dir_).has_value();
  if (payload.truncated > 0)
    spdlog::warn("{} payload left out {} alert(s) (truncatedAlerts)", payload.receiver,
                 payload.truncated);
  std::vector<AlertAnswer> answers;
  answers.reserve(payload.alerts.size());
  bool queue_full = false;
  for (size_t i = 0; i < payload.alerts.size(); ++i) {
    const Alert& alert = payload.alerts[i];
    metrics_.alert_received(payload.receiver);
    AuditRecord received("alert.received", "");
    received.trigger("alert");
    received.add("receiver", payload.receiver);
    received.add("fingerprint", alert.fingerprint);
    received.add("status", alert.status);
    received.add_json("labels", labels_json(alert.labels));
    if (!alert.starts_at.empty()) received.add("starts_at", alert.starts_at);
    audit_->append(std::move(received));

    AlertAnswer answer;
    answer.index = i;
    answer.alert = &alert;
    const AlertRule* rule = nullptr;
    for (const AlertRule& r : config().alerts) {
      if (r.takes(alert.status) && r.matches(alert.labels)) {
        rule = &r;
        break;
      }
    }
    RunRequest run;
    if (rule == nullptr) {
      answer.decision = "no_match";
      answer.reason = "no rule takes this alert (its labels and status)";
    } else {
      answer.rule = rule->name;
      AlertDecision d = decide_alert(*rule, alert, *alert_state_, now, paused,
                                     [&] { return prepare_alert_run(*rule, alert, run); });
      answer.decision = d.decision;
      answer.reason = d.reason;
      answer.group = d.group;
      if (d.decision == "started" && queue_->full()) {
        answer.decision = "queue_full";
        answer.reason = "the run queue is full; the sender should retry";
        queue_full = true;
      } else if (d.decision == "started") {
        run.group = d.group;
        answer.run_id = run.run_id;
      }
      if (d.decision == "started" && !queue_full) {
        // Write-ahead: the decision is on disk before the run is queued.
        AuditRecord matched("alert.matched", run.run_id);
        matched.trigger("alert");
        matched.add("rule", rule->name);
        matched.add("fingerprint", alert.fingerprint);
        matched.add("decision", "started");
        matched.add("group", d.group);
        audit_->append(std::move(matched));
        if (!audit_flush()) return busy_answer("cannot write the audit log: nothing was started");
        alert_state_->record_start(rule->name, d.group, alert, run.run_id, now, d.trial);
        alert_runs_[run.run_id] = alert;
        spdlog::info("alert {} ({}): rule {} starts run {}", alert.fingerprint, alert.status,
                     rule->name, run.run_id);
        submit(std::move(run));
      }
      if (answer.decision == "breaker_open" && !rule->escalate.empty() &&
          alert_state_->take_breaker_escalation(rule->name))
        escalate(*rule, alert, "breaker_open", "");
    }
    if (answer.decision != "started") {
      AuditRecord suppressed("alert.suppressed", "");
      suppressed.trigger("alert");
      if (!answer.rule.empty()) suppressed.add("rule", answer.rule);
      suppressed.add("fingerprint", alert.fingerprint);
      suppressed.add("reason", answer.decision);
      if (!answer.reason.empty()) suppressed.add("message", answer.reason);
      audit_->append(std::move(suppressed));
    }
    metrics_.alert_decided(answer.rule, answer.decision);
    answers.push_back(std::move(answer));
  }
  // Decisions that start nothing are written within kAuditBatch, together
  // with those of every request read meanwhile: under an alert storm the log
  // takes one fsync per batch, and no sender waits for one. What starts a
  // run is written before it starts (above).
  if (!audit_timer_armed_) {
    audit_timer_armed_ = true;
    audit_timer_.expires_after(kAuditBatch);
    audit_timer_.async_wait([this](const boost::system::error_code&) {
      audit_timer_armed_ = false;
      if (!audit_flush()) spdlog::error("alert decisions not recorded in the audit log");
    });
  }
  std::string body = "{\"alerts\":[";
  for (size_t i = 0; i < answers.size(); ++i) {
    if (i) body += ',';
    body += answers[i].json();
  }
  body += ']';
  if (queue_full) {
    body += ",\"error\":\"the run queue is full: retry later\"}";
    HttpResponse r = json_answer(503, body);
    r.headers.emplace_back("Retry-After", std::to_string(kRetryAfterSeconds));
    return r;
  }
  return json_answer(202, body + "}");
}

std::string prepare_alert_run(const AlertRule& rule, const Alert& alert, RunRequest& run) {
  ExprContext ctx;
  ctx.alert_labels = &alert.labels;
  ctx.alert_annotations = &alert.annotations;
  Value::Map given;
  for (const auto& [name, value] : rule.params) {
    if (!value.is_string()) {
      given[name] = value;
      continue;
    }
    Expected<Template> t = parse_template(value.as_string());
    Expected<std::string> text = t ? render_text(t.value(), ctx) : Expected<std::string>(t.error());
    if (!text) return "param '" + name + "': " + text.error().format();
    given[name] = text.value();
  }
  Diagnostics diags;
  prepare_params(*rule.runbook, given, run, diags);
  if (!diags.empty()) {
    std::string problems;
    for (const Diagnostic& d : diags.items()) {
      std::string message = d.message;
      for (size_t at; (at = message.find(" given by the request")) != std::string::npos;)
        message.erase(at, 21);
      problems += (problems.empty() ? "" : "; ") + message;
    }
    return problems;
  }
  set_run(run, *rule.runbook, rule.runbook_path, "alert", rule.auto_approve);
  run.rule = rule.name;
  run.alert_json = alert_file_json(rule.name, alert);
  return "";
}

void Server::alert_run_ended(const RunRequest& request, const RunEnd& end) {
  const AlertRule* rule = config().find_alert_rule(request.rule);
  const std::optional<BreakerConfig> breaker = rule ? rule->breaker : std::nullopt;
  // A run that never started (lock held, cancelled while queued) says
  // nothing about whether remediation works.
  const bool counts = end.started;
  const bool failed = end.state != RunState::succeeded;
  const AlertState::BreakerChange change = alert_state_->record_end(
      request.rule, request.run_id, counts, failed, std::chrono::system_clock::now(), breaker);
  Alert alert;
  if (auto it = alert_runs_.find(request.run_id); it != alert_runs_.end()) {
    alert = std::move(it->second);
    alert_runs_.erase(it);
  }
  if (change != AlertState::BreakerChange::none) {
    const bool opened = change == AlertState::BreakerChange::opened;
    spdlog::warn("rule {}: breaker {} after run {} {}", request.rule, opened ? "opened" : "closed",
                 request.run_id, to_string(end.state));
    AuditRecord record(opened ? "alert.breaker_opened" : "alert.breaker_closed", request.run_id);
    record.trigger("alert");
    record.add("rule", request.rule);
    audit_->append(std::move(record));
    audit_flush();
  }
  if (counts && failed && rule && !rule->escalate.empty())
    escalate(*rule, alert,
             change == AlertState::BreakerChange::opened ? "breaker_open" : "run_failed",
             request.run_id);
}

void Server::escalate(const AlertRule& rule, const Alert& alert, const std::string& reason,
                      const std::string& run_id) {
  ExprContext ctx;
  ctx.alert_labels = &alert.labels;
  ctx.alert_annotations = &alert.annotations;
  exec::ProcessSpec spec;
  for (const std::string& arg : rule.escalate) {
    Expected<Template> t = parse_template(arg);
    Expected<std::string> text = t ? render_text(t.value(), ctx) : Expected<std::string>(t.error());
    if (!text) {
      spdlog::error("rule {}: cannot escalate: {}", rule.name, text.error().format());
      metrics_.escalated(rule.name, false);
      return;
    }
    spec.argv.push_back(text.value());
  }
  for (char** e = environ; e && *e; ++e) spec.env.emplace_back(*e);
  spec.env.push_back("RUNBOOK_ESCALATE_REASON=" + reason);
  spec.env.push_back("RUNBOOK_RULE=" + rule.name);
  spec.env.push_back("RUNBOOK_RUN_ID=" + run_id);
  spec.env.push_back("RUNBOOK_ALERT_FINGERPRINT=" + alert.fingerprint);
  spec.env.push_back("RUNBOOK_STATE_DIR=" + state_dir_);
  spec.tag = "escalate-" + make_run_id();
  spec.kill_grace = std::chrono::seconds(5);
  spdlog::warn("rule {}: escalating ({}): {}", rule.name, reason, spec.argv.front());
  auto timer = std::make_shared<boost::asio::steady_timer>(io_);
  const std::string name = rule.name;
  auto process = runner_.start(
      std::move(spec),
      [name](exec::OutputStream, std::string_view chunk) {
        while (!chunk.empty() && chunk.back() == '\n') chunk.remove_suffix(1);
        if (!chunk.empty()) spdlog::info("escalation of {}: {}", name, chunk);
      },
      [this, name, reason, run_id, timer](const exec::ProcessExit& exit) {
        timer->cancel();
        const bool ok = exit.started && exit.signal == 0 && exit.exit_code == 0;
        metrics_.escalated(name, ok);
        AuditRecord record("alert.escalated", run_id);
        record.trigger("alert");
        record.add("rule", name);
        record.add("reason", reason);
        if (!exit.started) {
          record.add("message", exit.error);
        } else if (exit.signal) {
          record.add("signal", exit.signal);
        } else {
          record.add("exit_code", exit.exit_code);
        }
        audit_->append(std::move(record));
        audit_flush();
        if (!ok)
          spdlog::error("escalation of rule {} failed: {}", name,
                        !exit.started ? exit.error
                        : exit.signal ? "signal " + std::to_string(exit.signal)
                                      : "exit code " + std::to_string(exit.exit_code));
      });
  timer->expires_after(rule.escalate_timeout);
  timer->async_wait([process](const boost::system::error_code& ec) {
    if (!ec && process && !process->ended()) process->stop();
  });
}

// Runs the state still counts as queued or running were left by a server
// that stopped (or died) before they ended: they end now, as history says.
void Server::settle_alert_runs() {
  for (const AlertState::ActiveRun& active : alert_state_->active_runs()) {
    std::string error;
    std::optional<RecordedRun> run = load_run(state_dir_, active.run_id, &error);
    const std::string state = run ? run->state : "not started";
    // Only a run that ended tells whether remediation works.
    const bool ended =
        state == to_string(RunState::succeeded) || state == to_string(RunState::failed) ||
        state == to_string(RunState::rollback_failed) || state == to_string(RunState::cancelled);
    const AlertRule* rule = config().find_alert_rule(active.rule);
    alert_state_->record_end(active.rule, active.run_id, ended,
                             state != to_string(RunState::succeeded),
                             std::chrono::system_clock::now(), rule ? rule->breaker : std::nullopt);
    spdlog::info("rule {}: run {} of an earlier server settled ({})", active.rule, active.run_id,
                 state);
  }
}

bool Server::audit_flush() {
  if (audit_->flush()) return true;
  spdlog::error("{}", audit_->error());
  // The error is sticky: start again with a fresh log for the next records.
  audit_ = std::make_unique<AuditLog>(audit_log_path(state_dir_));
  return false;
}

}  // namespace runbook::serve
