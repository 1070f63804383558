// The HTTP API of the trigger server: routes, bearer-token checks and the
// JSON answers (cli-and-server.md, "The trigger server").

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "expr/json_reader.hpp"
#include "runbook/executor.hpp"
#include "runbook/load.hpp"
#include "runbook/store.hpp"
#include "serve/server.hpp"
#include "util/json_text.hpp"

namespace runbook::serve {
namespace {

namespace fs = std::filesystem;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 &&
               hex_digit(s[i + 2]) >= 0) {
      out += char(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    out[percent_decode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return out;
}

// The runbook file a POST names, inside `dir`; "" with `error` set when the
// name is not acceptable or there is no such file.
std::string find_runbook(const std::string& dir, const std::string& name, std::string* error) {
  const fs::path p(name);
  if (name.empty() || p.is_absolute()) {
    *error = "'runbook' must be a path relative to the server's runbooks_dir";
    return {};
  }
  for (const fs::path& part : p) {
    if (part == "..") {
      *error = "'runbook' must not leave the server's runbooks_dir ('..')";
      return {};
    }
  }
  std::vector<std::string> candidates{dir + "/" + name};
  if (!p.has_extension()) {
    candidates.push_back(dir + "/" + name + ".yaml");
    candidates.push_back(dir + "/" + name + ".yml");
  }
  for (const std::string& c : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) return c;
  }
  *error = "no runbook '" + name + "' in " + dir;
  return {};
}

}  // namespace

HttpResponse json_answer(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.body += '\n';
  return r;
}

HttpResponse error_answer(int status, const std::string& message, const std::string& diagnostics) {
  std::string body = "{\"error\":";
  append_json_string(body, message);
  if (!diagnostics.empty()) {
    body += ",\"diagnostics\":[";
    size_t start = 0, count = 0;
    while (start < diagnostics.size()) {
      size_t nl = diagnostics.find('\n', start);
      if (nl == std::string::npos) nl = diagnostics.size();
      if (nl > start) {
        if (count++) body += ',';
        append_json_string(body, diagnostics.substr(start, nl - start));
      }
      start = nl + 1;
    }
    body += ']';
  }
  body += '}';
  return json_answer(status, std::move(body));
}

HttpResponse busy_answer(const std::string& message) {
  HttpResponse r = error_answer(503, message);
  r.headers.emplace_back("Retry-After", std::to_string(kRetryAfterSeconds));
  return r;
}

HttpResponse unauthorized_answer(const std::string& message) {
  HttpResponse r = error_answer(401, message);
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

HttpResponse Server::bearer_refusal() const {
  return unauthorized_answer(
      loaded_.tokens.empty()
          ? "this server takes no POST: its config has no auth.bearer_tokens_file"
          : "missing or wrong bearer token (Authorization: Bearer TOKEN)");
}

bool Server::authorized(const HttpRequest& request) const {
  auto it = request.headers.find("authorization");
  if (it == request.headers.end() || loaded_.tokens.empty()) return false;
  std::string_view value = it->second;
  if (value.size() < 7) return false;
  std::string scheme(value.substr(0, 7));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::tolower);
  if (scheme != "bearer ") return false;
  std::string_view token = value.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  const TokenDigest presented = sha256(token);
  // Digests of equal length, every token compared to the end: the time taken
  // says nothing about how much of a token was right.
  bool match = false;
  for (const TokenDigest& d : loaded_.tokens)
    match = equal_in_constant_time(d.data(), presented.data(), d.size()) || match;
  return match;
}

void Server::handle(const HttpRequest& request, Responder respond) {
  std::string route_name;
  HttpResponse answer = route(request, route_name);
  metrics_.http_request(route_name, answer.status);
  if (answer.status >= 400)
    spdlog::info("{} {} {} from {}", request.method, request.target, answer.status, request.remote);
  respond(std::move(answer));
}

HttpResponse Server::route(const HttpRequest& request, std::string& route_name) {
  const size_t q = request.target.find('?');
  const std::string path = request.target.substr(0, q);
  const std::string query = q == std::string::npos ? "" : request.target.substr(q + 1);
  const bool get = request.method == "GET";
  auto method_not_allowed = [](const char* allow) {
    HttpResponse r = error_answer(405, std::string("method not allowed; allowed: ") + allow);
    r.headers.emplace_back("Allow", allow);
    return r;
  };
  route_name = path;
  if (path == "/healthz") {
    if (!get) return method_not_allowed("GET");
    MetricsGauges g = gauges();
    const bool ok = !draining_ && !queue_->full();
    std::string body = std::string("{\"status\":\"") +
                       (draining_ ? "draining"
                        : ok      ? "ok"
                                  : "queue_full") +
                       "\",\"running\":" + std::to_string(g.running) +
                       ",\"queued\":" + std::to_string(g.queued) +
                       ",\"paused\":" + (g.paused ? "true" : "false") + "}";
    return json_answer(ok ? 200 : 503, body);
  }
  if (path == "/metrics") {
    if (!get) return method_not_allowed("GET");
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_.render(gauges());
    return r;
  }
  if (path == "/v1/runs") {
    if (request.method == "POST") return post_run(request);
    if (!get) return method_not_allowed("GET, POST");
    return get_runs(query);
  }
  if (path.starts_with("/v1/runs/") && path.find('/', 9) == std::string::npos) {
    route_name = "/v1/runs/{id}";
    if (!get) return method_not_allowed("GET");
    return get_run(percent_decode(path.substr(9)));
  }
  if (path == "/v1/alerts/alertmanager" || path == "/v1/alerts/grafana") {
    if (request.method != "POST") return method_not_allowed("POST");
    return post_alerts(
        request, path.ends_with("/grafana") ? AlertSource::grafana : AlertSource::alertmanager);
  }
  if (path.starts_with("/v1/hooks/") && path.find('/', 10) == std::string::npos) {
    route_name = "/v1/hooks/{name}";
    if (request.method != "POST") return method_not_allowed("POST");
    return post_hook(request, path.substr(10));
  }
  if (path == "/v1/pause" || path == "/v1/unpause") {
    if (request.method != "POST") return method_not_allowed("POST");
    return post_pause(request, path == "/v1/pause");
  }
  route_name = "other";
  return error_answer(404, "no such route: " + path);
}

HttpResponse Server::post_run(const HttpRequest& request) {
  if (!authorized(request)) return bearer_refusal();
  if (draining_) return error_answer(503, "the server is shutting down");
  Expected<Value, std::string> parsed = expr::read_json(request.body);
  if (!parsed) return error_answer(400, "the body is not JSON: " + parsed.error());
  if (!parsed.value().is_map())
    return error_answer(400, "the body must be a JSON object: {\"runbook\": …, \"params\": {…}}");
  const Value::Map& body = parsed.value().as_map();
  std::string name;
  Value::Map given;
  bool auto_approve = false;
  for (const auto& [key, value] : body) {
    if (key == "runbook" && value.is_string()) {
      name = value.as_string();
    } else if (key == "params" && (value.is_map() || value.is_null())) {
      if (value.is_map()) given = value.as_map();
    } else if (key == "auto_approve" && value.is_bool()) {
      auto_approve = value.as_bool();
    } else if (key == "runbook" || key == "params" || key == "auto_approve") {
      return error_answer(400, "'" + key + "' must be " +
                                   (key == "runbook"  ? "a string"
                                    : key == "params" ? "an object"
                                                      : "true or false"));
    } else {
      return error_answer(400,
                          "unknown field '" + key + "' (known: runbook, params, auto_approve)");
    }
  }
  if (name.empty()) return error_answer(400, "'runbook' is required");
  std::string error;
  const std::string path = find_runbook(config().runbooks_dir, name, &error);
  if (path.empty()) return error_answer(400, error);
  LoadResult loaded = load_runbook_file(path);
  if (!loaded.ok())
    return error_answer(400, "runbook " + path + " has errors", loaded.diagnostics.format());
  const Runbook& runbook = *loaded.runbook;
  if (options_.plugin_problems) {
    if (std::string problems = options_.plugin_problems(runbook); !problems.empty())
      return error_answer(400, "runbook " + path + " cannot run here", problems);
  }
  RunRequest run;
  Diagnostics diags;
  prepare_params(runbook, given, run, diags);
  if (!diags.empty()) return error_answer(400, "bad params", diags.format());
  std::vector<std::string> asking = steps_that_confirm(runbook);
  if (!asking.empty() && !auto_approve)
    return error_answer(400, "step '" + asking.front() +
                                 "' asks for confirmation: send \"auto_approve\": true to answer "
                                 "yes");
  if (queue_->full()) {
    return busy_answer("queue full: " + std::to_string(config().queue_limit) +
                       " runs are waiting; try again later");
  }
  set_run(run, runbook, path, "api", auto_approve);
  const std::string id = run.run_id;
  spdlog::info("run {} accepted: {} from {}", id, path, request.remote);
  submit(std::move(run));
  HttpResponse r = json_answer(202, "{\"run_id\":\"" + id + "\",\"state\":\"queued\"}");
  r.headers.emplace_back("Location", "/v1/runs/" + id);
  return r;
}

std::string Server::queued_json(const RunRequest& r) const {
  std::string out = "{\"id\":";
  append_json_string(out, r.run_id);
  out += ",\"runbook\":";
  append_json_string(out, r.runbook_name);
  out += ",\"path\":";
  append_json_string(out, r.runbook_path);
  out += ",\"state\":\"queued\",\"trigger\":";
  append_json_string(out, r.trigger);
  out += ",\"params\":" + r.params_json_masked + ",\"steps\":[]}";
  return out;
}

HttpResponse Server::get_runs(const std::string& query) {
  std::map<std::string, std::string> q = parse_query(query);
  RunFilter filter;
  filter.runbook = q["runbook"];
  filter.state = q["state"];
  if (!q["limit"].empty()) {
    const std::string& l = q["limit"];
    if (l.size() > 6 || !std::all_of(l.begin(), l.end(), ::isdigit))
      return error_answer(400, "limit must be a number");
    filter.limit = std::stoi(l);
  }
  std::string body = "[";
  size_t count = 0;
  if (filter.state.empty() || filter.state == "queued") {
    std::vector<const RunRequest*> waiting;
    for (const auto& [name, s] : schedules_)
      if (s.pending) waiting.push_back(&*s.pending);
    for (const RunRequest* r : queue_->all())
      if (!queue_->is_running(r->run_id)) waiting.push_back(r);
    for (const RunRequest* r : waiting) {
      if (!filter.runbook.empty() && r->runbook_name != filter.runbook) continue;
      if (filter.limit > 0 && count >= size_t(filter.limit)) break;
      if (count++) body += ',';
      body += queued_json(*r);
    }
  }
  if (filter.state != "queued" && (filter.limit <= 0 || count < size_t(filter.limit))) {
    if (filter.limit > 0) filter.limit -= int(count);
    std::string error;
    std::optional<std::vector<RunSummary>> runs = list_runs(state_dir_, filter, &error);
    if (!runs) return error_answer(500, "cannot read the history: " + error);
    for (const RunSummary& run : *runs) {
      if (count++) body += ',';
      body += to_json(run);
    }
  }
  body += ']';
  return json_answer(200, body);
}

HttpResponse Server::get_run(const std::string& id) {
  std::string error;
  std::optional<RecordedRun> run = load_run(state_dir_, id, &error);
  if (run) return json_answer(200, to_json(*run));
  if (!error.empty()) return error_answer(500, "cannot read the history: " + error);
  if (const RunRequest* r = queue_->find(id)) return json_answer(200, queued_json(*r));
  for (const auto& [name, s] : schedules_)
    if (s.pending && s.pending->run_id == id) return json_answer(200, queued_json(*s.pending));
  return error_answer(404, "no run " + id);
}

}  // namespace runbook::serve
