// The JSON shapes of runs, for `history`/`show --output json` and the HTTP
// API (cli-and-server.md, "JSON shapes").

#include <string>

#include "runbook/store.hpp"
#include "store/json_fields.hpp"
#include "util/json_text.hpp"

namespace runbook {
namespace {

class JsonObject {
 public:
  explicit JsonObject(std::string& out) : out_(out) { out_ += '{'; }
  ~JsonObject() { out_ += '}'; }
  JsonObject(const JsonObject&) = delete;
  JsonObject& operator=(const JsonObject&) = delete;

  // Empty text is null: a time not reached yet, a state not set.
  void text(const char* name, const std::string& value) {
    key(name);
    if (value.empty())
      out_ += "null";
    else
      append_json_string(out_, value);
  }
  void number(const char* name, std::optional<long long> value) {
    key(name);
    out_ += value ? std::to_string(*value) : "null";
  }
  void boolean(const char* name, bool value) {
    key(name);
    out_ += value ? "true" : "false";
  }
  // `json` is already valid JSON text.
  void raw(const char* name, const std::string& json) {
    key(name);
    out_ += json;
  }
  void key(const char* name) {
    if (!first_) out_ += ',';
    first_ = false;
    append_json_string(out_, name);
    out_ += ':';
  }

 private:
  std::string& out_;
  bool first_ = true;
};

std::optional<long long> widen(std::optional<int> v) {
  if (!v) return std::nullopt;
  return *v;
}

std::optional<long long> signal_of(int signal) {
  if (!signal) return std::nullopt;
  return signal;
}

void summary_members(JsonObject& o, const RunSummary& run) {
  o.text("id", run.id);
  o.text("runbook", run.runbook);
  o.text("path", run.path);
  o.text("sha256", run.sha256);
  o.text("state", run.state);
  o.boolean("engine_gone", run.engine_gone);
  o.text("trigger", run.trigger);
  o.text("user", run.user);
  o.text("host", run.host);
  o.number("pid", run.pid);
  o.text("started_at", run.started_at);
  o.text("ended_at", run.ended_at);
  o.number("exit_code", widen(run.exit_code));
  o.text("message", run.message);
  o.text("rollback_state", run.rollback_state);
  o.text("rolled_back_at", run.rolled_back_at);
}

void append_attempt(std::string& out, const AttemptRecord& a) {
  JsonObject o(out);
  o.number("attempt", a.attempt);
  o.text("state", a.state);
  o.number("exit_code", widen(a.exit_code));
  o.number("signal", signal_of(a.signal));
  o.text("started_at", a.started_at);
  o.text("ended_at", a.ended_at);
  o.number("duration_ms", a.duration_ms);
  o.text("message", a.message);
}

void append_rollback(std::string& out, const std::optional<RollbackRecord>& r) {
  JsonObject o(out);
  if (!r) {
    o.text("state", "none");
    return;
  }
  o.text("state", r->state);
  o.number("exit_code", widen(r->exit_code));
  o.number("signal", signal_of(r->signal));
  o.text("started_at", r->started_at);
  o.text("ended_at", r->ended_at);
  o.number("duration_ms", r->duration_ms);
  o.text("log", r->log_path);
  o.text("message", r->message);
}

void append_step(std::string& out, const StepRecord& s) {
  JsonObject o(out);
  o.text("id", s.id);
  o.text("state", s.state);
  o.number("start_order", s.start_order ? std::optional<long long>(s.start_order) : std::nullopt);
  o.text("started_at", s.started_at);
  o.text("ended_at", s.ended_at);
  o.number("exit_code", widen(s.exit_code));
  o.number("signal", signal_of(s.signal));
  o.number("duration_ms", s.duration_ms);
  o.text("log", s.log_path);
  o.text("message", s.message);
  o.key("outputs");
  out += s.outputs_json.empty() ? "{}" : s.outputs_json;
  o.key("attempts");
  out += '[';
  for (size_t i = 0; i < s.attempts.size(); ++i) {
    if (i) out += ',';
    append_attempt(out, s.attempts[i]);
  }
  out += ']';
  o.key("rollback");
  append_rollback(out, s.rollback);
}

void append_hook(std::string& out, const HookRecord& h) {
  JsonObject o(out);
  o.text("id", h.id);
  o.text("state", h.state);
  o.text("started_at", h.started_at);
  o.text("ended_at", h.ended_at);
  o.number("exit_code", widen(h.exit_code));
  o.number("duration_ms", h.duration_ms);
  o.text("log", h.log_path);
  o.text("message", h.message);
}

}  // namespace

std::string to_json(const RunSummary& run) {
  std::string out;
  {
    JsonObject o(out);
    summary_members(o, run);
  }
  return out;
}

std::string to_json(const RecordedRun& run) {
  std::string out;
  {
    JsonObject o(out);
    summary_members(o, run);
    // Params were written masked by the engine; if the row was edited into
    // something that is not an object, keep it as text.
    if (store::parse_json_object(run.params_json))
      o.raw("params", run.params_json);
    else
      o.text("params", run.params_json);
    o.key("steps");
    out += '[';
    for (size_t i = 0; i < run.steps.size(); ++i) {
      if (i) out += ',';
      append_step(out, run.steps[i]);
    }
    out += ']';
    o.key("hooks");
    out += '[';
    for (size_t i = 0; i < run.hooks.size(); ++i) {
      if (i) out += ',';
      append_hook(out, run.hooks[i]);
    }
    out += ']';
  }
  return out;
}

}  // namespace runbook
