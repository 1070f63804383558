// Reading the audit log: checking its chain, and its latest records.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "runbook/store.hpp"
#include "store/audit_format.hpp"
#include "store/json_fields.hpp"

namespace runbook {
namespace {

// Reads a file line by line, front to back, saying whether each line ended
// with a newline; one line of look-ahead.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}

  // False at the end of the file or on a read error (see failed()).
  bool next(std::string& line, bool& has_newline) {
    if (peeked_) {
      peeked_ = false;
      line.swap(peek_line_);
      has_newline = peek_newline_;
      return true;
    }
    return read_line(line, has_newline);
  }
  // The line after the current one, without consuming it.
  bool peek(std::string& line) {
    if (!peeked_) {
      if (!read_line(peek_line_, peek_newline_)) return false;
      peeked_ = true;
    }
    line = peek_line_;
    return true;
  }
  int failed() const { return error_; }

 private:
  bool read_line(std::string& line, bool& has_newline) {
    line.clear();
    while (true) {
      if (start_ == buffer_.size()) {
        buffer_.resize(65536);
        ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
        if (n < 0 && errno == EINTR) {
          buffer_.clear();
          start_ = 0;
          continue;
        }
        if (n < 0) error_ = errno;
        buffer_.resize(n > 0 ? size_t(n) : 0);
        start_ = 0;
        if (n <= 0) {
          has_newline = false;
          return !line.empty();
        }
      }
      size_t nl = buffer_.find('\n', start_);
      if (nl == std::string::npos) {
        line.append(buffer_, start_, std::string::npos);
        start_ = buffer_.size();
        continue;
      }
      line.append(buffer_, start_, nl - start_);
      start_ = nl + 1;
      has_newline = true;
      return true;
    }
  }

  int fd_;
  std::string buffer_;
  size_t start_ = 0;
  int error_ = 0;
  bool peeked_ = false;
  std::string peek_line_;
  bool peek_newline_ = false;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string where(size_t line, std::optional<long long> seq) {
  std::string s = "line " + std::to_string(line);
  if (seq) s += " (seq " + std::to_string(*seq) + ")";
  return s;
}

std::optional<long long> seq_of(std::string_view line) {
  if (auto parts = store::split_audit_line(line)) return parts->seq;
  return std::nullopt;
}

}  // namespace

AuditCheck verify_audit_log(const std::string& file) {
  AuditCheck check;
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    check.outcome = AuditCheck::Outcome::unreadable;
    check.problem = "cannot read " + file + ": " + std::strerror(errno);
    return check;
  }
  LineReader reader(fd.get());
  std::string line, prev_hash(store::kZeroHash);
  bool has_newline = false;
  long long expected = 1;
  auto bad = [&](std::optional<long long> seq, std::string what) {
    check.outcome = AuditCheck::Outcome::bad;
    check.seq = seq;
    check.problem = where(check.line, seq) + ": " + what;
    return check;
  };
  while (reader.next(line, has_newline)) {
    ++check.line;
    std::optional<store::AuditLineParts> parts = store::split_audit_line(line);
    std::optional<long long> seq = parts ? std::optional<long long>(parts->seq) : std::nullopt;
    if (!has_newline) {
      check.outcome = AuditCheck::Outcome::bad;
      check.seq = seq;
      check.problem = "line " + std::to_string(check.line) +
                      " is torn (no newline at the end): the log was cut off, e.g. by a crash; "
                      "the next run that writes to it removes the torn line and records that "
                      "it did";
      return check;
    }
    if (!parts) {
      bool json = store::parse_json_object(line).has_value();
      return bad(seq, json ? "not an audit record: no seq first, or no prev and hash last"
                           : "not an audit record: not valid JSON");
    }
    if (store::audit_line_hash(parts->hashed) != parts->hash)
      return bad(seq,
                 "its hash does not match its content: the record was changed after it "
                 "was written");
    std::optional<std::vector<store::JsonMember>> members = store::parse_json_object(line);
    if (!members) return bad(seq, "not valid JSON, although its hash matches");
    if (parts->seq != expected) {
      if (parts->seq > expected) {
        std::string next;
        if (reader.peek(next) && seq_of(next) == expected)
          return bad(seq, "out of order: seq " + std::to_string(parts->seq) + " comes before seq " +
                              std::to_string(expected) + " (records were reordered)");
        long long missing = parts->seq - expected;
        return bad(seq, "expected seq " + std::to_string(expected) + ": " +
                            std::to_string(missing) +
                            (missing == 1 ? " record is" : " records are") +
                            " missing before it (deleted)");
      }
      return bad(seq, "expected seq " + std::to_string(expected) + ", found " +
                          std::to_string(parts->seq) + ": records were reordered or repeated");
    }
    if (parts->prev != prev_hash)
      return bad(seq, check.line == 1
                          ? "prev should be 64 zeros on the first line: records before it were "
                            "removed"
                          : "prev is not the SHA-256 of line " + std::to_string(check.line - 1) +
                                ": a record was replaced, inserted or removed");
    if (const store::JsonMember* event = store::find_member(*members, "event");
        event && event->value == "audit.truncated")
      ++check.truncations;
    prev_hash = sha256_hex(line);
    ++expected;
    ++check.records;
  }
  if (reader.failed()) {
    check.outcome = AuditCheck::Outcome::unreadable;
    check.problem = "cannot read " + file + ": " + std::strerror(reader.failed());
  }
  return check;
}

// ---- tail ----

namespace {

AuditEntry decode_entry(std::string line) {
  AuditEntry entry;
  std::optional<std::vector<store::JsonMember>> members = store::parse_json_object(line);
  entry.line = std::move(line);
  if (!members) {
    entry.event = "(not a record)";
    return entry;
  }
  auto text = [&](const char* name) -> std::string {
    const store::JsonMember* m = store::find_member(*members, name);
    return m ? m->value : std::string();
  };
  auto number = [&](const char* name) -> std::optional<long long> {
    const store::JsonMember* m = store::find_member(*members, name);
    if (!m || m->kind != store::JsonMember::Kind::number) return std::nullopt;
    return std::strtoll(m->value.c_str(), nullptr, 10);
  };
  entry.seq = number("seq").value_or(0);
  entry.ts = text("ts");
  entry.run_id = text("run_id");
  entry.event = text("event");
  entry.step_id = text("step_id");
  entry.state = text("state");
  entry.message = text("message");
  entry.user = text("user");
  entry.trigger = text("trigger");
  entry.of = text("of");
  entry.attempt = number("attempt");
  entry.exit_code = number("exit_code");
  entry.signal = number("signal");
  entry.duration_ms = number("duration_ms");
  return entry;
}

bool read_at(int fd, off_t from, size_t size, std::string& out) {
  out.resize(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, out.data() + done, size - done, from + off_t(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += size_t(n);
  }
  return true;
}

}  // namespace

std::optional<std::vector<AuditEntry>> tail_audit_log(const std::string& file, size_t count,
                                                      const std::string& run_id,
                                                      std::string* error) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
    if (error) *error = "cannot read " + file + ": " + std::strerror(errno);
    return std::nullopt;
  }
  // Walk back from the end a chunk at a time; `partial` is the start of a
  // line whose beginning lies in an earlier chunk.
  std::vector<AuditEntry> newest_first;
  constexpr off_t kChunk = 65536;
  off_t pos = st.st_size;
  std::string chunk, partial;
  auto take = [&](std::string line) {
    if (line.empty()) return;
    // Most lines of a long log are other runs': skip them before decoding.
    if (!run_id.empty() && line.find(run_id) == std::string::npos) return;
    AuditEntry entry = decode_entry(std::move(line));
    if (run_id.empty() || entry.run_id == run_id) newest_first.push_back(std::move(entry));
  };
  while (pos > 0 && newest_first.size() < count) {
    off_t from = pos > kChunk ? pos - kChunk : 0;
    if (!read_at(fd.get(), from, size_t(pos - from), chunk)) {
      if (error) *error = "cannot read " + file + ": " + std::strerror(errno ? errno : EIO);
      return std::nullopt;
    }
    chunk += partial;
    size_t end = chunk.size();
    while (newest_first.size() < count) {
      size_t nl = end == 0 ? std::string::npos : chunk.rfind('\n', end - 1);
      if (nl == std::string::npos) break;
      take(chunk.substr(nl + 1, end - nl - 1));
      end = nl;
    }
    partial = chunk.substr(0, end);
    pos = from;
  }
  if (pos == 0 && newest_first.size() < count) take(partial);
  std::reverse(newest_first.begin(), newest_first.end());
  return newest_first;
}

}  // namespace runbook
