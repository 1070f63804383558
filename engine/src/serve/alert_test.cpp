// `runbook alerts test --config F PAYLOAD.json`: the decisions of the
// server's rules for each alert of a payload, under the server's current
// state, without running anything.

#include <fstream>
#include <ostream>
#include <sstream>

#include "runbook/executor.hpp"
#include "runbook/serve.hpp"
#include "serve/server.hpp"
#include "util/json_text.hpp"

namespace runbook {

int test_alerts(const AlertTestOptions& options, std::ostream& out, std::ostream& err) {
  using namespace serve;
  ServerConfigResult config = load_server_config(options.config_path);
  if (!config.ok()) {
    err << config.diagnostics.format();
    return 2;
  }
  std::ifstream in(options.payload_path, std::ios::binary);
  if (!in) {
    err << "runbook: cannot read " << options.payload_path << "\n";
    return 2;
  }
  std::ostringstream text;
  text << in.rdbuf();
  Expected<AlertPayload, std::string> payload = std::string("no receiver");
  if (options.receiver == "alertmanager" || options.receiver == "grafana") {
    payload =
        parse_alert_payload(text.str(), options.receiver == "grafana" ? AlertSource::grafana
                                                                      : AlertSource::alertmanager);
  } else if (options.receiver.starts_with("hook/")) {
    payload = parse_hook_payload(options.receiver.substr(5), text.str(), "");
  } else {
    err << "runbook: --receiver must be alertmanager, grafana or hook/NAME, not '"
        << options.receiver << "'\n";
    return 2;
  }
  if (!payload) {
    err << "runbook: " << options.payload_path << ": " << payload.error() << "\n";
    return 2;
  }

  const std::string state_dir =
      config.config->state_dir.empty() ? default_state_dir() : config.config->state_dir;
  std::unique_ptr<AlertState> state;
  try {
    state = AlertState::open(state_dir, true);
  } catch (const std::exception& e) {
    err << "runbook: cannot read the alert state in " << state_dir << ": " << e.what() << "\n";
    return 2;
  }
  const std::optional<std::string> paused = remediation_paused(state_dir);
  const auto now = std::chrono::system_clock::now();
  const bool json = options.output == "json";
  std::string body = "{\"alerts\":[";
  if (!json && paused) out << "remediation is paused: " << *paused << "\n";
  for (size_t i = 0; i < payload.value().alerts.size(); ++i) {
    const Alert& alert = payload.value().alerts[i];
    const AlertRule* rule = nullptr;
    for (const AlertRule& r : config.config->alerts) {
      if (r.takes(alert.status) && r.matches(alert.labels)) {
        rule = &r;
        break;
      }
    }
    RunRequest run;
    AlertDecision d;
    if (rule == nullptr) {
      d.decision = "no_match";
      d.reason = "no rule takes this alert (its labels and status)";
    } else {
      d = decide_alert(*rule, alert, *state, now, paused.has_value(),
                       [&] { return prepare_alert_run(*rule, alert, run); });
    }
    if (json) {
      if (i) body += ',';
      body += "{\"index\":" + std::to_string(i) + ",\"fingerprint\":";
      append_json_string(body, alert.fingerprint);
      body += ",\"status\":";
      append_json_string(body, alert.status);
      if (rule) {
        body += ",\"rule\":";
        append_json_string(body, rule->name);
        body += ",\"group\":";
        append_json_string(body, d.group);
      }
      body += ",\"decision\":";
      append_json_string(body, d.decision);
      if (!d.reason.empty()) {
        body += ",\"reason\":";
        append_json_string(body, d.reason);
      }
      if (d.decision == "started") {
        body += ",\"runbook\":";
        append_json_string(body, rule->runbook_path);
        body += ",\"params\":" + run.params_json_masked;
      }
      body += "}";
      continue;
    }
    out << "alert " << i << " (" << alert.status << ", fingerprint " << alert.fingerprint << ")";
    if (auto name = alert.labels.find("alertname"); name != alert.labels.end())
      out << " " << name->second;
    out << "\n";
    if (rule == nullptr) {
      out << "  no_match\n    why: " << d.reason << "\n";
      continue;
    }
    out << "  rule " << rule->name << ": " << d.decision;
    if (d.decision == "started")
      out << " — would run " << rule->runbook_path << " with params " << run.params_json_masked;
    out << "\n    group: " << d.group << "\n";
    if (!d.reason.empty()) out << "    why: " << d.reason << "\n";
  }
  if (json) {
    body += "],\"paused\":";
    body += paused ? "true" : "false";
    out << body << "}\n";
  }
  return 0;
}

}  // namespace runbook
