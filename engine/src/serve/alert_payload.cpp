#include "serve/alert_payload.hpp"

#include "expr/json_reader.hpp"
#include "runbook/store.hpp"

namespace runbook::serve {
namespace {

using Error = std::string;

// `value` as a map of strings into `out`; false when it is not one.
bool read_strings(const Value& value, LabelMap& out) {
  if (value.is_null()) return true;
  if (!value.is_map()) return false;
  for (const auto& [k, v] : value.as_map()) {
    if (!v.is_string()) return false;
    out[k] = v.as_string();
  }
  return true;
}

const std::string* string_member(const Value::Map& map, const std::string& name) {
  auto it = map.find(name);
  return it != map.end() && it->second.is_string() ? &it->second.as_string() : nullptr;
}

Expected<Alert, Error> read_alert(const Value& value, const std::string& where) {
  if (!value.is_map()) return Error(where + " must be an object");
  const Value::Map& m = value.as_map();
  Alert alert;
  auto labels = m.find("labels");
  if (labels == m.end() || !read_strings(labels->second, alert.labels))
    return Error(where + ".labels must be an object of strings");
  if (auto a = m.find("annotations"); a != m.end() && !read_strings(a->second, alert.annotations))
    return Error(where + ".annotations must be an object of strings");
  const std::string* status = string_member(m, "status");
  if (status == nullptr || (*status != "firing" && *status != "resolved"))
    return Error(where + ".status must be \"firing\" or \"resolved\"");
  alert.status = *status;
  if (const std::string* s = string_member(m, "startsAt")) alert.starts_at = *s;
  if (const std::string* s = string_member(m, "endsAt")) alert.ends_at = *s;
  if (const std::string* s = string_member(m, "generatorURL")) alert.generator_url = *s;
  const std::string* fp = string_member(m, "fingerprint");
  alert.fingerprint = fp && !fp->empty() ? *fp : label_fingerprint(alert.labels);
  alert.delivery = alert.starts_at;
  return alert;
}

Expected<Value::Map, Error> read_object(std::string_view body) {
  Expected<Value, std::string> parsed = expr::read_json(body);
  if (!parsed) return Error("the body is not JSON: " + parsed.error());
  if (!parsed.value().is_map()) return Error("the body must be a JSON object");
  return std::move(parsed).value().as_map();
}

}  // namespace

std::string label_fingerprint(const LabelMap& labels) {
  std::string text;
  for (const auto& [k, v] : labels) {
    text += k;
    text += '\xff';
    text += v;
    text += '\xff';
  }
  return sha256_hex(text).substr(0, 16);
}

Expected<AlertPayload, std::string> parse_alert_payload(std::string_view body, AlertSource source) {
  Expected<Value::Map, Error> object = read_object(body);
  if (!object) return object.error();
  const Value::Map& m = object.value();
  const char* expected_version = source == AlertSource::alertmanager ? "4" : "1";
  if (auto v = m.find("version"); v != m.end()) {
    if (!v->second.is_string() || v->second.as_string() != expected_version)
      return Error(std::string("unsupported payload version ") + v->second.to_json() +
                   " (this receiver takes version \"" + expected_version + "\")");
  }
  auto alerts = m.find("alerts");
  if (alerts == m.end()) {
    if (source == AlertSource::grafana && (m.count("ruleName") || m.count("evalMatches")))
      return Error(
          "legacy Grafana alerting payloads are not supported: use Grafana's unified alerting, "
          "whose webhook sends 'alerts'");
    return Error("the body has no 'alerts' list");
  }
  if (!alerts->second.is_list()) return Error("'alerts' must be a list");
  AlertPayload payload;
  payload.receiver = source == AlertSource::alertmanager ? "alertmanager" : "grafana";
  if (auto t = m.find("truncatedAlerts"); t != m.end() && t->second.is_int())
    payload.truncated = t->second.as_int();
  const Value::List& list = alerts->second.as_list();
  payload.alerts.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    Expected<Alert, Error> alert = read_alert(list[i], "alerts[" + std::to_string(i) + "]");
    if (!alert) return alert.error();
    payload.alerts.push_back(std::move(alert).value());
  }
  return payload;
}

Expected<AlertPayload, std::string> parse_hook_payload(std::string_view name, std::string_view body,
                                                       std::string_view timestamp) {
  Expected<Value::Map, Error> object = read_object(body);
  if (!object) return object.error();
  Alert alert;
  alert.status = "firing";
  for (const auto& [k, v] : object.value()) {
    if (v.is_string()) {
      alert.labels[k] = v.as_string();
    } else if (v.is_number() || v.is_bool()) {
      alert.labels[k] = v.to_json();
    }
  }
  alert.labels["hook"] = std::string(name);
  if (auto s = alert.labels.find("status"); s != alert.labels.end() && s->second == "resolved")
    alert.status = "resolved";
  auto fp = alert.labels.find("fingerprint");
  alert.fingerprint = fp != alert.labels.end() && !fp->second.empty()
                          ? fp->second
                          : label_fingerprint(alert.labels);
  std::string delivery(timestamp);
  delivery += '.';
  delivery += body;
  alert.delivery = sha256_hex(delivery);
  AlertPayload payload;
  payload.receiver = "hook";
  payload.alerts.push_back(std::move(alert));
  return payload;
}

}  // namespace runbook::serve
