#include "exec/process_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string>

namespace runbook::exec {
namespace {

// Reads a whole small /proc file; empty on any error.
std::string read_proc_file(const std::string& path) {
  std::string text;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, size_t(n));
  }
  ::close(fd);
  return text;
}

bool is_number(const char* s) {
  if (!*s) return false;
  for (; *s; ++s)
    if (*s < '0' || *s > '9') return false;
  return true;
}

// Appends the children of thread `task` of this process.
void append_children(pid_t task, std::vector<pid_t>& out) {
  std::string list = read_proc_file("/proc/self/task/" + std::to_string(task) + "/children");
  const char* p = list.c_str();
  char* end = nullptr;
  for (long pid = std::strtol(p, &end, 10); end != p; pid = std::strtol(p, &end, 10)) {
    out.push_back(pid_t(pid));
    p = end;
  }
}

}  // namespace

bool process_group_alive(pid_t pgid) {
  return pgid > 0 && (::kill(-pgid, 0) == 0 || errno == EPERM);
}

std::vector<pid_t> engine_children() {
  std::vector<pid_t> children;
  const pid_t main_thread = ::getpid(), thread = ::gettid();
  append_children(main_thread, children);
  if (thread != main_thread) append_children(thread, children);
  return children;
}

TagMatch process_tag(pid_t pid, std::string_view tag) {
  std::string env = read_proc_file("/proc/" + std::to_string(pid) + "/environ");
  if (env.empty()) {
    // A zombie has no environment and runs nothing: the reaper gets it.
    std::string stat = read_proc_file("/proc/" + std::to_string(pid) + "/stat");
    size_t paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z')
      return TagMatch::no;
    return TagMatch::unknown;
  }
  std::string wanted = std::string(kProcessTagVariable) + "=" + std::string(tag);
  size_t pos = 0;
  while (pos < env.size()) {
    size_t end = env.find('\0', pos);
    if (end == std::string::npos) end = env.size();
    if (std::string_view(env).substr(pos, end - pos) == wanted) return TagMatch::yes;
    pos = end + 1;
  }
  return TagMatch::no;
}

std::vector<pid_t> find_processes_with_tag_prefix(std::string_view prefix) {
  std::vector<pid_t> found;
  DIR* proc = ::opendir("/proc");
  if (!proc) return found;
  pid_t self = ::getpid();
  std::string wanted = std::string(kProcessTagVariable) + "=" + std::string(prefix);
  while (dirent* e = ::readdir(proc)) {
    if (!is_number(e->d_name)) continue;
    pid_t pid = pid_t(std::atol(e->d_name));
    if (pid == self) continue;
    std::string env = read_proc_file("/proc/" + std::to_string(pid) + "/environ");
    for (size_t pos = 0; pos < env.size();) {
      size_t end = env.find('\0', pos);
      if (end == std::string::npos) end = env.size();
      if (std::string_view(env).substr(pos, end - pos).starts_with(wanted)) {
        found.push_back(pid);
        break;
      }
      pos = end + 1;
    }
  }
  ::closedir(proc);
  return found;
}

std::vector<pid_t> find_tagged_processes(std::string_view tag) {
  std::vector<pid_t> found;
  DIR* proc = ::opendir("/proc");
  if (!proc) return found;
  pid_t self = ::getpid();
  while (dirent* e = ::readdir(proc)) {
    if (!is_number(e->d_name)) continue;
    pid_t pid = pid_t(std::atol(e->d_name));
    if (pid != self && process_has_tag(pid, tag)) found.push_back(pid);
  }
  ::closedir(proc);
  return found;
}

Stragglers find_stragglers(pid_t pgid, std::string_view tag, bool full_scan,
                           const std::vector<pid_t>& started) {
  Stragglers s;
  s.group_alive = process_group_alive(pgid);
  if (full_scan) {
    s.tagged = find_tagged_processes(tag);
  } else {
    for (pid_t child : engine_children()) {
      // Caught starting, another attempt's process cannot be read yet.
      if (std::binary_search(started.begin(), started.end(), child)) continue;
      TagMatch m = process_tag(child, tag);
      if (m == TagMatch::yes) s.tagged.push_back(child);
      if (m == TagMatch::unknown) ++s.uncertain;
    }
  }
  return s;
}

void signal_straggler(pid_t pid, pid_t attempt_pgid, int sig) {
  pid_t its_group = ::getpgid(pid);
  if (its_group > 0 && its_group != attempt_pgid && its_group == pid) ::kill(-its_group, sig);
  ::kill(pid, sig);
}

}  // namespace runbook::exec
