#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace runbook::exec {

// Cuts a stream of chunks into lines. A line longer than kMaxLine is cut into
// pieces of that size so that memory stays bounded whatever a step prints.
class LineSplitter {
 public:
  static constexpr size_t kMaxLine = 64 * 1024;

  // Secrets that must not be cut in two where a long line is cut (each piece
  // is masked on its own). The vector must outlive the splitter.
  void set_secrets(const std::vector<std::string>* secrets) { secrets_ = secrets; }

  // Calls `on_line(std::string_view)` for every complete line in `chunk`.
  template <class OnLine>
  void feed(std::string_view chunk, OnLine&& on_line) {
    while (!chunk.empty()) {
      size_t nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        size_t room = kMaxLine - partial_.size();
        if (chunk.size() < room) {
          partial_.append(chunk);
          return;
        }
        partial_.append(chunk.substr(0, room));
        size_t cut = safe_cut();
        on_line(std::string_view(partial_).substr(0, cut));
        partial_.erase(0, cut);
        chunk.remove_prefix(room);
        continue;
      }
      std::string_view line = chunk.substr(0, nl);
      if (!partial_.empty()) {
        partial_.append(line);
        on_line(std::string_view(partial_));
        partial_.clear();
      } else {
        on_line(line);
      }
      chunk.remove_prefix(nl + 1);
    }
  }

  // Calls `on_line` for a last line that had no newline.
  template <class OnLine>
  void finish(OnLine&& on_line) {
    if (!partial_.empty()) on_line(std::string_view(partial_));
    partial_.clear();
  }

 private:
  // Where to cut a full buffer: before the last (longest secret − 1) bytes,
  // which may begin a secret that goes on in the next chunk, and never
  // inside a secret.
  size_t safe_cut() const {
    size_t size = partial_.size();
    if (!secrets_ || secrets_->empty()) return size;
    size_t longest = 0;
    for (const std::string& s : *secrets_) longest = std::max(longest, s.size());
    if (longest == 0 || longest >= size / 2) return size;
    size_t cut = size - (longest - 1);
    for (bool moved = true; moved;) {
      moved = false;
      for (const std::string& s : *secrets_) {
        if (s.empty()) continue;
        size_t from = cut >= s.size() ? cut - s.size() + 1 : 0;
        for (size_t pos = partial_.find(s, from); pos != std::string::npos && pos < cut;
             pos = partial_.find(s, pos + 1)) {
          if (pos + s.size() > cut) {
            cut = pos;
            moved = true;
            break;
          }
        }
      }
    }
    return cut == 0 ? size : cut;
  }

  std::string partial_;
  const std::vector<std::string>* secrets_ = nullptr;
};

// A step's log file: every line of stdout and stderr, interleaved as read,
// each with its time and stream: "2026-11-21T15:30:12.345Z out| text".
// Buffered; never holds more than a small buffer in memory.
//
// The file is created with the first line the step prints, or at close()
// when keep() was called: a step that printed nothing and succeeded at its
// first attempt leaves no file (its start and end are in the audit log and
// the history), and costs no file creation.
class StepLog {
 public:
  StepLog() = default;
  StepLog(const StepLog&) = delete;
  StepLog& operator=(const StepLog&) = delete;
  ~StepLog();

  // Sets the file to append to (mode 0600) once there is something to keep.
  void open(std::string path);
  void write_line(std::chrono::system_clock::time_point ts, bool is_stderr, std::string_view line);
  // A line from the engine itself: "… ---| attempt 2 of 3". Kept only with
  // the step's output, or after keep().
  void write_note(std::chrono::system_clock::time_point ts, std::string_view note);
  // The notes are worth a file of their own (the step failed, or retried).
  void keep() { keep_ = true; }
  void flush();
  void close();
  // Why the file could not be written; empty while all is well.
  const std::string& error() const { return error_; }

 private:
  void append(std::chrono::system_clock::time_point ts, std::string_view tag,
              std::string_view line);
  std::string path_;
  int fd_ = -1;
  bool keep_ = false;
  std::string buffer_;
  std::string error_;
};

}  // namespace runbook::exec
