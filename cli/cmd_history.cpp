// `runbook history`, `runbook show RUN_ID` and `runbook logs RUN_ID [STEP_ID]`:
// what the history database says of past and running runs.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "commands.hpp"
#include "runbook/executor.hpp"
#include "runbook/store.hpp"

namespace runbook::cli {
namespace {

// "1.2s", "350ms", "2m05s", "1h02m".
std::string elapsed(std::optional<long long> ms) {
  if (!ms) return "-";
  char out[32];
  if (*ms < 1000)
    std::snprintf(out, sizeof out, "%lldms", *ms);
  else if (*ms < 60'000)
    std::snprintf(out, sizeof out, "%.1fs", double(*ms) / 1000);
  else if (*ms < 3'600'000)
    std::snprintf(out, sizeof out, "%lldm%02llds", *ms / 60'000, (*ms / 1000) % 60);
  else
    std::snprintf(out, sizeof out, "%lldh%02lldm", *ms / 3'600'000, (*ms / 60'000) % 60);
  return out;
}

// Milliseconds between two RFC 3339 UTC times as the store writes them.
std::optional<long long> between(const std::string& from, const std::string& to) {
  auto parse = [](const std::string& t) -> std::optional<long long> {
    std::tm tm{};
    int ms = 0;
    if (t.size() < 19 || std::sscanf(t.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
                                     &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
      return std::nullopt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm) * 1000 + ms;
  };
  auto a = parse(from), b = parse(to);
  if (!a || !b) return std::nullopt;
  return *b - *a;
}

std::string state_text(const RunSummary& run) {
  if (run.engine_gone) return "running (engine gone: resume with runbook resume " + run.id + ")";
  return run.state;
}

std::string no_run(const std::string& state_dir, const std::string& id) {
  return "runbook: no run " + id + " in " + history_db_path(state_dir);
}

// ---- history ----

struct HistoryFlags {
  std::string runbook, status, output = "text";
  int limit = 20;
  std::optional<int> prune_days;
};

int history_command(const HistoryFlags& flags) {
  const std::string state_dir = default_state_dir();
  std::string error;
  if (flags.prune_days) {
    std::optional<int> pruned = prune_history(state_dir, *flags.prune_days, &error);
    if (!pruned) {
      std::cerr << "runbook: " << error << "\n";
      return 1;
    }
    std::cout << "pruned " << *pruned << (*pruned == 1 ? " run" : " runs")
              << " that ended more than " << *flags.prune_days << " days ago\n";
    return 0;
  }
  RunFilter filter;
  filter.runbook = flags.runbook;
  filter.state = flags.status;
  filter.limit = flags.limit;
  auto runs = list_runs(state_dir, filter, &error);
  if (!runs) {
    std::cerr << "runbook: " << error << "\n";
    return 1;
  }
  if (flags.output == "json") {
    std::cout << "[";
    for (size_t i = 0; i < runs->size(); ++i)
      std::cout << (i ? ",\n" : "\n") << to_json((*runs)[i]);
    std::cout << (runs->empty() ? "]\n" : "\n]\n");
    return 0;
  }
  if (runs->empty()) {
    std::cout << "no runs recorded in " << history_db_path(state_dir) << "\n";
    return 0;
  }
  std::printf("%-22s %-24s %-16s %-8s %-10s %-24s %s\n", "RUN", "RUNBOOK", "STATE", "TRIGGER",
              "USER", "STARTED", "DURATION");
  for (const RunSummary& run : *runs) {
    std::string duration =
        run.ended_at.empty() ? "-" : elapsed(between(run.started_at, run.ended_at));
    std::printf("%-22s %-24s %-16s %-8s %-10s %-24s %s\n", run.id.c_str(), run.runbook.c_str(),
                state_text(run).c_str(), run.trigger.c_str(), run.user.c_str(),
                run.started_at.c_str(), duration.c_str());
  }
  return 0;
}

// ---- show ----

struct ShowFlags {
  std::string run_id, output = "text";
};

void print_run(const RecordedRun& run) {
  std::cout << "run " << run.id << "  " << run.runbook << "  " << state_text(run);
  if (run.exit_code) std::cout << " (exit " << *run.exit_code << ")";
  std::cout << "\n";
  std::cout << "  path      " << run.path;
  if (!run.sha256.empty()) std::cout << "  (sha256 " << run.sha256.substr(0, 12) << "...)";
  std::cout << "\n";
  std::cout << "  trigger   " << run.trigger << " by " << run.user << " on " << run.host;
  if (run.pid > 0) std::cout << ", pid " << run.pid;  // 0: never started
  std::cout << "\n";
  std::cout << "  params    " << run.params_json << "\n";
  std::cout << "  started   " << run.started_at << "\n";
  if (!run.ended_at.empty())
    std::cout << "  ended     " << run.ended_at << "  ("
              << elapsed(between(run.started_at, run.ended_at)) << ")\n";
  if (!run.rollback_state.empty())
    std::cout << "  rollback  " << run.rollback_state
              << (run.rolled_back_at.empty() ? "" : " at " + run.rolled_back_at) << "\n";
  if (!run.message.empty()) std::cout << "  message   " << run.message << "\n";

  std::cout << "\nsteps (in start order):\n";
  for (const StepRecord& s : run.steps) {
    std::printf("  %-20s %-10s %8s", s.id.c_str(), s.state.c_str(), elapsed(s.duration_ms).c_str());
    if (s.exit_code) std::printf("  exit %d", *s.exit_code);
    if (s.signal) std::printf("  signal %d", s.signal);
    if (s.rollback) std::printf("  rollback: %s", s.rollback->state.c_str());
    if (!s.message.empty()) std::printf("  -- %s", s.message.c_str());
    std::printf("\n");
    if (!s.outputs_json.empty()) std::printf("      outputs %s\n", s.outputs_json.c_str());
    if (s.attempts.size() > 1 || (s.attempts.size() == 1 && s.attempts[0].state != s.state)) {
      for (const AttemptRecord& a : s.attempts) {
        std::printf("      attempt %d  %-10s %8s  %s", a.attempt, a.state.c_str(),
                    elapsed(a.duration_ms).c_str(), a.started_at.c_str());
        if (a.exit_code) std::printf("  exit %d", *a.exit_code);
        if (a.signal) std::printf("  signal %d", a.signal);
        std::printf("\n");
      }
    }
  }
  if (!run.hooks.empty()) {
    std::cout << "\nhooks:\n";
    for (const HookRecord& h : run.hooks) {
      std::printf("  %-20s %-10s %8s", h.id.c_str(), h.state.c_str(),
                  elapsed(h.duration_ms).c_str());
      if (h.exit_code) std::printf("  exit %d", *h.exit_code);
      std::printf("\n");
    }
  }
  std::fflush(stdout);
}

int show_command(const ShowFlags& flags) {
  const std::string state_dir = default_state_dir();
  std::string error;
  std::optional<RecordedRun> run = load_run(state_dir, flags.run_id, &error);
  if (!run) {
    std::cerr << (error.empty() ? no_run(state_dir, flags.run_id) : "runbook: " + error) << "\n";
    return error.empty() ? 2 : 1;
  }
  if (flags.output == "json")
    std::cout << to_json(*run) << "\n";
  else
    print_run(*run);
  return 0;
}

// ---- logs ----

struct LogsFlags {
  std::string run_id, step_id;
  bool follow = false;
};

struct LogSource {
  std::string title;  // the header line, when printing several
  std::string path;
};

std::vector<LogSource> log_sources(const RecordedRun& run, const std::string& state_dir,
                                   const std::string& step_id) {
  const std::string dir = state_dir + "/runs/" + run.id + "/";
  std::vector<LogSource> sources;
  for (const StepRecord& s : run.steps) {
    if (!s.started() || (!step_id.empty() && s.id != step_id)) continue;
    sources.push_back({"step " + s.id + " (" + s.state + ")",
                       s.log_path.empty() ? dir + s.id + ".log" : s.log_path});
  }
  if (!step_id.empty()) {
    for (const HookRecord& h : run.hooks)
      if (h.id == step_id)
        sources.push_back(
            {"hook " + h.id, h.log_path.empty() ? dir + "hook." + h.id + ".log" : h.log_path});
    return sources;
  }
  // Rollbacks ran newest step first; show them in the order they ran.
  std::vector<const StepRecord*> rolled;
  for (const StepRecord& s : run.steps)
    if (s.rollback) rolled.push_back(&s);
  std::stable_sort(rolled.begin(), rolled.end(), [](const StepRecord* a, const StepRecord* b) {
    return a->rollback->started_at < b->rollback->started_at;
  });
  for (const StepRecord* s : rolled)
    sources.push_back(
        {"rollback of " + s->id + " (" + s->rollback->state + ")",
         s->rollback->log_path.empty() ? dir + s->id + ".rollback.log" : s->rollback->log_path});
  for (const HookRecord& h : run.hooks)
    sources.push_back({"hook " + h.id + " (" + h.state + ")",
                       h.log_path.empty() ? dir + "hook." + h.id + ".log" : h.log_path});
  return sources;
}

// Prints what each log file gained since the last call; while the run goes
// on, only whole lines, so that two files never mix inside a line.
class LogPrinter {
 public:
  explicit LogPrinter(bool headers) : headers_(headers) {}

  void print(const std::vector<LogSource>& sources, bool final) {
    for (const LogSource& source : sources) {
      std::ifstream in(source.path, std::ios::binary);
      if (!in) continue;
      size_t& offset = offsets_[source.path];
      in.seekg(std::streamoff(offset));
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!final) {
        size_t nl = text.rfind('\n');
        text.resize(nl == std::string::npos ? 0 : nl + 1);
      }
      if (text.empty()) continue;
      if (headers_ && current_ != source.path) {
        std::cout << (current_.empty() ? "" : "\n") << "==> " << source.title << " <==\n";
        current_ = source.path;
      }
      std::cout << text;
      offset += text.size();
    }
    std::cout.flush();
  }

 private:
  bool headers_;
  std::map<std::string, size_t> offsets_;
  std::string current_;
};

int logs_command(const LogsFlags& flags) {
  const std::string state_dir = default_state_dir();
  std::string error;
  std::optional<RecordedRun> run = load_run(state_dir, flags.run_id, &error);
  if (!run) {
    std::cerr << (error.empty() ? no_run(state_dir, flags.run_id) : "runbook: " + error) << "\n";
    return error.empty() ? 2 : 1;
  }
  if (!flags.step_id.empty() && !run->find_step(flags.step_id) &&
      std::none_of(run->hooks.begin(), run->hooks.end(),
                   [&](const HookRecord& h) { return h.id == flags.step_id; }) &&
      !(flags.follow && run->state == "running")) {
    std::string known;
    for (const StepRecord& s : run->steps) known += (known.empty() ? "" : ", ") + s.id;
    std::cerr << "runbook: run " << run->id << " has no step '" << flags.step_id << "'"
              << (known.empty() ? std::string() : " (its steps: " + known + ")") << "\n";
    return 2;
  }
  LogPrinter printer(flags.step_id.empty());
  if (!flags.follow) {
    printer.print(log_sources(*run, state_dir, flags.step_id), true);
    return 0;
  }
  // Follow: poll the files and the run's row until the run has ended.
  while (true) {
    const bool ended = run->state != "running" || run->engine_gone;
    printer.print(log_sources(*run, state_dir, flags.step_id), ended);
    if (ended) {
      if (run->engine_gone)
        std::cerr << "runbook: the engine of run " << run->id
                  << " is gone; resume it with: runbook resume " << run->id << "\n";
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::optional<RecordedRun> again = load_run(state_dir, flags.run_id, &error);
    if (again) run = std::move(again);
  }
}

}  // namespace

void add_history_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<HistoryFlags>();
  CLI::App* cmd = app.add_subcommand("history", "Past runs, newest first.");
  cmd->add_option("--runbook", flags->runbook, "Only runs of the runbook with this name");
  cmd->add_option("--status", flags->status,
                  "Only runs in this state (engine_gone: running, but their engine died)")
      ->check(CLI::IsMember({"running", "succeeded", "failed", "rollback_failed", "cancelled",
                             "skipped", "engine_gone"}));
  cmd->add_option("--limit", flags->limit, "At most this many runs (default 20; 0: all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--output", flags->output, "text (default) or json: a JSON array of runs")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--prune", flags->prune_days,
                  "Delete the runs that ended more than DAYS days ago, with their step logs")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([flags, &exit_code] { exit_code = history_command(*flags); });
}

void add_show_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ShowFlags>();
  CLI::App* cmd = app.add_subcommand(
      "show", "One run: params (secrets masked), trigger, each step's attempts, rollback.");
  cmd->add_option("RUN_ID", flags->run_id, "The run")->required();
  cmd->add_option("--output", flags->output, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->callback([flags, &exit_code] { exit_code = show_command(*flags); });
}

void add_logs_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<LogsFlags>();
  CLI::App* cmd = app.add_subcommand(
      "logs", "A step's captured output; every step's, in start order, without STEP_ID.");
  cmd->add_option("RUN_ID", flags->run_id, "The run")->required();
  cmd->add_option("STEP_ID", flags->step_id, "The step (or hook)");
  cmd->add_flag("--follow,-f", flags->follow, "Keep printing what is added until the run ends");
  cmd->callback([flags, &exit_code] { exit_code = logs_command(*flags); });
}

}  // namespace runbook::cli
