#include <string>

#include "runbook/sinks.hpp"
#include "util/json_text.hpp"
#include "util/time_format.hpp"

namespace runbook {
namespace {

class JsonSink : public EventSink {
 public:
  explicit JsonSink(std::FILE* out) : out_(out) {}

  void on_event(const Event& e) override {
    line_.clear();
    line_ += "{\"event\":";
    append_json_string(line_, to_string(e.kind));
    line_ += ",\"ts\":";
    append_json_string(line_, format_rfc3339(e.ts));
    line_ += ",\"run_id\":";
    append_json_string(line_, e.run_id);
    if (!e.step_id.empty()) {
      line_ += ",\"step_id\":";
      append_json_string(line_, e.step_id);
    }
    bool per_attempt = e.kind == EventKind::attempt_started || e.kind == EventKind::attempt_ended ||
                       e.kind == EventKind::output;
    if (per_attempt && std::string_view(e.of) != "step") field("of", e.of);
    switch (e.kind) {
      case EventKind::run_started:
        field("runbook", e.runbook_name);
        field("path", e.runbook_path);
        line_ += ",\"steps\":" + std::to_string(e.total_steps);
        break;
      case EventKind::output:
        line_ += ",\"attempt\":" + std::to_string(e.attempt);
        field("stream", e.is_stderr ? "stderr" : "stdout");
        field("line", e.line);
        break;
      case EventKind::attempt_started:
        line_ += ",\"attempt\":" + std::to_string(e.attempt);
        line_ += ",\"max_attempts\":" + std::to_string(e.max_attempts);
        break;
      case EventKind::step_started:
      case EventKind::rollback_started:
      case EventKind::hook_started:
        field("command", e.message);
        if (!e.log_path.empty()) field("log", e.log_path);
        break;
      case EventKind::attempt_ended:
      case EventKind::step_ended:
      case EventKind::rollback_ended:
      case EventKind::hook_ended:
        if (e.attempt) line_ += ",\"attempt\":" + std::to_string(e.attempt);
        field("state", to_string(e.state));
        if (e.exit_code) line_ += ",\"exit_code\":" + std::to_string(*e.exit_code);
        if (e.signal) line_ += ",\"signal\":" + std::to_string(e.signal);
        if (e.state != StepState::not_run)
          line_ += ",\"duration_ms\":" + std::to_string(e.duration.count());
        if (e.retry_in) line_ += ",\"retry_in_ms\":" + std::to_string(e.retry_in->count());
        if (!e.message.empty()) field("message", e.message);
        if (!e.outputs_json.empty()) line_ += ",\"outputs\":" + e.outputs_json;
        break;
      case EventKind::warning:
      case EventKind::confirm_asked:
      case EventKind::confirm_answered:
        field("message", e.message);
        break;
      case EventKind::run_ended:
        field("state", to_string(e.run_state));
        line_ += ",\"exit_code\":" + std::to_string(exit_code_for(e.run_state));
        line_ += ",\"duration_ms\":" + std::to_string(e.duration.count());
        if (!e.message.empty()) field("message", e.message);
        break;
    }
    line_ += "}\n";
    std::fwrite(line_.data(), 1, line_.size(), out_);
    if (e.kind != EventKind::output) std::fflush(out_);
  }

 private:
  void field(const char* name, std::string_view value) {
    line_ += ",\"";
    line_ += name;
    line_ += "\":";
    append_json_string(line_, value);
  }

  std::FILE* out_;
  std::string line_;
};

}  // namespace

std::unique_ptr<EventSink> make_json_sink(std::FILE* out) {
  return std::make_unique<JsonSink>(out);
}

}  // namespace runbook
