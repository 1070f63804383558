#include "wait_spec.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <vector>

#include "duration.hpp"

namespace runbook::wait {

namespace {

using sdk::Json;

std::string describe(const Json& value) {
  if (value.is_null()) return "null";
  if (value.is_bool()) return value.as_bool() ? "true" : "false";
  if (value.is_number()) return "the number " + value.dump();
  if (value.is_string()) return "'" + value.as_string() + "'";
  if (value.is_array()) return "a list";
  return "a map";
}

std::string join_path(const std::string& parent, const std::string& key) {
  if (parent.empty()) return key;
  return key.empty() ? parent : parent + "." + key;
}

// Reads one map of `with` (the top level, or `port`/`file` in it) and
// reports problems under their dotted paths.
class MapReader {
 public:
  MapReader(const Json& map, std::string path, bool validating, const ReportFn& report, int& errors)
      : map_(map),
        path_(std::move(path)),
        validating_(validating),
        report_(report),
        errors_(errors) {}

  const Json& map() const { return map_; }

  // A problem with `key` of this map ("" for the map itself).
  void error(const std::string& key, const std::string& message) {
    ++errors_;
    report_(join_path(path_, key), message);
  }

  // Reports every key not in `known`, with the nearest known key as a hint.
  void only_keys(const std::vector<std::string_view>& known) {
    for (const auto& [key, value] : map_.as_object()) {
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      const std::string near = sdk::nearest_name(key, known);
      error(key, "unknown key '" + key + "'" +
                     (near.empty() ? std::string() : "; did you mean '" + near + "'?"));
    }
  }

  // True when `key` holds a value to check now: present, and not a string
  // that is resolved only at run time.
  bool checkable(const std::string& key) const {
    return map_.has(key) && !(validating_ && map_.get(key).is_deferred());
  }

  // Checks that `key` is a map; reports what it should look like otherwise.
  bool is_map(const std::string& key, const std::string& example) {
    if (map_.get(key).is_object()) return true;
    error(key, "must be a map like " + example + ", not " + describe(map_.get(key)));
    return false;
  }

  std::optional<std::string> text(const std::string& key) {
    const Json& value = map_.get(key);
    if (value.is_string() && !value.as_string().empty()) return value.as_string();
    error(key, "must be a non-empty string, not " + describe(value));
    return std::nullopt;
  }

  // `yes` (true) or `no` (false); nullopt after reporting anything else.
  std::optional<bool> choice(const std::string& key, std::string_view yes, std::string_view no) {
    const Json& value = map_.get(key);
    if (value.is_string() && value.as_string() == yes) return true;
    if (value.is_string() && value.as_string() == no) return false;
    error(key, "must be '" + std::string(yes) + "' or '" + std::string(no) + "', not " +
                   describe(value));
    return std::nullopt;
  }

  // A port number; a string of digits too, as ${{ }} resolves to text.
  std::optional<int> port(const std::string& key) {
    const Json& value = map_.get(key);
    int64_t n = -1;
    if (value.is_int()) {
      n = value.as_int();
    } else if (value.is_string() && !value.as_string().empty() && value.as_string().size() < 7 &&
               std::all_of(value.as_string().begin(), value.as_string().end(),
                           [](char c) { return c >= '0' && c <= '9'; })) {
      n = std::stoll(value.as_string());
    }
    if (n >= 1 && n <= 65535) return static_cast<int>(n);
    error(key, "must be a port number from 1 to 65535, not " + describe(value));
    return std::nullopt;
  }

  // "250ms", "30s", "1h30m" or a number of seconds, at least `min_ms`.
  std::optional<int64_t> duration(const std::string& key, int64_t min_ms) {
    const Json& value = map_.get(key);
    std::optional<int64_t> ms;
    if (value.is_number() && value.as_number() >= 0 && value.as_number() < 1e12) {
      ms = static_cast<int64_t>(value.as_number() * 1000 + 0.5);
    } else if (value.is_string()) {
      ms = parse_duration_ms(value.as_string());
    }
    if (!ms) {
      error(key, "must be a duration like 500ms, 30s or 1h30m, not " + describe(value));
      return std::nullopt;
    }
    if (*ms < min_ms) {
      error(key, "must be at least " + format_duration(min_ms));
      return std::nullopt;
    }
    return ms;
  }

 private:
  const Json& map_;
  std::string path_;
  bool validating_;
  const ReportFn& report_;
  int& errors_;
};

constexpr int64_t kMinIntervalMs = 10;

PortTarget read_port(MapReader& r) {
  r.only_keys({"host", "port", "state"});
  PortTarget target;
  if (!r.map().has("port")) r.error("", "needs 'port': the port number to wait for");
  if (r.checkable("port")) {
    if (auto port = r.port("port")) target.port = *port;
  }
  if (r.checkable("host")) {
    if (auto host = r.text("host")) target.host = *host;
  }
  if (r.checkable("state")) {
    if (auto open = r.choice("state", "open", "closed")) target.open = *open;
  }
  return target;
}

FileTarget read_file(MapReader& r) {
  r.only_keys({"path", "state"});
  FileTarget target;
  if (!r.map().has("path")) r.error("", "needs 'path': the file to wait for");
  if (r.checkable("path")) {
    if (auto path = r.text("path")) target.path = *path;
  }
  if (r.checkable("state")) {
    if (auto exists = r.choice("state", "exists", "absent")) target.exists = *exists;
  }
  return target;
}

}  // namespace

std::optional<WaitSpec> read_wait_spec(const Json& with, bool validating, const ReportFn& report) {
  if (!with.is_object()) {
    report("", "the arguments must be a map, not " + describe(with));
    return std::nullopt;
  }
  int errors = 0;
  MapReader top(with, "", validating, report, errors);
  top.only_keys({"port", "file", "duration", "interval", "timeout"});

  std::vector<std::string> given;
  for (const char* key : {"port", "file", "duration"}) {
    if (with.has(key)) given.emplace_back(key);
  }
  if (given.empty()) top.error("", "say what to wait for: one of 'port', 'file' or 'duration'");
  for (size_t i = 1; i < given.size(); ++i) {
    top.error(given[i], "give only one of 'port', 'file' or 'duration', not both '" + given[0] +
                            "' and '" + given[i] + "'");
  }

  // Each given target is checked; when more than one is given that is
  // already an error, so which one the spec keeps does not matter.
  WaitSpec spec;
  if (top.checkable("port") && top.is_map("port", "{host: 127.0.0.1, port: 8080, state: open}")) {
    MapReader r(with.get("port"), "port", validating, report, errors);
    spec.target = read_port(r);
  }
  if (top.checkable("file") && top.is_map("file", "{path: /tmp/ready, state: exists}")) {
    MapReader r(with.get("file"), "file", validating, report, errors);
    spec.target = read_file(r);
  }
  if (top.checkable("duration")) {
    if (auto ms = top.duration("duration", 0)) spec.target = DurationTarget{*ms};
  }
  if (top.checkable("interval")) {
    if (auto ms = top.duration("interval", kMinIntervalMs)) spec.interval_ms = *ms;
  }
  if (top.checkable("timeout")) {
    if (auto ms = top.duration("timeout", 0)) spec.timeout_ms = *ms;
  }
  if (errors > 0) return std::nullopt;
  return spec;
}

}  // namespace runbook::wait
