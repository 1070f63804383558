#include "exec/step_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/time_format.hpp"

namespace runbook::exec {
namespace {
constexpr size_t kFlushAt = 64 * 1024;
}

StepLog::~StepLog() {
  close();
}

bool StepLog::open(const std::string& path, std::string* error) {
  close();
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0 && error) *error = "cannot open step log " + path + ": " + std::strerror(errno);
  return fd_ >= 0;
}

void StepLog::write_line(std::chrono::system_clock::time_point ts, bool is_stderr,
                         std::string_view line) {
  append(ts, is_stderr ? "err| " : "out| ", line);
}

void StepLog::write_note(std::chrono::system_clock::time_point ts, std::string_view note) {
  append(ts, "---| ", note);
}

void StepLog::append(std::chrono::system_clock::time_point ts, std::string_view tag,
                     std::string_view line) {
  if (fd_ < 0) return;
  buffer_ += format_rfc3339(ts);
  buffer_ += ' ';
  buffer_ += tag;
  buffer_ += line;
  buffer_ += '\n';
  if (buffer_.size() >= kFlushAt) flush();
}

void StepLog::flush() {
  size_t done = 0;
  while (fd_ >= 0 && done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // a full disk loses log lines, never the run
    done += size_t(n);
  }
  buffer_.clear();
}

void StepLog::close() {
  if (fd_ < 0) return;
  flush();
  ::close(fd_);
  fd_ = -1;
}

}  // namespace runbook::exec
