#include "probe.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "duration.hpp"

namespace runbook::wait {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kCancelCheckMs = 100;

// Closes the socket however the try ends.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// One non-blocking connect to `address`: "" when accepted, else why not.
std::string try_connect(const addrinfo& address, int64_t limit_ms,
                        const std::function<bool()>& cancelled) {
  Socket socket(::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                         address.ai_protocol));
  if (socket.fd() < 0) return std::strerror(errno);
  if (::connect(socket.fd(), address.ai_addr, address.ai_addrlen) == 0) return "";
  if (errno != EINPROGRESS) return std::strerror(errno);

  const auto until = Clock::now() + std::chrono::milliseconds(limit_ms);
  for (;;) {
    if (cancelled()) return "cancelled";
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) return "no answer within " + format_duration(limit_ms);
    pollfd pfd{socket.fd(), POLLOUT, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left, kCancelCheckMs)));
    if (ready < 0 && errno != EINTR) return std::strerror(errno);
    if (ready > 0) break;
  }
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(socket.fd(), SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
  return error == 0 ? "" : std::strerror(error);
}

std::string lowercase_first(std::string text) {
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = char(text[0] - 'A' + 'a');
  return text;
}

}  // namespace

PortProbe probe_port(const std::string& host, int port, int64_t limit_ms,
                     const std::function<bool()>& cancelled) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* addresses = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &addresses);
  if (rc != 0) return {false, "cannot resolve " + host + ": " + ::gai_strerror(rc)};

  PortProbe probe;
  for (const addrinfo* a = addresses; a != nullptr; a = a->ai_next) {
    const std::string why = try_connect(*a, limit_ms, cancelled);
    if (why.empty()) {
      probe = {true, ""};
      break;
    }
    probe.why_closed = lowercase_first(why);
    if (cancelled()) break;
  }
  ::freeaddrinfo(addresses);
  return probe;
}

bool path_exists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

}  // namespace runbook::wait
