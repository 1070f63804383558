// Reading the trigger server's config: the same YAML helpers and diagnostics
// as the runbook loader, every problem collected, then sorted.

#include "serve/server_config.hpp"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>

#include "load/yaml_reader.hpp"
#include "load/yaml_source.hpp"
#include "runbook/executor.hpp"
#include "runbook/load.hpp"
#include "runbook/params.hpp"
#include "serve/config_parts.hpp"
#include "serve/listen_address.hpp"

namespace runbook::serve {

namespace fs = std::filesystem;

const char* to_string(Overlap o) {
  switch (o) {
    case Overlap::skip:
      return "skip";
    case Overlap::queue:
      return "queue";
    case Overlap::replace:
      return "replace";
  }
  return "skip";
}

const char* to_string(CatchUp c) {
  return c == CatchUp::latest ? "latest" : "none";
}

const char* to_string(AlertOn on) {
  switch (on) {
    case AlertOn::firing:
      return "firing";
    case AlertOn::resolved:
      return "resolved";
    case AlertOn::both:
      return "both";
  }
  return "firing";
}

const AlertRule* ServerConfig::find_alert_rule(std::string_view name) const {
  for (const AlertRule& r : alerts) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

const ScheduleConfig* ServerConfig::find_schedule(std::string_view name) const {
  for (const ScheduleConfig& s : schedules) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

namespace config_parts {

std::string resolve_path(const std::string& base, const std::string& p) {
  const fs::path path(p);
  if (path.is_absolute()) return path.lexically_normal().string();
  return (fs::path(base) / path).lexically_normal().string();
}

std::string name_list(std::string_view what, const std::vector<std::string>& names) {
  std::string out(what);
  if (names.size() > 1) out += "s";
  for (size_t i = 0; i < names.size(); ++i) {
    out += i == 0 ? " '" : (i + 1 == names.size() ? " and '" : ", '");
    out += names[i] + "'";
  }
  return out;
}

std::optional<size_t> read_choice(load::YamlReader& reader, const load::Entry& e,
                                  std::string_view name,
                                  const std::vector<std::string_view>& allowed) {
  std::optional<std::string> s = reader.string(e, name);
  if (!s) return std::nullopt;
  for (size_t i = 0; i < allowed.size(); ++i) {
    if (*s == allowed[i]) return i;
  }
  std::string list;
  for (size_t i = 0; i < allowed.size(); ++i) {
    list += (i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ") + std::string(allowed[i]);
  }
  const std::string near = nearest_word(*s, allowed);
  reader.error(load::value_mark(e),
               "'" + std::string(name) + "' must be " + list + ", not '" + *s + "'",
               near.empty() ? std::string() : "did you mean '" + near + "'?");
  return std::nullopt;
}

}  // namespace config_parts

namespace {

using config_parts::name_list;
using config_parts::read_choice;
using config_parts::resolve_path;
using load::Entry;
using load::YamlReader;

const std::vector<std::string_view> kTopLevelKeys = {
    "listen",      "state_dir", "runbooks_dir",   "auth",  "max_concurrent_runs",
    "queue_limit", "schedules", "shutdown_grace", "alerts"};
const std::vector<std::string_view> kAuthKeys = {"bearer_tokens_file", "hmac_secret_file",
                                                 "hmac_tolerance", "hmac_require_timestamp"};
const std::vector<std::string_view> kScheduleKeys = {
    "name", "cron", "timezone", "runbook", "params", "overlap", "catch_up", "auto_approve"};

// The name quoted after "param '" or "secret '" in a params diagnostic.
std::string param_named_in(std::string_view message) {
  for (std::string_view prefix : {"param '", "secret '"}) {
    const size_t at = message.find(prefix);
    if (at == std::string_view::npos) continue;
    const size_t start = at + prefix.size();
    const size_t end = message.find('\'', start);
    if (end != std::string_view::npos) return std::string(message.substr(start, end - start));
  }
  return {};
}

void erase_all(std::string& s, std::string_view what) {
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at)) {
    s.erase(at, what.size());
  }
}

// A schedule's `params:` as written, with where each one is.
struct WrittenParams {
  Value::Map values;
  std::map<std::string, Entry> entries;
  Mark mark;  // the `params:` value; the schedule's map when absent
};

// A runbook loaded once for every schedule that names it.
struct LoadedRunbook {
  std::shared_ptr<const Runbook> runbook;  // null when it did not load
  std::string problem;                     // why the file could not be read at all
  size_t errors = 0;                       // its own diagnostics, reported once
};

class ConfigLoader {
 public:
  ConfigLoader(const std::string& path, Diagnostics& diags)
      : reader_(path, &diags, &budget_), diags_(diags) {
    config_.path = path;
    base_dir_ = fs::path(path).parent_path().string();
    if (base_dir_.empty()) base_dir_ = ".";
    config_.runbooks_dir = base_dir_;
  }

  ServerConfig load(const load::yaml::Node& root) {
    const std::vector<Entry> entries = reader_.entries(root);
    const Entry* schedules = nullptr;
    const Entry* alerts = nullptr;
    for (const Entry& e : entries) {
      const std::string& k = e.key;
      if (k == "listen") {
        load_listen(e);
      } else if (k == "state_dir") {
        if (auto dir = path_value(e, "state_dir")) config_.state_dir = *dir;
      } else if (k == "runbooks_dir") {
        load_runbooks_dir(e);
      } else if (k == "auth") {
        load_auth(e);
      } else if (k == "max_concurrent_runs") {
        if (auto n = reader_.integer(e, "max_concurrent_runs", 1, 1024))
          config_.max_concurrent_runs = static_cast<int>(*n);
      } else if (k == "queue_limit") {
        if (auto n = reader_.integer(e, "queue_limit", 0, 1'000'000))
          config_.queue_limit = static_cast<size_t>(*n);
      } else if (k == "shutdown_grace") {
        if (auto d = reader_.duration(e, "shutdown_grace")) config_.shutdown_grace = *d;
      } else if (k == "schedules") {
        schedules = &e;
      } else if (k == "alerts") {
        alerts = &e;
      } else if (k.starts_with("x-")) {
        // Extension keys are for the author (anchors), as in runbooks; ignored.
      } else {
        reader_.unknown_key(e, kTopLevelKeys, "at the top level");
      }
    }
    // After the loop: relative runbook paths need runbooks_dir, wherever it is written.
    if (schedules != nullptr) load_schedules(*schedules);
    if (alerts != nullptr) {
      config_parts::Section section{
          reader_, diags_, config_.runbooks_dir,
          [this](const std::string& path, Mark mark) { return load_runbook(path, mark); }};
      config_.alerts = config_parts::load_alert_rules(*alerts, section);
    }
    return std::move(config_);
  }

 private:
  void load_listen(const Entry& e) {
    if (e.value.IsSequence()) {
      // `listen: [::1]` unquoted is a YAML flow list, not an address.
      reader_.error(load::value_mark(e), "'listen' must be a string, not a list",
                    "quote an IPv6 address: listen: \"[::1]:9095\"");
      return;
    }
    std::optional<std::string> s = reader_.string(e, "listen");
    if (!s) return;
    if (auto parsed = parse_listen_address(*s); !parsed) {
      const std::string& problem = parsed.error();
      reader_.error(load::value_mark(e), "invalid listen address '" + *s + "': " + problem,
                    "write host:port or [v6]:port, like 127.0.0.1:9095");
      return;
    }
    config_.listen = std::move(*s);
  }

  // A non-empty path, resolved against the config's directory.
  std::optional<std::string> path_value(const Entry& e, std::string_view name) {
    std::optional<std::string> s = reader_.string(e, name);
    if (!s) return std::nullopt;
    if (s->empty()) {
      reader_.error(load::value_mark(e), "'" + std::string(name) + "' must not be empty");
      return std::nullopt;
    }
    return resolve_path(base_dir_, *s);
  }

  void load_runbooks_dir(const Entry& e) {
    std::optional<std::string> dir = path_value(e, "runbooks_dir");
    if (!dir) return;
    struct stat st {};
    if (::stat(dir->c_str(), &st) != 0) {
      reader_.error(load::value_mark(e),
                    "cannot use runbooks_dir '" + *dir + "': " + std::strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
      reader_.error(load::value_mark(e), "runbooks_dir '" + *dir + "' is not a directory");
    }
    config_.runbooks_dir = std::move(*dir);
  }

  void load_auth(const Entry& e) {
    if (!reader_.is_map(e, "auth") || !e.value || e.value.IsNull()) return;
    for (const Entry& a : reader_.entries(e.value)) {
      if (a.key == "bearer_tokens_file") {
        if (auto p = path_value(a, "auth.bearer_tokens_file")) {
          config_.bearer_tokens_file = *p;
          config_.bearer_tokens_mark = load::value_mark(a);
        }
      } else if (a.key == "hmac_secret_file") {
        if (auto p = path_value(a, "auth.hmac_secret_file")) {
          config_.hmac_secret_file = *p;
          config_.hmac_secret_mark = load::value_mark(a);
        }
      } else if (a.key == "hmac_tolerance") {
        if (auto d = reader_.duration(a, "auth.hmac_tolerance")) config_.hmac_tolerance = *d;
      } else if (a.key == "hmac_require_timestamp") {
        if (auto b = reader_.boolean(a, "auth.hmac_require_timestamp"))
          config_.hmac_require_timestamp = *b;
      } else {
        reader_.unknown_key(a, kAuthKeys, "in auth");
      }
    }
  }

  void load_schedules(const Entry& e) {
    if (!e.value || e.value.IsNull()) return;
    if (!e.value.IsSequence()) {
      reader_.error(load::value_mark(e),
                    "'schedules' must be a list, not " + load::describe(e.value));
      return;
    }
    size_t index = 0;
    for (const load::yaml::Node& item : e.value) {
      ++index;
      if (!item.IsMap()) {
        reader_.error(item.IsNull() ? load::value_mark(e) : load::mark_of(item),
                      "a schedule must be a map with 'name', 'cron' and 'runbook', not " +
                          load::describe(item));
        continue;
      }
      load_schedule(item, index);
    }
  }

  // Reads one schedule map; adds it to the config when nothing is wrong with it.
  void load_schedule(const load::yaml::Node& map, size_t index) {
    const size_t errors_before = diags_.size();
    const std::vector<Entry> entries = reader_.entries(map);
    const Mark mark = load::mark_of(map);

    std::string label = "schedule " + std::to_string(index);
    std::string name;
    for (const Entry& e : entries) {
      if (e.key != "name") continue;
      std::optional<std::string> s = reader_.string(e, "name");
      if (!s) break;
      if (!load::is_valid_id(*s)) {
        reader_.error(load::value_mark(e), "invalid schedule name '" + *s + "'",
                      "names are lowercase letters, digits, '_' and '-', starting with a letter "
                      "or digit");
        break;
      }
      name = *s;
      label = "schedule '" + name + "'";
      auto [first, inserted] = names_.emplace(name, load::mark_of(e.value));
      if (!inserted) {
        reader_.error(load::value_mark(e), "duplicate schedule name '" + name + "'",
                      "first at line " + std::to_string(first->second.line));
      }
    }

    std::optional<CronSchedule> cron;
    TimeZone zone;
    std::optional<std::string> runbook;
    const Entry* runbook_entry = nullptr;
    WrittenParams params;
    params.mark = mark;
    Overlap overlap = Overlap::skip;
    CatchUp catch_up = CatchUp::none;
    bool auto_approve = false, has_name = false, has_cron = false;

    for (const Entry& e : entries) {
      const std::string& k = e.key;
      if (k == "name") {
        has_name = true;
      } else if (k == "cron") {
        has_cron = true;
        if (std::optional<std::string> text = reader_.string(e, "cron")) {
          Expected<CronSchedule, std::string> parsed = CronSchedule::parse(*text);
          if (parsed) {
            cron = parsed.value();
          } else {
            reader_.error(load::value_mark(e),
                          "invalid cron expression '" + *text + "': " + parsed.error());
          }
        }
      } else if (k == "timezone") {
        if (std::optional<std::string> text = reader_.string(e, "timezone")) {
          Expected<TimeZone, std::string> found = TimeZone::find(*text);
          if (found) {
            zone = found.value();
          } else {
            const bool unknown = found.error().starts_with("unknown time zone");
            reader_.error(load::value_mark(e), found.error(),
                          unknown ? "use an IANA name like Europe/Berlin, or UTC" : "");
          }
        }
      } else if (k == "runbook") {
        runbook_entry = &e;
        runbook = reader_.string(e, "runbook");
        if (runbook && runbook->empty()) {
          reader_.error(load::value_mark(e), "'runbook' must not be empty");
          runbook.reset();
        }
      } else if (k == "params") {
        load_params(e, params);
      } else if (k == "overlap") {
        if (auto v = read_choice(reader_, e, "overlap", {"skip", "queue", "replace"})) {
          overlap = *v == 0 ? Overlap::skip : *v == 1 ? Overlap::queue : Overlap::replace;
        }
      } else if (k == "catch_up") {
        if (auto v = read_choice(reader_, e, "catch_up", {"none", "latest"})) {
          catch_up = *v == 0 ? CatchUp::none : CatchUp::latest;
        }
      } else if (k == "auto_approve") {
        if (auto b = reader_.boolean(e, "auto_approve")) auto_approve = *b;
      } else {
        reader_.unknown_key(e, kScheduleKeys, "in " + label);
      }
    }
    if (!has_name) reader_.error(mark, label + " is missing required key 'name'");
    if (!has_cron) reader_.error(mark, label + " is missing required key 'cron'");
    if (runbook_entry == nullptr) reader_.error(mark, label + " is missing required key 'runbook'");

    std::shared_ptr<const Runbook> loaded;
    std::string runbook_path;
    if (runbook) {
      runbook_path = resolve_path(config_.runbooks_dir, *runbook);
      loaded = load_runbook(runbook_path, load::value_mark(*runbook_entry));
    }
    if (loaded) {
      check_params(*loaded, params);
      const std::vector<std::string> confirming = steps_that_confirm(*loaded);
      if (!confirming.empty() && !auto_approve) {
        reader_.error(load::value_mark(*runbook_entry),
                      "runbook '" + loaded->name + "' asks for confirmation (" +
                          name_list("step", confirming) + ") but a schedule runs unattended",
                      "set 'auto_approve: true' on " + label + " to answer yes");
      }
    }

    if (diags_.size() != errors_before || !cron || !loaded) return;
    config_.schedules.push_back(ScheduleConfig{.name = std::move(name),
                                               .mark = mark,
                                               .cron = *cron,
                                               .zone = zone,
                                               .runbook_path = std::move(runbook_path),
                                               .params = std::move(params.values),
                                               .overlap = overlap,
                                               .catch_up = catch_up,
                                               .auto_approve = auto_approve,
                                               .runbook = std::move(loaded)});
  }

  void load_params(const Entry& e, WrittenParams& params) {
    params.mark = load::value_mark(e);
    if (!reader_.is_map(e, "params") || !e.value || e.value.IsNull()) return;
    for (const Entry& p : reader_.entries(e.value)) {
      std::optional<Value> v = reader_.value(p.value, "params." + p.key);
      if (!v) continue;
      params.values[p.key] = std::move(*v);
      params.entries.emplace(p.key, p);
    }
  }

  // Loads the runbook at `path` once; every schedule naming a runbook that
  // does not load gets an error at `mark`, its own diagnostics come once.
  std::shared_ptr<const Runbook> load_runbook(const std::string& path, Mark mark) {
    auto [it, first_use] = runbooks_.try_emplace(path);
    LoadedRunbook& loaded = it->second;
    if (first_use) {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) {
        loaded.problem = "cannot read runbook '" + path + "': " + std::strerror(errno);
      } else if (S_ISDIR(st.st_mode)) {
        loaded.problem = "runbook '" + path + "' is a directory, not a file";
      } else {
        LoadResult result = load_runbook_file(path);
        if (result.ok()) {
          loaded.runbook = std::make_shared<const Runbook>(std::move(*result.runbook));
        } else {
          loaded.errors = result.diagnostics.size();
          diags_.append(result.diagnostics);
        }
      }
    }
    if (!loaded.problem.empty()) {
      reader_.error(mark, loaded.problem,
                    "relative runbook paths are resolved against runbooks_dir (" +
                        config_.runbooks_dir + ")");
    } else if (loaded.runbook == nullptr) {
      reader_.error(mark, "runbook '" + path + "' does not load: " + std::to_string(loaded.errors) +
                              (loaded.errors == 1 ? " error" : " errors") + ", reported in it");
    }
    return loaded.runbook;
  }

  // The schedule's params as a run started now would resolve them; problems
  // are placed on the param they concern, else on `params:`.
  void check_params(const Runbook& runbook, const WrittenParams& params) {
    ParamSources sources;
    sources.values = params.values;
    Diagnostics found;
    resolve_params(runbook, sources, found);
    for (const Diagnostic& d : found.items()) {
      std::string message = d.message;
      erase_all(message, " given by the request");
      std::string hint = d.hint;
      if (size_t at = hint.find("give it with -p "); at != std::string::npos) {
        hint = hint.substr(0, at) + "add it to the schedule's params";
      }
      Mark mark = params.mark;
      auto written = params.entries.find(param_named_in(message));
      if (written != params.entries.end()) {
        mark = message.starts_with("unknown param") ? load::mark_of(written->second.key_node)
                                                    : load::value_mark(written->second);
      }
      reader_.error(mark, std::move(message), std::move(hint));
    }
  }

  load::Budget budget_;
  YamlReader reader_;
  Diagnostics& diags_;
  ServerConfig config_;
  std::string base_dir_;
  std::map<std::string, Mark> names_;
  std::map<std::string, LoadedRunbook> runbooks_;
};

ServerConfigResult load_parsed(std::string_view text, const std::string& path) {
  ServerConfigResult result;
  if (!load::check_source_text(text, path, result.diagnostics)) return result;
  std::optional<load::yaml::Node> root = load::parse_yaml(text, path, result.diagnostics);
  if (!root) return result;
  if (*root && !root->IsNull() && !root->IsMap()) {
    result.diagnostics.error(path, load::mark_of(*root),
                             "a server config must be a YAML map of keys like 'listen' and "
                             "'schedules', not " +
                                 load::describe(*root));
    return result;
  }
  ConfigLoader loader(path, result.diagnostics);
  // An empty file is a valid config: the HTTP API with every default.
  result.config = loader.load(*root);
  return result;
}

}  // namespace

ServerConfigResult load_server_config_text(std::string_view text, const std::string& path) {
  ServerConfigResult result;
  try {
    result = load_parsed(text, path);
  } catch (const std::exception& e) {
    // Bad input must not throw; if it does anyway, it is still one diagnostic.
    result.config.reset();
    result.diagnostics.error(path, {}, std::string("cannot load the server config: ") + e.what());
  }
  result.diagnostics.sort();
  return result;
}

ServerConfigResult load_server_config(const std::string& path) {
  ServerConfigResult result;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    result.diagnostics.error(path, {}, "is a directory, not a server config file");
    return result;
  }
  std::optional<std::string> text;
  try {
    text = load::read_source_file(path, result.diagnostics);
  } catch (const std::exception& e) {
    result.diagnostics.error(path, {}, std::string("cannot read file: ") + e.what());
  }
  if (!text) return result;
  return load_server_config_text(*text, path);
}

}  // namespace runbook::serve
