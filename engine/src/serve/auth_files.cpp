// Reading the files that hold the trigger server's credentials, refusing any
// that others could read.

#include "serve/auth_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

namespace runbook::serve {

namespace {

constexpr size_t kMaxSecretFileBytes = size_t{1024} * 1024;

// Opens a file that holds secrets, refusing one that others may read.
std::optional<std::string> read_private_file(const std::string& path, std::string_view what,
                                             Diagnostics& diags) {
  // O_NONBLOCK: a FIFO must not hang the server; it is refused below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    diags.error(path, {}, "cannot read the " + std::string(what) + ": " + std::strerror(errno));
    return std::nullopt;
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    diags.error(path, {}, "cannot read the " + std::string(what) + ": " + std::strerror(errno));
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    diags.error(path, {}, "the " + std::string(what) + " is not a regular file");
    return std::nullopt;
  }
  if ((st.st_mode & 077) != 0) {
    std::array<char, 8> mode{};
    std::snprintf(mode.data(), mode.size(), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    diags.error(path, {},
                "permissions " + std::string(mode.data()) + " of the " + std::string(what) +
                    " are too open: it must not be accessible by group or others",
                "chmod 600 " + path);
    return std::nullopt;
  }
  std::string data;
  std::array<char, 8192> buffer{};
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      diags.error(path, {}, "cannot read the " + std::string(what) + ": " + std::strerror(errno));
      return std::nullopt;
    }
    if (n == 0) break;
    data.append(buffer.data(), static_cast<size_t>(n));
    if (data.size() > kMaxSecretFileBytes) {
      diags.error(path, {},
                  "the " + std::string(what) + " is larger than " +
                      std::to_string(kMaxSecretFileBytes) + " bytes");
      return std::nullopt;
    }
  }
  return data;
}

}  // namespace

std::optional<std::vector<std::string>> load_bearer_tokens(const std::string& path,
                                                           Diagnostics& diags) {
  std::optional<std::string> text = read_private_file(path, "bearer tokens file", diags);
  if (!text) return std::nullopt;
  std::vector<std::string> tokens;
  std::set<std::string> seen;
  bool ok = true;
  int line_number = 0;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    const std::string_view line = std::string_view(*text).substr(start, end - start);
    ++line_number;
    start = end + 1;

    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    size_t first = 0, last = line.size();
    while (first < last && blank(line[first])) ++first;
    while (last > first && blank(line[last - 1])) --last;
    const std::string_view token = line.substr(first, last - first);
    if (token.empty() || token.front() == '#') continue;
    // Never quote the token: diagnostics end up in logs.
    for (size_t i = 0; i < token.size(); ++i) {
      const auto c = static_cast<unsigned char>(token[i]);
      if (c <= 0x20 || c >= 0x7f) {
        diags.error(path, Mark{line_number, static_cast<int>(first + i + 1)},
                    "a token must be printable ASCII without blanks inside", "one token per line");
        ok = false;
        break;
      }
    }
    if (seen.emplace(token).second) tokens.emplace_back(token);
  }
  if (!ok) return std::nullopt;
  if (tokens.empty()) {
    diags.error(path, {}, "the bearer tokens file holds no token",
                "write one token per line; lines starting with # are comments");
    return std::nullopt;
  }
  return tokens;
}

std::optional<std::string> load_hmac_secret(const std::string& path, Diagnostics& diags) {
  std::optional<std::string> secret = read_private_file(path, "HMAC secret file", diags);
  if (!secret) return std::nullopt;
  if (secret->ends_with('\n')) secret->pop_back();
  if (secret->ends_with('\r')) secret->pop_back();
  if (secret->empty()) {
    diags.error(path, {}, "the HMAC secret file is empty");
    return std::nullopt;
  }
  return secret;
}

}  // namespace runbook::serve
