#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace runbook::exec {

// Cuts a stream of chunks into lines. A line longer than kMaxLine is cut into
// pieces of that size so that memory stays bounded whatever a step prints.
class LineSplitter {
 public:
  static constexpr size_t kMaxLine = 64 * 1024;

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
        on_line(std::string_view(partial_));
        partial_.clear();
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
  std::string partial_;
};

// A step's log file: every line of stdout and stderr, interleaved as read,
// each with its time and stream: "2026-11-21T15:30:12.345Z out| text".
// Buffered; never holds more than a small buffer in memory.
class StepLog {
 public:
  StepLog() = default;
  StepLog(const StepLog&) = delete;
  StepLog& operator=(const StepLog&) = delete;
  ~StepLog();

  // Opens `path` for appending (mode 0600). False with `error` set otherwise.
  bool open(const std::string& path, std::string* error);
  bool is_open() const { return fd_ >= 0; }
  void write_line(std::chrono::system_clock::time_point ts, bool is_stderr, std::string_view line);
  // A line from the engine itself: "… ---| attempt 2 of 3".
  void write_note(std::chrono::system_clock::time_point ts, std::string_view note);
  void flush();
  void close();

 private:
  void append(std::chrono::system_clock::time_point ts, std::string_view tag,
              std::string_view line);
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace runbook::exec
