// `runbook run --alert-file`: the alert a run started by `runbook serve` is
// for, read into the run's options.

#include <fstream>
#include <sstream>

#include "expr/json_reader.hpp"
#include "runbook/executor.hpp"

namespace runbook {

std::string read_alert_file(const std::string& path, RunOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read it";
  std::ostringstream text;
  text << in.rdbuf();
  Expected<Value, std::string> parsed = expr::read_json(text.str());
  if (!parsed) return parsed.error();
  if (!parsed.value().is_map()) return "not a JSON object";
  const Value::Map& alert = parsed.value().as_map();
  auto strings = [&](const char* name, std::map<std::string, std::string>& out) {
    auto it = alert.find(name);
    if (it == alert.end() || !it->second.is_map()) return;
    for (const auto& [k, v] : it->second.as_map())
      if (v.is_string()) out[k] = v.as_string();
  };
  strings("labels", options.alert_labels);
  strings("annotations", options.alert_annotations);
  Value::Map recorded;
  for (const char* name : {"rule", "fingerprint"})
    if (auto it = alert.find(name); it != alert.end() && it->second.is_string())
      recorded[name] = it->second;
  options.alert_json = Value(recorded).to_json();
  return "";
}

}  // namespace runbook
