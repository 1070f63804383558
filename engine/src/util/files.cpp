#include "util/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace runbook {

bool make_directories(const std::string& path, std::string* error, unsigned mode) {
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) {
      if (error) *error = "cannot create directory " + partial + ": " + std::strerror(errno);
      return false;
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    if (error) *error = "cannot create directory " + path + ": not a directory";
    return false;
  }
  return true;
}

std::optional<std::string> read_small_file(const std::string& path, size_t limit,
                                           std::string* error) {
  // O_NONBLOCK: a FIFO must not hang the reader; it is refused below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    *error = std::strerror(errno);
    return std::nullopt;
  }
  std::string data;
  struct stat st {};
  bool ok = true;
  if (::fstat(fd, &st) != 0) {
    *error = std::strerror(errno);
    ok = false;
  } else if (!S_ISREG(st.st_mode)) {
    *error = "not a regular file";
    errno = EINVAL;
    ok = false;
  }
  char buffer[8192];
  while (ok) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = std::strerror(errno);
      ok = false;
    }
    if (n <= 0) break;
    data.append(buffer, size_t(n));
    if (data.size() > limit) {
      *error = "larger than " + std::to_string(limit) + " bytes";
      errno = EFBIG;
      ok = false;
    }
  }
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (!ok) return std::nullopt;
  return data;
}

void remove_tree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace runbook
