#include <deque>
#include <map>
#include <string>
#include <vector>

#include "runbook/sinks.hpp"
#include "util/time_format.hpp"

namespace runbook {
namespace {

constexpr size_t kFailedTailLines = 20;

const char* kReset = "\x1b[0m";
const char* kRed = "\x1b[31m";
const char* kGreen = "\x1b[32m";
const char* kYellow = "\x1b[33m";
const char* kDim = "\x1b[2m";
const char* kBold = "\x1b[1m";

struct StepRow {
  std::string id;
  StepState state = StepState::pending;
  int attempts = 0;
  Duration duration{0};
  std::optional<int> exit_code;
  int signal = 0;
  std::string message;
  std::string rollback;  // "", "succeeded", "failed"
  std::string log_path;
  std::chrono::steady_clock::time_point started;
  std::string last_line;
  std::deque<std::string> tail;  // last lines, for a failure
};

class TerminalSink : public EventSink {
 public:
  explicit TerminalSink(const TerminalOptions& o) : o_(o) {}
  ~TerminalSink() override { std::fflush(o_.out); }

  std::optional<Duration> tick_interval() const override {
    if (o_.live) return Duration(100);
    return std::nullopt;
  }

  void on_tick() override {
    if (o_.live) redraw();
  }

  void on_event(const Event& e) override {
    switch (e.kind) {
      case EventKind::run_started:
        run_id_ = e.run_id;
        rollback_only_ = e.rollback_only;
        total_ = e.total_steps;
        above(paint(kBold, "run " + e.run_id) + " " + e.runbook_name + " (" +
              std::to_string(e.total_steps) + (e.total_steps == 1 ? " step)" : " steps)"));
        break;
      case EventKind::step_started: {
        StepRow& row = row_for(e.step_id);
        row.state = StepState::running;
        row.started = std::chrono::steady_clock::now();
        row.log_path = e.log_path;
        running_.push_back(e.step_id);
        if (!o_.live) plain(e, "started");
        break;
      }
      case EventKind::attempt_started:
        // Attempts of a rollback or hook are not the step's.
        if (std::string_view(e.of) == "step") row_for(e.step_id).attempts = e.attempt;
        if (e.attempt > 1 && !o_.live)
          plain(e,
                "attempt " + std::to_string(e.attempt) + " of " + std::to_string(e.max_attempts));
        break;
      case EventKind::output: {
        auto it = rows_.find(e.step_id);
        if (it != rows_.end()) {
          StepRow& row = it->second;
          row.last_line.assign(e.line);
          row.tail.emplace_back(e.line);
          if (row.tail.size() > kFailedTailLines) row.tail.pop_front();
        }
        if (!o_.live) plain(e, e.line);
        break;
      }
      case EventKind::attempt_ended:
        if (e.state != StepState::succeeded && e.retry_in) {
          std::string text = "attempt " + std::to_string(e.attempt) + " of " +
                             std::to_string(e.max_attempts) + " " + to_string(e.state) + ": " +
                             e.message + "; next attempt in " + format_elapsed(*e.retry_in);
          if (o_.live) {
            above(paint(kYellow, "↻ ") + e.step_id + "  " + text);
          } else {
            plain(e, text);
          }
        }
        break;
      case EventKind::step_ended:
        step_ended(e);
        break;
      case EventKind::rollback_started:
        if (!rolling_back_) above(paint(kYellow, "rolling back, newest first:"));
        rolling_back_ = true;
        running_.push_back(e.step_id);
        rows_[e.step_id].started = std::chrono::steady_clock::now();
        if (!o_.live) plain(e, "rollback started");
        break;
      case EventKind::rollback_ended: {
        std::erase(running_, e.step_id);
        StepRow& row = row_for(e.step_id);
        row.rollback = e.state == StepState::succeeded ? "succeeded" : "failed";
        if (e.state != StepState::succeeded) failed_rollbacks_.push_back(e.step_id);
        finished_line(e, "rollback " + std::string(to_string(e.state)),
                      e.state == StepState::succeeded);
        break;
      }
      case EventKind::hook_started:
        running_.push_back(e.step_id);
        rows_[e.step_id].started = std::chrono::steady_clock::now();
        if (!o_.live) plain(e, "hook started");
        break;
      case EventKind::hook_ended:
        std::erase(running_, e.step_id);
        finished_line(e, "hook " + std::string(to_string(e.state)),
                      e.state == StepState::succeeded);
        break;
      case EventKind::confirm_asked:
        clear_board();
        prompting_ = true;
        std::fprintf(o_.out, "%s %s: %s [y/N] ", paint(kBold, "?").c_str(), e.step_id.c_str(),
                     e.message.c_str());
        break;
      case EventKind::confirm_answered:
        prompting_ = false;
        if (!o_.live) plain(e, "confirmation: " + e.message);
        break;
      case EventKind::warning:
        above(paint(kYellow, "warning: ") + e.message);
        break;
      case EventKind::run_ended:
        run_ended(e);
        break;
    }
    if (o_.live && e.kind != EventKind::output) redraw();
    // A question must show before the answer is read; the rest is written
    // at flush(), once per turn of the executor's loop: a step printing
    // many lines costs a write per chunk it printed, not one a line.
    if (o_.live || e.kind == EventKind::confirm_asked) std::fflush(o_.out);
  }

  void flush() override { std::fflush(o_.out); }

 private:
  StepRow& row_for(const std::string& id) {
    auto [it, inserted] = rows_.try_emplace(id);
    if (inserted) {
      it->second.id = id;
      order_.push_back(id);
    }
    return it->second;
  }

  std::string paint(const char* colour, const std::string& text) const {
    return o_.color ? colour + text + kReset : text;
  }

  // Plain mode: "HH:MM:SS step-id | text".
  void plain(const Event& e, std::string_view text) {
    std::string line =
        format_clock(e.ts) + " " + (e.step_id.empty() ? "runbook" : e.step_id) + " | ";
    line.append(text);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), o_.out);
  }

  // A line that stays: printed above the live board (or as is when plain).
  void above(const std::string& text) {
    clear_board();
    if (o_.live) {
      std::fprintf(o_.out, "%s\n", text.c_str());
    } else {
      std::fprintf(o_.out, "%s runbook | %s\n",
                   format_clock(std::chrono::system_clock::now()).c_str(), text.c_str());
    }
  }

  void finished_line(const Event& e, const std::string& what, bool ok) {
    std::string text = what + " in " + format_elapsed(e.duration);
    if (!e.message.empty() && !ok) text += ": " + e.message;
    if (!o_.live) return plain(e, text);
    above(paint(ok ? kGreen : kRed, ok ? "✓ " : "✗ ") + e.step_id + "  " + paint(kDim, text));
  }

  void step_ended(const Event& e) {
    std::erase(running_, e.step_id);
    StepRow& row = row_for(e.step_id);
    row.state = e.state;
    row.duration = e.duration;
    row.exit_code = e.exit_code;
    row.signal = e.signal;
    row.message = e.message;
    if (e.state == StepState::not_run) return;  // listed in the summary
    // Items of a for_each step ("deploy[2]") are not steps of the total.
    if (e.step_id.find('[') == std::string::npos) ++done_;
    bool ok = e.state == StepState::succeeded || e.state == StepState::skipped;
    // "failed in 12ms: failed: X" says it twice.
    std::string message = e.message;
    if (e.state == StepState::failed && message.rfind("failed: ", 0) == 0) message.erase(0, 8);
    if (!o_.live) {
      std::string text = std::string(to_string(e.state)) + " in " + format_elapsed(e.duration);
      if (!message.empty()) text += ": " + message;
      plain(e, text);
      if (!ok && e.state != StepState::cancelled && !row.log_path.empty())
        plain(e, "log: " + row.log_path);
      return;
    }
    std::string mark =
        ok ? paint(kGreen, "✓ ") : paint(e.state == StepState::cancelled ? kYellow : kRed, "✗ ");
    std::string text = std::string(to_string(e.state)) + " in " + format_elapsed(e.duration);
    if (!message.empty() && !ok) text += ": " + message;
    above(mark + paint(kBold, e.step_id) + "  " + paint(kDim, text));
    if (!ok && e.state != StepState::cancelled) {
      for (const std::string& line : row.tail) above(paint(kDim, "    │ ") + line);
      if (!row.log_path.empty()) above(paint(kDim, "    log: " + row.log_path));
    }
  }

  void run_ended(const Event& e) {
    clear_board();
    finished_ = true;
    running_.clear();
    std::string out = "\n";
    out += "  STEP" + std::string(pad_width() - 4, ' ') +
           "STATE            ATTEMPTS  DURATION  EXIT  ROLLBACK\n";
    for (const std::string& id : order_) {
      const StepRow& r = rows_[id];
      if (r.state == StepState::pending && r.attempts == 0 && r.rollback.empty()) continue;
      std::string state = to_string(r.state);
      std::string exit = r.exit_code ? std::to_string(*r.exit_code)
                         : r.signal  ? "sig" + std::to_string(r.signal)
                                     : "-";
      char line[512];
      std::snprintf(line, sizeof line, "  %-*s%-17s%-10s%-10s%-6s%s\n", int(pad_width()),
                    id.c_str(), state.c_str(),
                    r.attempts ? std::to_string(r.attempts).c_str() : "-",
                    r.state == StepState::not_run ? "-" : format_elapsed(r.duration).c_str(),
                    exit.c_str(), r.rollback.empty() ? "-" : r.rollback.c_str());
      const char* colour = r.state == StepState::succeeded ? kGreen
                           : r.state == StepState::skipped || r.state == StepState::not_run ||
                                   r.state == StepState::cancelled
                               ? kYellow
                               : kRed;
      out += o_.color ? colour + std::string(line) + kReset : line;
    }
    out += "\n";
    const char* colour = e.run_state == RunState::succeeded ? kGreen : kRed;
    std::string verdict =
        "run " + e.run_id + " " + to_string(e.run_state) + " in " + format_elapsed(e.duration);
    if (rollback_only_) {
      // `runbook rollback`: the run stays failed; what matters is the rollback.
      bool ok = e.run_state == RunState::failed;
      colour = ok ? kGreen : kRed;
      verdict = "rollback of run " + e.run_id + (ok ? ": every rollback succeeded" : ": FAILED") +
                " in " + format_elapsed(e.duration);
    }
    out += paint(colour, paint(kBold, verdict)) + "\n";
    if (!e.message.empty() && !rollback_only_) out += "  reason: " + e.message + "\n";
    if (!failed_rollbacks_.empty()) {
      out += paint(kRed, "  rollback FAILED for:");
      for (const std::string& id : failed_rollbacks_) out += " " + id;
      out += "\n  The system may be half-changed: a person must look.\n";
    }
    std::fwrite(out.data(), 1, out.size(), o_.out);
  }

  // `text` cut to `columns` bytes (with an ellipsis) so a board line fits.
  static std::string fit(const std::string& text, int columns) {
    if (columns < 4) columns = 4;
    if (int(text.size()) <= columns) return text;
    return text.substr(0, size_t(columns - 1)) + "…";
  }

  size_t pad_width() const {
    size_t w = 6;
    for (const std::string& id : order_) w = std::max(w, id.size() + 2);
    return std::min<size_t>(w, 40);
  }

  // ---- the live board ----

  void clear_board() {
    if (!o_.live || board_lines_ == 0) return;
    std::fprintf(o_.out, "\x1b[%dA\x1b[J", board_lines_);
    board_lines_ = 0;
  }

  void redraw() {
    if (prompting_) return;  // the question stays on screen until answered
    clear_board();
    if (running_.empty() && total_ == 0) return;
    auto now = std::chrono::steady_clock::now();
    static const char* kSpinner[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
    ++frame_;
    int lines = 0;
    std::string board;
    for (const std::string& id : running_) {
      const StepRow& r = rows_[id];
      auto elapsed = std::chrono::duration_cast<Duration>(now - r.started);
      std::string head = std::string(kSpinner[frame_ % 10]) + " " + fit(id, o_.width - 16) + "  " +
                         format_elapsed(elapsed);
      std::string tail = r.last_line;
      // A board line must never wrap: the redraw counts lines, not rows.
      int room =
          o_.width - int(std::min<size_t>(id.size(), size_t(std::max(o_.width - 16, 1)))) - 20;
      if (room < 0) room = 0;
      if (int(tail.size()) > room) tail = tail.substr(0, size_t(room));
      board += paint(kYellow, head) + (tail.empty() ? "" : "  " + paint(kDim, tail)) + "\n";
      ++lines;
    }
    if (phase_shown()) {
      board += paint(kBold, "[" + std::to_string(done_) + "/" + std::to_string(total_) + "]") +
               " " + std::to_string(running_.size()) + " running\n";
      ++lines;
    }
    std::fwrite(board.data(), 1, board.size(), o_.out);
    board_lines_ = lines;
  }

  bool phase_shown() const { return total_ > 0 && !finished_; }

  TerminalOptions o_;
  std::string run_id_;
  std::map<std::string, StepRow> rows_;
  std::vector<std::string> order_;
  std::vector<std::string> running_;
  std::vector<std::string> failed_rollbacks_;
  int total_ = 0;
  int done_ = 0;
  int board_lines_ = 0;
  unsigned frame_ = 0;
  bool rolling_back_ = false;
  bool finished_ = false;
  bool prompting_ = false;
  bool rollback_only_ = false;
};

}  // namespace

std::unique_ptr<EventSink> make_terminal_sink(const TerminalOptions& options) {
  return std::make_unique<TerminalSink>(options);
}

}  // namespace runbook
