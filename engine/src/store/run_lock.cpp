// Locks for `lock:` keys: flock on a file per key under STATE/locks/.

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>

#include "runbook/store.hpp"
#include "util/files.hpp"
#include "util/time_format.hpp"

namespace runbook {
namespace {

// The holder's record: "run_id=…\npid=…\nhost=…\nsince=…\n".
std::optional<LockHolder> read_holder(int fd) {
  char buffer[1024];
  ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
  if (n <= 0) return std::nullopt;
  std::istringstream in(std::string(buffer, size_t(n)));
  LockHolder holder;
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string name = line.substr(0, eq), value = line.substr(eq + 1);
    if (name == "run_id") holder.run_id = value;
    if (name == "pid") holder.pid = std::atol(value.c_str());
    if (name == "host") holder.host = value;
    if (name == "since") holder.since = value;
  }
  if (holder.run_id.empty() && holder.pid == 0) return std::nullopt;
  return holder;
}

// "15:30:12" from "2026-11-21T15:30:12.345Z" (UTC, as written), or the date
// too when it is not today.
std::string since_text(const std::string& since) {
  if (since.size() < 19) return since;
  std::string today = format_rfc3339(std::chrono::system_clock::now()).substr(0, 10);
  std::string time = since.substr(11, 8) + " UTC";
  return since.compare(0, 10, today) == 0 ? time : since.substr(0, 10) + " " + time;
}

std::string held_message(std::string_view key, const std::optional<LockHolder>& holder) {
  std::string text = "lock '" + std::string(key) + "' is held by ";
  if (!holder) return text + "another run (it has not said which yet)";
  text += "run " + (holder->run_id.empty() ? std::string("?") : holder->run_id);
  text += " (pid " + std::to_string(holder->pid);
  if (!holder->host.empty()) text += " on host " + holder->host;
  text += ")";
  if (!holder->since.empty()) text += " since " + since_text(holder->since);
  return text;
}

}  // namespace

std::string lock_file_name(std::string_view key) {
  std::string name;
  for (char c : key.substr(0, 64)) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
    name += safe ? c : '_';
  }
  // A leading dot would hide the file, and "." or ".." are not names.
  if (!name.empty() && name[0] == '.') name[0] = '_';
  return name + "-" + sha256_hex(key).substr(0, 8) + ".lock";
}

RunLock::RunLock(RunLock&& other) noexcept
    : fd_(other.fd_), key_(std::move(other.key_)), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    key_ = std::move(other.key_);
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

void RunLock::release() {
  if (fd_ < 0) return;
  // Say nothing stale to whoever reads the file next, then let go.
  if (::ftruncate(fd_, 0) != 0) {
    // Harmless: the next holder rewrites it.
  }
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
  fd_ = -1;
}

LockAttempt acquire_run_lock(const std::string& state_dir, std::string_view key,
                             const std::string& run_id, Duration wait) {
  LockAttempt attempt;
  const std::string dir = state_dir + "/locks";
  std::string error;
  if (!make_directories(dir, &error, 0700)) {
    attempt.message = "cannot use lock '" + std::string(key) + "': " + error;
    return attempt;
  }
  const std::string path = dir + "/" + lock_file_name(key);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    attempt.message = "cannot use lock '" + std::string(key) + "': cannot open " + path + ": " +
                      std::strerror(errno);
    return attempt;
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
    if (errno != EWOULDBLOCK && errno != EINTR) {
      attempt.message = "cannot use lock '" + std::string(key) + "': " + std::strerror(errno);
      ::close(fd);
      return attempt;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      attempt.outcome = LockAttempt::Outcome::held;
      attempt.holder = read_holder(fd);
      attempt.message = held_message(key, attempt.holder);
      ::close(fd);
      return attempt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  LockHolder me;
  me.run_id = run_id;
  me.pid = long(::getpid());
  me.host = current_actor().host;
  me.since = format_rfc3339(std::chrono::system_clock::now());
  std::string text = "run_id=" + me.run_id + "\npid=" + std::to_string(me.pid) +
                     "\nhost=" + me.host + "\nsince=" + me.since + "\n";
  // The record is for people; a lock whose record cannot be written is still
  // held.
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) < 0) {
  }
  attempt.outcome = LockAttempt::Outcome::acquired;
  attempt.lock.fd_ = fd;
  attempt.lock.key_ = std::string(key);
  attempt.lock.path_ = path;
  attempt.holder = me;
  return attempt;
}

}  // namespace runbook
