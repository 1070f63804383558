#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "runbook/store.hpp"
#include "temp_dir.hpp"

using namespace runbook;
using runbook::store_test::read_text;
using runbook::store_test::TempDir;
using runbook::store_test::test_actor;
using runbook::store_test::write_text;

namespace {

// Writes `count` records to `file`, flushing every `batch`.
void write_records(const std::string& file, int count, int batch = 1,
                   const std::string& run_id = "20261121-153012-7f3a") {
  AuditLog log(file, test_actor());
  for (int i = 1; i <= count; ++i) {
    AuditRecord r("step.ended", run_id);
    r.trigger("cli").add("step_id", "s" + std::to_string(i)).add("exit_code", 0LL);
    log.append(std::move(r));
    if (i % batch == 0) REQUIRE(log.flush());
  }
  REQUIRE(log.flush());
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  return text;
}

}  // namespace

TEST_CASE("records written one by one and in batches form a chain that verifies") {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  write_records(file, 5, 1);
  write_records(file, 7, 3);
  AuditCheck check = verify_audit_log(file);
  CHECK(check.outcome == AuditCheck::Outcome::ok);
  CHECK(check.records == 12);
  std::vector<std::string> lines = split_lines(read_text(file));
  REQUIRE(lines.size() == 12);
  CHECK(lines[0].rfind("{\"seq\":1,\"ts\":\"", 0) == 0);
  CHECK(lines[11].rfind("{\"seq\":12,", 0) == 0);
  CHECK(lines[0].find("\"prev\":\"" + std::string(64, '0') + "\"") != std::string::npos);
  CHECK(
      lines[0].find("\"user\":\"tester\",\"uid\":1000,\"host\":\"testhost\",\"trigger\":\"cli\"") !=
      std::string::npos);
}

TEST_CASE("a record's hash covers the line without its hash member, and prev the line before") {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  write_records(file, 2);
  std::vector<std::string> lines = split_lines(read_text(file));
  REQUIRE(lines.size() == 2);
  const std::string& line = lines[1];
  size_t at = line.rfind(",\"hash\":\"");
  REQUIRE(at != std::string::npos);
  CHECK(line.substr(at + 9, 64) == sha256_hex(line.substr(0, at) + "}"));
  CHECK(line.find("\"prev\":\"" + sha256_hex(lines[0]) + "\"") != std::string::npos);
}

TEST_CASE("an edited byte is reported as a hash mismatch on its line") {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  write_records(file, 6);
  std::vector<std::string> lines = split_lines(read_text(file));
  size_t pos = lines[3].find("\"s4\"");
  REQUIRE(pos != std::string::npos);
  lines[3][pos + 2] = '9';
  write_text(file, join_lines(lines));
  AuditCheck check = verify_audit_log(file);
  CHECK(check.outcome == AuditCheck::Outcome::bad);
  CHECK(check.line == 4);
  CHECK(check.seq == 4);
  CHECK(check.records == 3);
  CHECK(check.problem.find("hash does not match") != std::string::npos);
}

TEST_CASE("a deleted line is reported as missing records where the gap is") {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  write_records(file, 6);
  std::vector<std::string> lines = split_lines(read_text(file));
  lines.erase(lines.begin() + 2);
  write_text(file, join_lines(lines));
  AuditCheck check = verify_audit_log(file);
  CHECK(check.outcome == AuditCheck::Outcome::bad);
  CHECK(check.line == 3);
  CHECK(check.seq == 4);
  CHECK(check.problem.find("expected seq 3") != std::string::npos);
  CHECK(check.problem.find("missing") != std::string::npos);
}

TEST_CASE("a deleted first line is reported on line 1") {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  write_records(file, 3);
  std::vector<std::string> lines = split_lines(read_text(file));
  lines.erase(lines.begin());
  write_text(file, join_lines(lines));
  AuditCheck check = verify_audit_log(file);
  CHECK(check.outcome == AuditCheck::Outcome::bad);
  CHECK(check.line == 1);
}

TEST_CASE("two swapped lines are reported as out of order") {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  write_records(file, 6);
  std::vector<std::string> lines = split_lines(read_text(file));
  std::swap(lines[2], lines[3]);
  write_text(file, join_lines(lines));
  AuditCheck check = verify_audit_log(file);
  CHECK(check.outcome == AuditCheck::Outcome::bad);
  CHECK(check.line == 3);
  CHECK(check.seq == 4);
  CHECK(check.problem.find("out of order") != std::string::npos);
}

TEST_CASE("a record replaced by a well-formed forgery breaks the prev chain") {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  write_records(file, 3);
  const std::string other = dir / "other.jsonl";
  write_records(other, 3, 1, "20261121-000000-0000");
  std::vector<std::string> lines = split_lines(read_text(file));
  lines[1] = split_lines(read_text(other))[1];  // seq 2, own hash valid, other chain
  write_text(file, join_lines(lines));
  AuditCheck check = verify_audit_log(file);
  CHECK(check.outcome == AuditCheck::Outcome::bad);
  CHECK(check.line == 2);
  CHECK(check.problem.find("prev") != std::string::npos);
}

TEST_CASE("a log cut off inside its last line is reported as torn") {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  write_records(file, 4);
  std::string text = read_text(file);
  write_text(file, text.substr(0, text.size() - 30));
  AuditCheck check = verify_audit_log(file);
  CHECK(check.outcome == AuditCheck::Outcome::bad);
  CHECK(check.line == 4);
  CHECK(check.records == 3);
  CHECK(check.problem.find("line 4 is torn (no newline at the end)") == 0);
}

TEST_CASE("the next writer removes a torn last line and records that it did") {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  write_records(file, 4);
  std::string text = read_text(file);
  write_text(file, text.substr(0, text.size() - 30));
  write_records(file, 2);
  AuditCheck check = verify_audit_log(file);
  CHECK(check.outcome == AuditCheck::Outcome::ok);
  CHECK(check.records == 6);  // 3 good, the truncation record, 2 new
  CHECK(check.truncations == 1);
  std::vector<std::string> lines = split_lines(read_text(file));
  REQUIRE(lines.size() == 6);
  CHECK(lines[3].rfind("{\"seq\":4,", 0) == 0);
  CHECK(lines[3].find("\"event\":\"audit.truncated\"") != std::string::npos);
  CHECK(lines[3].find("removed a torn last line of") != std::string::npos);
}

TEST_CASE("a last line that is not a record is removed by the next writer") {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  write_records(file, 2);
  write_text(file, read_text(file) + std::string(40, '\0') + "\n");
  write_records(file, 1);
  AuditCheck check = verify_audit_log(file);
  CHECK(check.outcome == AuditCheck::Outcome::ok);
  CHECK(check.records == 4);
  CHECK(check.truncations == 1);
}

TEST_CASE("two processes appending to the same log keep one valid chain" * doctest::timeout(60)) {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  std::vector<pid_t> children;
  for (int c = 0; c < 2; ++c) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      {
        AuditLog log(file, test_actor());
        for (int i = 0; i < 200; ++i) {
          log.append(AuditRecord("step.started", "run-" + std::to_string(c)));
          if (!log.flush()) ::_exit(1);
        }
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  AuditCheck check = verify_audit_log(file);
  CHECK(check.outcome == AuditCheck::Outcome::ok);
  CHECK(check.records == 400);
}

TEST_CASE("two threads with their own AuditLog on one file keep one valid chain" *
          doctest::timeout(60)) {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  auto writer = [&](int id) {
    AuditLog log(file, test_actor());
    for (int i = 0; i < 200; ++i) {
      log.append(AuditRecord("step.ended", "run-" + std::to_string(id)));
      if (i % 3 == 0) log.flush();
    }
  };
  std::thread a(writer, 1), b(writer, 2);
  a.join();
  b.join();
  AuditCheck check = verify_audit_log(file);
  CHECK(check.outcome == AuditCheck::Outcome::ok);
  CHECK(check.records == 400);
}

TEST_CASE("an audit log that cannot be written sets a sticky error naming the file") {
  TempDir dir;
  // Root ignores permission bits, so make the parent a regular file.
  write_text(dir / "not-a-dir", "x");
  const std::string file = dir / "not-a-dir/audit.jsonl";
  AuditLog log(file, test_actor());
  log.append(AuditRecord("run.started", "r1"));
  CHECK(log.error().empty());
  CHECK_FALSE(log.flush());
  CHECK(log.error().find("cannot write audit log " + file + ": ") == 0);
  CHECK(log.error().find("Not a directory") != std::string::npos);
  log.append(AuditRecord("run.ended", "r1"));
  CHECK_FALSE(log.flush());
  CHECK(log.error().find("cannot write audit log") == 0);
}

TEST_CASE("the audit sink writes what it received at flush(), in one batch, without output") {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  auto sink = make_audit_sink(file, std::string(64, 'a'), test_actor());
  Event started;
  started.kind = EventKind::run_started;
  started.run_id = "r1";
  started.runbook_name = "hello";
  started.runbook_path = "/x/hello.yaml";
  started.trigger = "cli";
  started.params_json = R"({"name":"x","token":"***"})";
  sink->on_event(started);
  Event step;
  step.kind = EventKind::step_started;
  step.run_id = "r1";
  step.step_id = "greet";
  step.message = "echo hi";
  sink->on_event(step);
  CHECK(read_text(file).empty());
  sink->flush();
  CHECK(sink->error().empty());
  std::vector<std::string> lines = split_lines(read_text(file));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("\"sha256\":\"" + std::string(64, 'a') + "\"") != std::string::npos);
  CHECK(lines[0].find("\"params\":{\"name\":\"x\",\"token\":\"***\"}") != std::string::npos);
  CHECK(lines[1].find("\"event\":\"step.started\"") != std::string::npos);
  CHECK(lines[1].find("\"trigger\":\"cli\"") != std::string::npos);

  Event output;
  output.kind = EventKind::output;
  output.run_id = "r1";
  output.step_id = "greet";
  output.line = "hi";
  sink->on_event(output);
  Event ended;
  ended.kind = EventKind::step_ended;
  ended.run_id = "r1";
  ended.step_id = "greet";
  ended.state = StepState::succeeded;
  ended.exit_code = 0;
  sink->on_event(ended);
  CHECK(split_lines(read_text(file)).size() == 2);  // queued until the next flush
  sink->flush();
  lines = split_lines(read_text(file));
  REQUIRE(lines.size() == 3);
  CHECK(lines[2].find("\"event\":\"step.ended\"") != std::string::npos);
  CHECK(lines[2].find("\"state\":\"succeeded\",\"exit_code\":0") != std::string::npos);
  CHECK(verify_audit_log(file).outcome == AuditCheck::Outcome::ok);
}

TEST_CASE("tail gives the last records, oldest first, and filters by run") {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  write_records(file, 5, 1, "run-a");
  write_records(file, 3, 1, "run-b");
  std::string error;
  auto last = tail_audit_log(file, 4, "", &error);
  REQUIRE(last);
  REQUIRE(last->size() == 4);
  CHECK(last->front().seq == 5);
  CHECK(last->back().seq == 8);
  CHECK(last->back().run_id == "run-b");
  CHECK(last->back().step_id == "s3");
  CHECK(last->back().exit_code == 0);
  auto of_a = tail_audit_log(file, 10, "run-a", &error);
  REQUIRE(of_a);
  CHECK(of_a->size() == 5);
  CHECK(of_a->front().seq == 1);
  CHECK_FALSE(tail_audit_log(dir / "missing.jsonl", 3, "", &error));
  CHECK(error.find("missing.jsonl") != std::string::npos);
}

TEST_CASE("verifying a missing file says it cannot be read") {
  TempDir dir;
  AuditCheck check = verify_audit_log(dir / "nope.jsonl");
  CHECK(check.outcome == AuditCheck::Outcome::unreadable);
  CHECK(check.problem.find("nope.jsonl") != std::string::npos);
}
