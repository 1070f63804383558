#pragma once

// Talking to `runbook serve` from integration tests: a tiny blocking
// HTTP/1.1 client for 127.0.0.1, a reader for the JSON the server answers
// and for its /metrics text, and the server itself started on a free port of
// 127.0.0.1 from a config in a TempDir. POSIX only; every wait is bounded.
//
//   TempDir dir;
//   dir.write("a.yaml", "version: 1\nname: a\nsteps: …");
//   ServeProcess server(dir, write_serve_config(dir, "max_concurrent_runs: 1\n"));
//   HttpAnswer a = server.request("POST", "/v1/runs", R"({"runbook": "a.yaml"})");
//   std::string id = json_string(a.body, "run_id");

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "run_fixture.hpp"

namespace runbook_test {

// ---- HTTP ----

struct HttpAnswer {
  int status = 0;                              // 0: no answer (refused, closed early, or timed out)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

namespace http_detail {

using Clock = std::chrono::steady_clock;

inline std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Splits what the server sent into an answer once it holds a whole one
// (Content-Length framed, or up to EOF when `at_eof`); nullopt until then.
inline std::optional<HttpAnswer> parse_answer(const std::string& raw, bool at_eof) {
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return std::nullopt;
  std::istringstream head(raw.substr(0, head_end));
  HttpAnswer answer;
  std::string status_line;
  std::getline(head, status_line);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) return std::nullopt;
  answer.status = std::atoi(status_line.c_str() + 9);
  for (std::string field; std::getline(head, field);) {
    if (!field.empty() && field.back() == '\r') field.pop_back();
    const size_t colon = field.find(':');
    if (colon == std::string::npos) continue;
    const size_t value_at = field.find_first_not_of(" \t", colon + 1);
    answer.headers[lower(field.substr(0, colon))] =
        value_at == std::string::npos ? "" : field.substr(value_at);
  }
  const std::string rest = raw.substr(head_end + 4);
  auto length = answer.headers.find("content-length");
  if (length == answer.headers.end()) {
    if (!at_eof) return std::nullopt;
    answer.body = rest;
    return answer;
  }
  const size_t want = std::strtoul(length->second.c_str(), nullptr, 10);
  if (rest.size() < want) return std::nullopt;
  answer.body = rest.substr(0, want);
  return answer;
}

}  // namespace http_detail

// One request on a fresh connection to 127.0.0.1:`port` (`Connection: close`),
// waiting at most `limit` for the whole answer. The answer is read while the
// request is still being sent, so that a server refusing a large body early
// (413) is heard. `headers` are sent as given ("Name", "value").
inline HttpAnswer http_request(int port, const std::string& method, const std::string& target,
                               const std::string& body = "",
                               const std::vector<std::pair<std::string, std::string>>& headers = {},
                               std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  using http_detail::Clock;
  HttpAnswer none;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return none;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // never anything but loopback
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return none;
  }

  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT")
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "Connection: close\r\n\r\n" + body;

  const auto deadline = Clock::now() + limit;
  size_t sent = 0;
  std::string received;
  bool eof = false;
  std::optional<HttpAnswer> answer;
  while (!answer && !eof) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, short(POLLIN | (sent < request.size() ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, int(std::min<long long>(left, 200))) < 0 && errno != EINTR) break;
    if ((p.revents & POLLOUT) && sent < request.size()) {
      const ssize_t n =
          ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent += size_t(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) sent = request.size();  // refused: read
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char chunk[16384];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n > 0) received.append(chunk, size_t(n));
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) eof = true;
    }
    answer = http_detail::parse_answer(received, eof);
  }
  ::close(fd);
  return answer.value_or(none);
}

// ---- JSON, as the server writes it ----
// Just enough to pick members out of an answer without trusting their order:
// values are handled as their raw JSON text.

namespace json_detail {

// The index just past the JSON value starting at `at` (after blanks);
// text.size() when it does not end.
inline size_t skip_value(std::string_view text, size_t at) {
  at = text.find_first_not_of(" \t\r\n", at);
  if (at == std::string_view::npos) return text.size();
  if (text[at] == '"') {
    for (size_t i = at + 1; i < text.size(); ++i) {
      if (text[i] == '\\')
        ++i;
      else if (text[i] == '"')
        return i + 1;
    }
    return text.size();
  }
  if (text[at] == '{' || text[at] == '[') {
    int depth = 0;
    for (size_t i = at; i < text.size(); ++i) {
      if (text[i] == '"') {
        i = skip_value(text, i) - 1;
      } else if (text[i] == '{' || text[i] == '[') {
        ++depth;
      } else if ((text[i] == '}' || text[i] == ']') && --depth == 0) {
        return i + 1;
      }
    }
    return text.size();
  }
  const size_t end = text.find_first_of(",}] \t\r\n", at);
  return end == std::string_view::npos ? text.size() : end;
}

inline std::string trimmed(std::string_view s) {
  const size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return std::string(s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1));
}

// The raw texts of the items of the array or object at the start of `text`:
// for an object, key and value alternate.
inline std::vector<std::string> items(std::string_view text) {
  std::vector<std::string> out;
  size_t at = text.find_first_not_of(" \t\r\n");
  if (at == std::string_view::npos || (text[at] != '[' && text[at] != '{')) return out;
  ++at;
  while (at < text.size()) {
    at = text.find_first_not_of(" \t\r\n,:", at);
    if (at == std::string_view::npos || text[at] == ']' || text[at] == '}') break;
    const size_t end = skip_value(text, at);
    out.push_back(trimmed(text.substr(at, end - at)));
    at = end;
  }
  return out;
}

}  // namespace json_detail

// The elements of a JSON array, each as its JSON text.
inline std::vector<std::string> json_array(std::string_view text) {
  return json_detail::items(text);
}

// The JSON text at `path` in `text`: member names of objects and indexes of
// arrays, separated by dots ("steps.0.rollback"); each step looks at the
// value's own members or elements only. nullopt when there is none.
inline std::optional<std::string> json_member(std::string_view text, std::string_view path) {
  std::string value(text);
  while (!path.empty()) {
    const size_t dot = path.find('.');
    const std::string_view step = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    const std::vector<std::string> items = json_detail::items(value);
    const size_t first = value.find_first_not_of(" \t\r\n");
    std::optional<std::string> found;
    if (first != std::string::npos && value[first] == '[') {
      const size_t index = std::strtoul(std::string(step).c_str(), nullptr, 10);
      if (!step.empty() && std::isdigit(static_cast<unsigned char>(step[0])) &&
          index < items.size())
        found = items[index];
    } else {
      std::string key(1, '"');
      key.append(step).push_back('"');
      for (size_t i = 0; i + 1 < items.size() && !found; i += 2)
        if (items[i] == key) found = items[i + 1];
    }
    if (!found) return std::nullopt;
    value = std::move(*found);
  }
  return value;
}

// The string at `path` (as for json_member) without its quotes, escapes
// kept as written; "" when there is none or it is not a string.
inline std::string json_string(std::string_view text, std::string_view path) {
  std::optional<std::string> v = json_member(text, path);
  if (!v || v->size() < 2 || v->front() != '"') return {};
  return v->substr(1, v->size() - 2);
}

// ---- /metrics (Prometheus text format 0.0.4) ----

struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct MetricsText {
  std::map<std::string, std::string> help;  // family -> help text
  std::map<std::string, std::string> type;  // family -> counter, gauge, histogram …
  std::vector<MetricSample> samples;
  std::vector<std::string> bad_lines;  // lines that are none of the above

  // The value of the sample with exactly these labels, or nullopt.
  std::optional<double> value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const {
    for (const MetricSample& s : samples)
      if (s.name == name && s.labels == labels) return s.value;
    return std::nullopt;
  }
  // The family a sample belongs to: its name, less a histogram's suffix.
  std::string family_of(const std::string& sample_name) const {
    if (type.count(sample_name)) return sample_name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (sample_name.size() > s.size() && sample_name.ends_with(s)) {
        std::string base = sample_name.substr(0, sample_name.size() - s.size());
        if (type.count(base)) return base;
      }
    }
    return sample_name;
  }
};

// Reads the exposition text line by line. Label values are kept as written
// (escapes included); they never hold `"` in what these tests look for.
inline MetricsText parse_metrics(const std::string& text) {
  MetricsText m;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string family, rest;
      words >> family;
      std::getline(words >> std::ws, rest);
      (line[2] == 'H' ? m.help : m.type)[family] = rest;
      continue;
    }
    if (line[0] == '#') continue;
    MetricSample s;
    size_t at = line.find_first_of("{ ");
    if (at == std::string::npos) {
      m.bad_lines.push_back(line);
      continue;
    }
    s.name = line.substr(0, at);
    bool ok = true;
    if (line[at] == '{') {
      ++at;
      while (ok && at < line.size() && line[at] != '}') {
        const size_t eq = line.find("=\"", at);
        const size_t close = eq == std::string::npos ? eq : line.find('"', eq + 2);
        if (close == std::string::npos) {
          ok = false;
          break;
        }
        s.labels[line.substr(at, eq - at)] = line.substr(eq + 2, close - eq - 2);
        at = close + 1;
        if (at < line.size() && line[at] == ',') ++at;
      }
      ++at;  // the '}'
    }
    char* end = nullptr;
    const std::string number = at < line.size() ? line.substr(at) : "";
    s.value = std::strtod(number.c_str(), &end);
    if (!ok || end == number.c_str()) {
      m.bad_lines.push_back(line);
      continue;
    }
    m.samples.push_back(std::move(s));
  }
  return m;
}

// ---- the server ----

inline const std::string kServeToken = "test-token-5f1d9c0a7b3e";

// Writes DIR/server.yaml: listen on a free port of 127.0.0.1, state in
// DIR/state (where run_cli looks), runbooks in DIR, kServeToken in a 0600
// tokens file, then `extra` (YAML lines at the top level). Returns its path.
inline std::string write_serve_config(const TempDir& dir, const std::string& extra = "") {
  const std::string tokens = dir.write("tokens", "# for the tests\n" + kServeToken + "\n");
  std::filesystem::permissions(
      tokens, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return dir.write("server.yaml", "listen: 127.0.0.1:0\nstate_dir: " + (dir / "state") +
                                      "\nauth:\n  bearer_tokens_file: " + tokens + "\n" + extra);
}

// `runbook serve --config CONFIG`, stdout and stderr to DIR/serve-N.log,
// started at construction, which fails the test (REQUIRE) unless it prints
// its `listening on` line, where the port is read from, within `start_limit`.
// The destructor stops it (SIGTERM, then SIGKILL after `stop_limit`), so that
// a failed test leaves no server behind.
class ServeProcess {
 public:
  ServeProcess(const TempDir& dir, const std::string& config,
               std::chrono::milliseconds start_limit = std::chrono::seconds(30))
      : log_(dir / ("serve-" + std::to_string(unique_token()) + ".log")),
        process_({"serve", "--config", config}, log_, {{"NO_COLOR", "1"}}) {
    const auto until = std::chrono::steady_clock::now() + start_limit;
    const std::string prefix = "listening on http://127.0.0.1:";
    while (std::chrono::steady_clock::now() < until) {
      const std::string text = log();
      if (size_t at = text.find(prefix);
          at != std::string::npos && text.find('\n', at) != text.npos) {
        port_ = std::atoi(text.c_str() + at + prefix.size());
        break;
      }
      if (int code = process_.wait(std::chrono::milliseconds(20)); code != -1) {
        exit_code_ = code;
        break;
      }
    }
    REQUIRE_MESSAGE(port_ > 0, "runbook serve did not listen:\n" << log());
  }
  ~ServeProcess() {
    if (exit_code_ != -1) return;
    process_.signal(SIGTERM);
    if (process_.wait(stop_limit) == -1) MESSAGE("runbook serve did not stop on SIGTERM: killed");
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return process_.pid(); }
  std::string log() const { return read_file(log_); }
  void signal(int sig) { process_.signal(sig); }

  // The exit code once it ended within `limit`, else -1 (it keeps running).
  int wait(std::chrono::milliseconds limit) {
    if (exit_code_ == -1) exit_code_ = process_.wait(limit);
    return exit_code_;
  }

  // A request to the server; POSTs carry kServeToken unless `token` says
  // otherwise ("" for none).
  HttpAnswer request(const std::string& method, const std::string& target,
                     const std::string& body = "",
                     std::optional<std::string> token = std::nullopt) const {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token && method == "POST") token = kServeToken;
    if (token && !token->empty()) headers.emplace_back("Authorization", "Bearer " + *token);
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    return http_request(port_, method, target, body, headers);
  }

  // POST /v1/runs with `body`; the run id it was given. Fails the test
  // (REQUIRE) unless the answer is 202 with a run id.
  std::string start_run(const std::string& body) const {
    HttpAnswer a = request("POST", "/v1/runs", body);
    INFO("POST /v1/runs " << body << " -> " << a.status << " " << a.body);
    REQUIRE(a.status == 202);
    const std::string id = json_string(a.body, "run_id");
    REQUIRE_FALSE(id.empty());
    return id;
  }

  // start_run, then waits until the run is recorded as running.
  std::string start_running(const std::string& body) const {
    const std::string id = start_run(body);
    REQUIRE(wait_for_state(id, {"running"}) == "running");
    return id;
  }

  // GET /v1/runs/ID until its state is one of `states` (bounded by `limit`);
  // the last state seen.
  std::string wait_for_state(const std::string& id, const std::vector<std::string>& states,
                             std::chrono::milliseconds limit = std::chrono::seconds(60)) const {
    const auto until = std::chrono::steady_clock::now() + limit;
    std::string state;
    while (std::chrono::steady_clock::now() < until) {
      HttpAnswer a = request("GET", "/v1/runs/" + id);
      if (a.status == 200) state = json_string(a.body, "state");
      for (const std::string& s : states)
        if (state == s) return state;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return state;
  }

  MetricsText metrics() const { return parse_metrics(request("GET", "/metrics").body); }

  // GET /v1/runs?limit=1000&QUERY: each run as its JSON text, newest first.
  std::vector<std::string> runs(const std::string& query = "") const {
    return json_array(
        request("GET", "/v1/runs?limit=1000" + (query.empty() ? "" : "&" + query)).body);
  }

  static constexpr std::chrono::milliseconds stop_limit{30000};

 private:
  std::string log_;
  Background process_;
  int port_ = 0;
  int exit_code_ = -1;
};

// The runs in DIR/state as `runbook history --output json --limit 0` lists
// them, newest first, each as its JSON text.
inline std::vector<std::string> history_runs(const TempDir& dir) {
  Finished f = run_cli(dir, {"history", "--output", "json", "--limit", "0"});
  INFO(f.output);
  CHECK(f.exit_code == 0);
  return json_array(f.output);
}

// `runbook show ID --output json` on DIR/state.
inline std::string shown_run(const TempDir& dir, const std::string& id) {
  Finished f = run_cli(dir, {"show", id, "--output", "json"});
  INFO(f.output);
  CHECK(f.exit_code == 0);
  return f.output;
}

// After a server stopped: whether no process with `needle` in its command
// line is left, allowing them a moment to go; any left are killed.
inline bool none_left(const std::string& needle) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (count_processes(needle) > 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (count_processes(needle) == 0) return true;
  kill_processes(needle);
  return false;
}

// The records of `event` in DIR/state's audit log (of run `run_id` only when
// given), each as its JSON line.
inline std::vector<std::string> audit_records(const TempDir& dir, const std::string& event,
                                              const std::string& run_id = "") {
  std::vector<std::string> args{"audit", "tail", "-n", "100000", "--output", "json"};
  if (!run_id.empty()) args.insert(args.end(), {"--run", run_id});
  Finished f = run_cli(dir, args);
  INFO(f.output);
  CHECK(f.exit_code == 0);
  std::vector<std::string> out;
  std::istringstream lines(f.output);
  for (std::string line; std::getline(lines, line);)
    if (json_string(line, "event") == event) out.push_back(line);
  return out;
}

// How many of `runs` (JSON objects) have every member of `want` as that string.
inline int count_runs(const std::vector<std::string>& runs,
                      const std::map<std::string, std::string>& want) {
  int n = 0;
  for (const std::string& run : runs) {
    bool all = true;
    for (const auto& [name, value] : want) all = all && json_string(run, name) == value;
    n += all;
  }
  return n;
}

// Polls `done` every 200 ms until it is true or `limit` has passed.
template <class Done>
bool eventually(Done done, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

}  // namespace runbook_test
