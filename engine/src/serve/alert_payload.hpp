#pragma once

// The alerts in what a webhook posts: Prometheus Alertmanager (payload
// version 4), Grafana's unified alerting (the same shape, version 1) and
// signed hooks of any JSON object. Pure: no I/O.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runbook/expected.hpp"

namespace runbook::serve {

using LabelMap = std::map<std::string, std::string>;

struct Alert {
  std::string status;  // "firing" or "resolved"
  LabelMap labels, annotations;
  std::string starts_at, ends_at, generator_url;
  std::string fingerprint;  // as sent, else label_fingerprint(labels)
  // What tells a repeated delivery of this alert from a new one: startsAt
  // for Alertmanager and Grafana, a digest of the signed delivery for hooks.
  std::string delivery;
};

struct AlertPayload {
  std::string receiver;  // alertmanager, grafana, hook
  std::vector<Alert> alerts;
  long long truncated = 0;  // truncatedAlerts: alerts the sender left out
};

enum class AlertSource { alertmanager, grafana };

// Reads an Alertmanager or Grafana webhook body. Unknown fields are ignored.
// The error names what is wrong and where ("alerts[2].labels must be an
// object of strings").
Expected<AlertPayload, std::string> parse_alert_payload(std::string_view body, AlertSource source);

// A signed hook's body, a JSON object, as one alert: members with string,
// number or bool values become labels (numbers and bools as their JSON
// text), plus `hook` = `name`; status "resolved" when the body says
// `"status": "resolved"`; `fingerprint` as given or from the labels.
// `timestamp` is the delivery's X-Timestamp ("" when none).
Expected<AlertPayload, std::string> parse_hook_payload(std::string_view name, std::string_view body,
                                                       std::string_view timestamp);

// 16 hex digits identifying a label set, whatever the order of its labels.
std::string label_fingerprint(const LabelMap& labels);

}  // namespace runbook::serve
