#include "exec/step_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/files.hpp"
#include "util/time_format.hpp"

namespace runbook::exec {
namespace {
constexpr size_t kFlushAt = 64 * 1024;
}

StepLog::~StepLog() {
  close();
}

void StepLog::open(std::string path) {
  close();
  path_ = std::move(path);
  keep_ = false;
  error_.clear();
}

void StepLog::write_line(std::chrono::system_clock::time_point ts, bool is_stderr,
                         std::string_view line) {
  keep_ = true;
  append(ts, is_stderr ? "err| " : "out| ", line);
}

void StepLog::write_note(std::chrono::system_clock::time_point ts, std::string_view note) {
  append(ts, "---| ", note);
}

void StepLog::append(std::chrono::system_clock::time_point ts, std::string_view tag,
                     std::string_view line) {
  if (path_.empty()) return;
  buffer_ += format_rfc3339(ts);
  buffer_ += ' ';
  buffer_ += tag;
  buffer_ += line;
  buffer_ += '\n';
  if (buffer_.size() >= kFlushAt) flush();
}

void StepLog::flush() {
  if (buffer_.empty() || !keep_ || path_.empty()) return;
  if (fd_ < 0 && error_.empty()) {
    const int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
    fd_ = ::open(path_.c_str(), flags, 0600);
    if (fd_ < 0 && errno == ENOENT) {
      // The run's directory is made with its first log: a run whose steps
      // print nothing leaves none.
      std::string dir_error;
      if (!make_directories(path_.substr(0, path_.rfind('/')), &dir_error, 0700)) {
        error_ = "cannot open step log " + path_ + ": " + dir_error;
        buffer_.clear();
        return;
      }
      fd_ = ::open(path_.c_str(), flags, 0600);
    }
    if (fd_ < 0) error_ = "cannot open step log " + path_ + ": " + std::strerror(errno);
  }
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
  flush();
  buffer_.clear();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace runbook::exec
