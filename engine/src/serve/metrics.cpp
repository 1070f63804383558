#include "serve/metrics.hpp"

#include <cstdio>

namespace runbook::serve {
namespace {

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

// name{a="x",b="y"} value
void sample(std::string& out, const char* name, const std::string& labels,
            const std::string& value) {
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += ' ';
  out += value;
  out += '\n';
}

std::string label(const char* name, const std::string& value) {
  return std::string(name) + "=\"" + escape_label_value(value) + "\"";
}

void pair_counter(std::string& out, const char* name, const char* help, const char* first,
                  const char* second,
                  const std::map<std::pair<std::string, std::string>, unsigned long long>& m) {
  family(out, name, "counter", help);
  for (const auto& [labels, n] : m)
    sample(out, name, label(first, labels.first) + "," + label(second, labels.second),
           std::to_string(n));
}

}  // namespace

std::string escape_label_value(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void Metrics::run_ended(const std::string& runbook, RunState state) {
  ++runs_[{runbook, to_string(state)}];
}

void Metrics::step_ended(const std::string& runbook, double seconds) {
  Histogram& h = steps_[runbook];
  for (size_t i = 0; i < kStepBuckets.size(); ++i) {
    if (seconds <= kStepBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::schedule_fired(const std::string& schedule, const std::string& outcome) {
  ++fires_[{schedule, outcome}];
}

void Metrics::http_request(const std::string& route, int status) {
  ++requests_[{route, std::to_string(status)}];
}

void Metrics::config_reloaded(bool ok) {
  ++reloads_[ok ? 1 : 0];
}

void Metrics::alert_received(const std::string& receiver) {
  ++alerts_received_[receiver];
}

void Metrics::alert_decided(const std::string& rule, const std::string& decision) {
  ++decisions_[{rule, decision}];
}

void Metrics::escalated(const std::string& rule, bool ok) {
  ++escalations_[{rule, ok ? "ok" : "failed"}];
}

std::string Metrics::render(const MetricsGauges& gauges) const {
  std::string out;
  family(out, "runbook_up", "gauge", "1 while the server takes work, 0 while it shuts down.");
  sample(out, "runbook_up", "", gauges.draining ? "0" : "1");
  pair_counter(out, "runbook_runs_total", "Runs ended, by runbook and final state.", "runbook",
               "state", runs_);
  family(out, "runbook_runs_running", "gauge", "Runs running now.");
  sample(out, "runbook_runs_running", "", std::to_string(gauges.running));
  family(out, "runbook_queue_depth", "gauge", "Runs accepted and waiting to start.");
  sample(out, "runbook_queue_depth", "", std::to_string(gauges.queued));

  const char* steps = "runbook_step_duration_seconds";
  family(out, steps, "histogram", "How long steps took, by runbook.");
  for (const auto& [runbook, h] : steps_) {
    unsigned long long cumulative = 0;
    for (size_t i = 0; i < kStepBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      sample(out, "runbook_step_duration_seconds_bucket",
             label("runbook", runbook) + "," + label("le", number(kStepBuckets[i])),
             std::to_string(cumulative));
    }
    sample(out, "runbook_step_duration_seconds_bucket",
           label("runbook", runbook) + "," + label("le", "+Inf"), std::to_string(h.count));
    sample(out, "runbook_step_duration_seconds_sum", label("runbook", runbook), number(h.sum));
    sample(out, "runbook_step_duration_seconds_count", label("runbook", runbook),
           std::to_string(h.count));
  }

  pair_counter(out, "runbook_schedule_fires_total",
               "Schedule fire times, by schedule and what became of them.", "schedule", "outcome",
               fires_);
  pair_counter(out, "runbook_http_requests_total", "HTTP requests answered, by route and status.",
               "route", "code", requests_);
  family(out, "runbook_config_reloads_total", "counter", "Config reloads (SIGHUP), by result.");
  sample(out, "runbook_config_reloads_total", label("result", "ok"), std::to_string(reloads_[1]));
  sample(out, "runbook_config_reloads_total", label("result", "error"),
         std::to_string(reloads_[0]));

  family(out, "runbook_alerts_received_total", "counter", "Alerts received, by receiver.");
  for (const auto& [receiver, n] : alerts_received_)
    sample(out, "runbook_alerts_received_total", label("receiver", receiver), std::to_string(n));
  pair_counter(out, "runbook_alert_decisions_total",
               "What became of alerts, by rule (\"\" when none matched) and decision.", "rule",
               "decision", decisions_);
  pair_counter(out, "runbook_escalations_total", "Escalations run, by rule and result.", "rule",
               "result", escalations_);
  family(out, "runbook_breaker_state", "gauge",
         "Each alert rule's circuit breaker: 0 closed, 1 open, 2 half-open.");
  for (const auto& [rule, state] : gauges.breakers)
    sample(out, "runbook_breaker_state", label("rule", rule), std::to_string(state));
  family(out, "runbook_paused", "gauge", "1 while automatic remediation is paused.");
  sample(out, "runbook_paused", "", gauges.paused ? "1" : "0");
  return out;
}

}  // namespace runbook::serve
