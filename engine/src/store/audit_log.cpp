// The audit log writer: records queued in memory, appended in one write under
// an exclusive flock, then fsync'd. The chain (seq, prev) is continued from
// the file's last line, read from its end, while the lock is held.

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>

#include "runbook/store.hpp"
#include "store/audit_format.hpp"
#include "store/json_fields.hpp"
#include "util/files.hpp"
#include "util/json_text.hpp"
#include "util/time_format.hpp"

namespace runbook {
namespace {

using store::AuditLineParts;

// The end of the chain as found in the file.
struct ChainEnd {
  long long seq = 0;
  std::string prev = std::string(store::kZeroHash);
};

std::string errno_text(int err) {
  return std::strerror(err);
}

// Reads bytes [from, to) of `fd`.
bool read_range(int fd, off_t from, off_t to, std::string& out) {
  out.resize(size_t(to - from));
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd, out.data() + done, out.size() - done, from + off_t(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += size_t(n);
  }
  return true;
}

// The start of the line that ends at `end` (exclusive): just after the
// previous newline, or 0. Reads backwards in chunks, never the whole file.
bool find_line_start(int fd, off_t end, off_t* start) {
  constexpr off_t kChunk = 8192;
  std::string chunk;
  off_t pos = end;
  while (pos > 0) {
    off_t from = pos > kChunk ? pos - kChunk : 0;
    if (!read_range(fd, from, pos, chunk)) return false;
    size_t nl = chunk.rfind('\n');
    if (nl != std::string::npos) {
      *start = from + off_t(nl) + 1;
      return true;
    }
    pos = from;
  }
  *start = 0;
  return true;
}

class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {
    while ((rc_ = ::flock(fd_, LOCK_EX)) != 0 && errno == EINTR) {
    }
    if (rc_ != 0) err_ = errno;
  }
  ~FileLock() {
    if (rc_ == 0) ::flock(fd_, LOCK_UN);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool ok() const { return rc_ == 0; }
  int err() const { return err_; }

 private:
  int fd_;
  int rc_ = -1;
  int err_ = 0;
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) {
      errno = EIO;
      return false;
    }
    data.remove_prefix(size_t(n));
  }
  return true;
}

std::string parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

namespace {

Actor look_up_actor() {
  Actor actor;
  uid_t uid = ::geteuid();
  actor.uid = long(uid);
  passwd pw{};
  passwd* found = nullptr;
  std::string buffer(16384, '\0');
  if (::getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &found) == 0 && found)
    actor.user = found->pw_name;
  else
    actor.user = std::to_string(uid);
  if (const char* sudo = std::getenv("SUDO_USER"); sudo && *sudo) actor.sudo_user = sudo;
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof host - 1) == 0) actor.host = host;
  return actor;
}

}  // namespace

Actor current_actor() {
  // Looked up once a process: the user database may be a network service.
  static const Actor actor = look_up_actor();
  return actor;
}

std::string audit_log_path(const std::string& state_dir) {
  return state_dir + "/audit.jsonl";
}

// ---- AuditRecord ----

AuditRecord::AuditRecord(std::string event, std::string run_id, SystemTime ts)
    : event_(std::move(event)), run_id_(std::move(run_id)), ts_(ts) {}

AuditRecord& AuditRecord::add(std::string_view name, std::string_view value) {
  members_ += ",\"";
  members_ += name;
  members_ += "\":";
  append_json_string(members_, value);
  return *this;
}

AuditRecord& AuditRecord::add(std::string_view name, long long value) {
  members_ += ",\"";
  members_ += name;
  members_ += "\":";
  members_ += std::to_string(value);
  return *this;
}

AuditRecord& AuditRecord::add_json(std::string_view name, std::string_view json) {
  members_ += ",\"";
  members_ += name;
  members_ += "\":";
  members_ += json;
  return *this;
}

AuditRecord& AuditRecord::add_object(std::string_view name, std::string_view json) {
  return store::parse_json_object(json) ? add_json(name, json) : add(name, json);
}

AuditRecord& AuditRecord::trigger(std::string_view trigger) {
  trigger_ = trigger;
  return *this;
}

// ---- AuditLog ----

AuditLog::AuditLog(std::string path, Actor actor)
    : path_(std::move(path)), actor_(std::move(actor)) {}

AuditLog::~AuditLog() {
  if (!queue_.empty()) flush();
  if (fd_ >= 0) ::close(fd_);
}

void AuditLog::append(AuditRecord record) {
  if (!error_.empty()) return;
  queue_.push_back(std::move(record));
}

bool AuditLog::open_file() {
  const int flags = O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC;
  bool created = ::access(path_.c_str(), F_OK) != 0;
  fd_ = ::open(path_.c_str(), flags, 0600);
  if (fd_ < 0 && errno == ENOENT) {
    std::string dir_error;
    if (!make_directories(parent_dir(path_), &dir_error, 0700)) {
      error_ = "cannot write audit log " + path_ + ": " + dir_error;
      return false;
    }
    fd_ = ::open(path_.c_str(), flags, 0600);
  }
  if (fd_ < 0) {
    error_ = "cannot write audit log " + path_ + ": " + errno_text(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && !S_ISREG(st.st_mode)) {
    error_ = "cannot write audit log " + path_ + ": not a regular file";
    return false;
  }
  if (created) {
    // The new file's name must survive a crash too.
    int dir = ::open(parent_dir(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }
  return true;
}

namespace {

// Reads the chain's end under the lock. A torn last line (a crash cut it
// off: no newline, or not a record) is cut away; `torn` then holds it.
bool read_chain_end(int fd, const std::string& path, ChainEnd* end, std::string* torn,
                    std::string* error) {
  auto fail = [&](const std::string& why) {
    *error = "cannot write audit log " + path + ": " + why;
    return false;
  };
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(errno_text(errno));
  off_t size = st.st_size;
  if (size == 0) return true;

  std::string last;
  if (!read_range(fd, size - 1, size, last)) return fail(errno_text(errno ? errno : EIO));
  off_t start = 0;
  std::string line;
  if (last != "\n") {
    if (!find_line_start(fd, size, &start)) return fail(errno_text(errno ? errno : EIO));
    if (!read_range(fd, start, size, *torn)) return fail(errno_text(errno ? errno : EIO));
  } else {
    if (!find_line_start(fd, size - 1, &start)) return fail(errno_text(errno ? errno : EIO));
    if (!read_range(fd, start, size - 1, line)) return fail(errno_text(errno ? errno : EIO));
    if (!store::split_audit_line(line)) *torn = line + "\n";
  }
  if (!torn->empty()) {
    if (::ftruncate(fd, start) != 0) return fail(errno_text(errno));
    size = start;
    if (size == 0) return true;
    if (!find_line_start(fd, size - 1, &start)) return fail(errno_text(errno ? errno : EIO));
    if (!read_range(fd, start, size - 1, line)) return fail(errno_text(errno ? errno : EIO));
  }
  std::optional<AuditLineParts> parts = store::split_audit_line(line);
  if (!parts)
    return fail("its last record is not valid (check it with `runbook audit verify --file " + path +
                "`)");
  end->seq = parts->seq;
  end->prev = sha256_hex(line);
  return true;
}

}  // namespace

bool AuditLog::flush() {
  if (!error_.empty()) return false;
  if (queue_.empty()) return true;
  if (fd_ < 0 && !open_file()) return false;

  FileLock lock(fd_);
  if (!lock.ok()) {
    error_ = "cannot lock audit log " + path_ + ": " + errno_text(lock.err());
    return false;
  }
  ChainEnd end;
  std::string torn;
  struct stat st {};
  if (written_size_ >= 0 && ::fstat(fd_, &st) == 0 && st.st_size == written_size_) {
    end.seq = written_seq_;
    end.prev = written_prev_;
  } else if (!read_chain_end(fd_, path_, &end, &torn, &error_)) {
    return false;
  }

  std::vector<AuditRecord> records;
  if (!torn.empty()) {
    AuditRecord cut("audit.truncated", queue_.front().run_id());
    cut.add("message", "removed a torn last line of " + std::to_string(torn.size()) + " bytes");
    cut.add("removed", std::string_view(torn).substr(0, 1024));
    records.push_back(std::move(cut));
  }
  for (AuditRecord& r : queue_) records.push_back(std::move(r));
  queue_.clear();

  std::string text;
  for (const AuditRecord& r : records) {
    std::string line = "{\"seq\":" + std::to_string(++end.seq) + ",\"ts\":";
    append_json_string(line, format_rfc3339(r.ts()));
    line += ",\"run_id\":";
    append_json_string(line, r.run_id());
    line += ",\"event\":";
    append_json_string(line, r.event());
    line += ",\"user\":";
    append_json_string(line, actor_.user);
    line += ",\"uid\":" + std::to_string(actor_.uid);
    if (!actor_.sudo_user.empty()) {
      line += ",\"sudo_user\":";
      append_json_string(line, actor_.sudo_user);
    }
    line += ",\"host\":";
    append_json_string(line, actor_.host);
    if (!r.trigger().empty()) {
      line += ",\"trigger\":";
      append_json_string(line, r.trigger());
    }
    line += r.members();
    line += ",\"prev\":\"" + end.prev + "\"";
    line += ",\"hash\":\"" + store::audit_line_hash(line) + "\"}";
    end.prev = sha256_hex(line);
    text += line;
    text += '\n';
  }
  if (!write_all(fd_, text) || ::fsync(fd_) != 0) {
    error_ = "cannot write audit log " + path_ + ": " + errno_text(errno);
    return false;
  }
  written_size_ = ::fstat(fd_, &st) == 0 ? st.st_size : -1;
  written_seq_ = end.seq;
  written_prev_ = end.prev;
  return true;
}

}  // namespace runbook
