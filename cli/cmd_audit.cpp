// `runbook audit verify` and `runbook audit tail`.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "runbook/executor.hpp"
#include "runbook/store.hpp"

namespace runbook::cli {
namespace {

struct AuditFlags {
  std::string file;
  size_t count = 20;
  std::string run_id;
  std::string output = "text";
};

std::string audit_file(const AuditFlags& flags) {
  return flags.file.empty() ? audit_log_path(default_state_dir()) : flags.file;
}

int verify_command(const AuditFlags& flags) {
  const std::string file = audit_file(flags);
  AuditCheck check = verify_audit_log(file);
  switch (check.outcome) {
    case AuditCheck::Outcome::unreadable:
      std::cerr << "runbook: " << check.problem << "\n";
      return 2;
    case AuditCheck::Outcome::bad:
      std::cout << file << ": " << check.problem << "\n"
                << "the " << check.records << (check.records == 1 ? " record" : " records")
                << " before it chain correctly\n";
      return 1;
    case AuditCheck::Outcome::ok:
      break;
  }
  std::cout << "ok: " << check.records << (check.records == 1 ? " record" : " records") << " in "
            << file << ", hash chain intact";
  if (check.truncations)
    std::cout << " (" << check.truncations
              << " torn last line(s) removed after a crash: see the audit.truncated records)";
  std::cout << "\n";
  return 0;
}

std::string describe(const AuditEntry& e) {
  std::string text = e.ts + "  #" + std::to_string(e.seq) + "  " + e.event;
  if (!e.run_id.empty()) text += "  run " + e.run_id;
  if (!e.step_id.empty()) text += "  step " + e.step_id;
  if (!e.of.empty()) text += "  (" + e.of + ")";
  if (e.attempt) text += "  attempt " + std::to_string(*e.attempt);
  if (!e.state.empty()) text += "  " + e.state;
  if (e.exit_code) text += "  exit " + std::to_string(*e.exit_code);
  if (e.signal) text += "  signal " + std::to_string(*e.signal);
  if (e.duration_ms) text += "  " + std::to_string(*e.duration_ms) + "ms";
  if (e.event == "run.started")
    text += "  by " + e.user + (e.trigger.empty() ? "" : " via " + e.trigger);
  if (!e.message.empty()) text += "  -- " + e.message;
  return text;
}

int tail_command(const AuditFlags& flags) {
  const std::string file = audit_file(flags);
  std::string error;
  auto entries = tail_audit_log(file, flags.count, flags.run_id, &error);
  if (!entries) {
    std::cerr << "runbook: " << error << "\n";
    return 2;
  }
  for (const AuditEntry& e : *entries) {
    if (flags.output == "json")
      std::cout << e.line << "\n";
    else
      std::cout << describe(e) << "\n";
  }
  return 0;
}

}  // namespace

void add_audit_command(CLI::App& app, int& exit_code) {
  CLI::App* audit = app.add_subcommand("audit", "Check or read the audit log.");
  audit->require_subcommand(1);

  auto verify_flags = std::make_shared<AuditFlags>();
  CLI::App* verify = audit->add_subcommand(
      "verify", "Check the audit log's hash chain; names the first bad record.");
  verify->add_option("--file", verify_flags->file,
                     "The audit log (default: audit.jsonl in the state directory)");
  verify->footer(
      "Exit codes: 0 the chain is intact; 1 a record was changed, removed, reordered, or the\n"
      "log was cut off (the first bad line is named); 2 the file cannot be read.");
  verify->callback([verify_flags, &exit_code] { exit_code = verify_command(*verify_flags); });

  auto tail_flags = std::make_shared<AuditFlags>();
  CLI::App* tail = audit->add_subcommand("tail", "The latest audit records, oldest first.");
  tail->add_option("-n", tail_flags->count, "How many records (default 20)")
      ->check(CLI::PositiveNumber);
  tail->add_option("--run", tail_flags->run_id, "Only the records of this run");
  tail->add_option("--file", tail_flags->file,
                   "The audit log (default: audit.jsonl in the state directory)");
  tail->add_option("--output", tail_flags->output, "text (default) or json: the records as written")
      ->check(CLI::IsMember({"text", "json"}));
  tail->callback([tail_flags, &exit_code] { exit_code = tail_command(*tail_flags); });
}

}  // namespace runbook::cli
