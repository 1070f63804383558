// Finding and loading plugins: the search path, the safety checks on files,
// dlopen, and the registry of step kinds.

#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include "runbook/plugin.h"
#include "runbook/plugins.hpp"

namespace runbook {
namespace {

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", unsigned(mode & 07777));
  return buf;
}

// Why `path` (a file or a directory) must not be trusted with code that
// runs inside the engine, or "" when it may be.
std::string unsafe_reason(const std::string& path, const char* what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::string("cannot read its ") + what;
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    return std::string("its ") + what + " " + path + " is owned by uid " +
           std::to_string(st.st_uid) + ", neither root nor you";
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    // A shared directory like /tmp is meant to be writable: the plugin moves.
    std::string fix = (st.st_mode & S_ISVTX) ? "move the plugin into a directory of its own"
                                             : "chmod go-w " + path;
    return std::string("its ") + what + " " + path + " is writable by " +
           ((st.st_mode & S_IWOTH) ? "others" : "its group") + " (mode " + octal_mode(st.st_mode) +
           "; " + fix + ")";
  }
  return "";
}

std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

std::string parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool is_kind_name(std::string_view name) {
  if (name.empty() || !(name[0] >= 'a' && name[0] <= 'z')) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

// The `*.so` files of `dir`, sorted; nullopt when it cannot be read.
std::optional<std::vector<std::string>> plugin_files(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return std::nullopt;
  std::vector<std::string> files;
  while (dirent* entry = ::readdir(d)) {
    std::string name = entry->d_name;
    if (name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0)
      files.push_back(dir + "/" + name);
  }
  ::closedir(d);
  std::sort(files.begin(), files.end());
  return files;
}

// Loads one plugin file; false with `error` set when it is refused.
bool load_plugin(const std::string& path, PluginInfo& info, std::string& error) {
  std::string real = real_path(path);
  for (auto [p, what] : {std::pair{real, "file"}, std::pair{parent_dir(real), "directory"}}) {
    if (std::string why = unsafe_reason(p, what); !why.empty()) {
      error = "refusing plugin " + path + ": " + why + "; plugins run inside the engine";
      return false;
    }
  }
  void* handle = ::dlopen(real.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    error = "cannot load plugin " + path + ": " + (why ? why : "unknown error");
    return false;
  }
  // From here on the library stays loaded, even when refused: unloading code
  // whose static constructors ran is not worth the risk.
  auto entry =
      reinterpret_cast<runbook_plugin_entry_fn>(::dlsym(handle, RUNBOOK_PLUGIN_ENTRY_NAME));
  if (!entry) {
    error = "plugin " + path +
            " has no entry point '" RUNBOOK_PLUGIN_ENTRY_NAME
            "' (is it built with the runbook SDK, exported with C linkage?)";
    return false;
  }
  const runbook_plugin* plugin = entry(RUNBOOK_PLUGIN_ABI_VERSION);
  if (!plugin) {
    error = "plugin " + path + " does not support this engine's plugin ABI version " +
            std::to_string(RUNBOOK_PLUGIN_ABI_VERSION) + "; rebuild it against this SDK";
    return false;
  }
  if (plugin->abi_version != RUNBOOK_PLUGIN_ABI_VERSION) {
    error = "plugin " + path + " is built for plugin ABI version " +
            std::to_string(plugin->abi_version) + ", this engine has version " +
            std::to_string(RUNBOOK_PLUGIN_ABI_VERSION) + "; rebuild it against this SDK";
    return false;
  }
  info.name = plugin->name ? plugin->name : "";
  info.version = plugin->version ? plugin->version : "";
  info.path = path;
  if (info.name.empty()) {
    error = "plugin " + path + " has no name in its descriptor";
    return false;
  }
  for (size_t i = 0; i < plugin->kind_count; ++i) {
    const runbook_step_kind& k = plugin->kinds[i];
    std::string name = k.name ? k.name : "";
    if (!is_kind_name(name) || !k.run) {
      error = "plugin " + path + " declares an invalid step kind '" + name +
              "' (a name of [a-z][a-z0-9_-]* and a run function are needed)";
      return false;
    }
    info.kinds.push_back({name, k.summary ? k.summary : "", &k});
  }
  return true;
}

}  // namespace

PluginRegistry PluginRegistry::load(const std::vector<std::string>& dirs,
                                    const std::vector<std::string>& required_dirs) {
  PluginRegistry registry;
  std::set<std::string> seen;  // real paths
  for (const std::string& dir : dirs) {
    std::optional<std::vector<std::string>> files = plugin_files(dir);
    // The directory searched is trusted as much as the files in it: a
    // symbolic link planted there could point at any library.
    if (files && !files->empty()) {
      if (std::string why = unsafe_reason(real_path(dir), "directory"); !why.empty()) {
        registry.errors_.push_back("refusing the plugin directory " + dir + ": " + why +
                                   "; plugins run inside the engine");
        continue;
      }
    }
    if (!files) {
      if (std::find(required_dirs.begin(), required_dirs.end(), dir) != required_dirs.end()) {
        struct stat st {};
        bool is_file = ::stat(dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
        registry.errors_.push_back(
            "plugin directory " + dir +
            (is_file ? " is not a directory; give the directory that holds the .so"
                     : " cannot be read"));
      }
      continue;
    }
    for (const std::string& file : *files) {
      if (!seen.insert(real_path(file)).second) continue;
      PluginInfo info;
      std::string error;
      if (load_plugin(file, info, error)) {
        registry.plugins_.push_back(std::move(info));
      } else {
        registry.errors_.push_back(std::move(error));
      }
    }
  }

  // A kind claimed twice is ambiguous: neither plugin gets it.
  std::map<std::string, std::vector<std::string>> claimed;  // kind → files
  for (const PluginInfo& p : registry.plugins_)
    for (const PluginKind& k : p.kinds) claimed[k.name].push_back(p.path);
  for (const auto& [kind, files] : claimed) {
    if (files.size() < 2) continue;
    std::string list;
    for (const std::string& f : files) list += (list.empty() ? "" : " and ") + f;
    registry.errors_.push_back("step kind '" + kind + "' is provided by more than one plugin: " +
                               list + "; remove one of them from the plugin path");
    for (PluginInfo& p : registry.plugins_)
      std::erase_if(p.kinds, [&](const PluginKind& k) { return k.name == kind; });
  }
  return registry;
}

const PluginKind* PluginRegistry::find(std::string_view name) const {
  for (const PluginInfo& p : plugins_)
    for (const PluginKind& k : p.kinds)
      if (k.name == name) return &k;
  return nullptr;
}

const PluginInfo* PluginRegistry::provider(std::string_view name) const {
  for (const PluginInfo& p : plugins_)
    for (const PluginKind& k : p.kinds)
      if (k.name == name) return &p;
  return nullptr;
}

std::vector<std::string> PluginRegistry::kind_names() const {
  std::vector<std::string> names;
  for (const PluginInfo& p : plugins_)
    for (const PluginKind& k : p.kinds) names.push_back(k.name);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> plugin_search_path(const std::vector<std::string>& cli_dirs) {
  std::vector<std::string> dirs = cli_dirs;
  if (const char* env = std::getenv("RUNBOOK_PLUGIN_PATH")) {
    std::string_view rest = env;
    while (!rest.empty()) {
      size_t colon = rest.find(':');
      std::string_view dir = rest.substr(0, colon);
      if (!dir.empty()) dirs.emplace_back(dir);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  char exe[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    std::string bin_dir = parent_dir(std::string(exe, size_t(n)));
    dirs.push_back(parent_dir(bin_dir) + "/lib/runbook/plugins");
  }
  return dirs;
}

}  // namespace runbook
