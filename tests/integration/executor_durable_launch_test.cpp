// The executor, in this process, with a sink whose flush_async takes its time
// on a thread of its own, as the audit log's fsync does: no step's process
// starts before its start was made durable, and a step stopped while it waits
// for that never starts.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "run_fixture.hpp"
#include "runbook/executor.hpp"
#include "runbook/load.hpp"

using namespace runbook;
using runbook_test::read_file;
using runbook_test::TempDir;

namespace {

// Appends "durable STEP…" to `log` each time the steps started since the
// last flush are made "durable": at once by flush(), after `delay` on a
// thread by flush_async().
class SlowSink : public EventSink {
 public:
  SlowSink(std::string log, std::chrono::milliseconds delay)
      : log_(std::move(log)), delay_(delay) {}
  ~SlowSink() override {
    for (std::thread& t : threads_) t.join();
  }

  void on_event(const Event& e) override {
    std::lock_guard<std::mutex> lock(mutex_);
    events.push_back(e);
    if (e.kind == EventKind::step_started) pending_ += " " + e.step_id;
  }
  void flush() override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string steps = std::exchange(pending_, "");
    if (error_.empty()) write_durable(steps);
  }
  void flush_async(std::function<void()> done) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++async_flushes;
    threads_.emplace_back([this, steps = std::exchange(pending_, ""), done] {
      std::this_thread::sleep_for(delay_);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (fail_async) {
          error_ = "cannot write audit log (test): No space left on device";
        } else if (error_.empty()) {
          write_durable(steps);
        }
      }
      if (done) done();
    });
  }

  std::string error() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return error_;
  }

  std::vector<Event> events;
  int async_flushes = 0;
  // Set: each flush_async fails, as a full disk would, before `done`.
  bool fail_async = false;

 private:
  void write_durable(const std::string& steps) {
    if (steps.empty()) return;
    std::string line = "durable" + steps + "\n";
    // On the sink's threads too: a failure shows as a missing line.
    int fd = ::open(log_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    if (::write(fd, line.data(), line.size()) < 0) line.clear();
    ::close(fd);
  }

  std::string log_;
  std::chrono::milliseconds delay_;
  mutable std::mutex mutex_;
  std::string pending_;
  std::string error_;
  std::vector<std::thread> threads_;
};

Runbook load(const TempDir& dir, const std::string& text) {
  LoadResult loaded = load_runbook_text(text, dir / "runbook.yaml");
  REQUIRE_MESSAGE(loaded.ok(), loaded.diagnostics.size());
  return *loaded.runbook;
}

// `count` independent steps s1, s2…, two at once, each running `before`
// then appending "ran ID" to `log`.
std::string independent_steps(int count, const std::string& before, const std::string& log) {
  std::string text = "version: 1\nname: steps\nmax_parallel: 2\nsteps:\n";
  for (int i = 1; i <= count; ++i) {
    std::string id = "s" + std::to_string(i);
    text += "  - id: " + id + "\n    exec: [sh, -c, '" + before + "echo ran " + id + " >> " + log +
            "']\n";
  }
  return text;
}

RunOptions options_in(const TempDir& dir) {
  RunOptions options;
  options.state_dir = dir / "state";
  return options;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

}  // namespace

TEST_CASE("with other steps running, a step starts once its start is durable, not before") {
  TempDir dir;
  const std::string log = dir / "order.log";
  Runbook runbook = load(dir, independent_steps(8, "", log));
  SlowSink sink(log, std::chrono::milliseconds(30));
  RunOutcome outcome = execute_runbook(runbook, options_in(dir), sink);
  REQUIRE(outcome.error.empty());
  CHECK(outcome.state == RunState::succeeded);
  // The first two start together after one flush; later ones while the
  // other slot's step runs.
  CHECK(sink.async_flushes > 0);
  std::vector<std::string> lines = lines_of(read_file(log));
  for (int i = 1; i <= 8; ++i) {
    std::string id = "s" + std::to_string(i);
    size_t durable = lines.size(), ran = lines.size();
    for (size_t n = 0; n < lines.size(); ++n) {
      if (lines[n].rfind("durable", 0) == 0 &&
          (lines[n] + " ").find(" " + id + " ") != std::string::npos)
        durable = std::min(durable, n);
      if (lines[n] == "ran " + id) ran = n;
    }
    INFO(read_file(log));
    REQUIRE(ran < lines.size());
    CHECK(durable < ran);
  }
}

TEST_CASE("a step stopped while its start is being made durable never starts") {
  TempDir dir;
  const std::string marker = dir / "later-ran";
  // `later` is announced when `quick` ends, while `fails` runs: its flush
  // takes a second, and `fails` fails the run before that.
  Runbook runbook = load(dir,
                         "version: 1\nname: stopped\nmax_parallel: 2\nsteps:\n"
                         "  - id: fails\n    exec: [sh, -c, 'sleep 0.3; exit 1']\n"
                         "  - id: quick\n    exec: ['true']\n"
                         "  - id: later\n    needs: [quick]\n    exec: [touch, " +
                             marker + "]\n");
  SlowSink sink(dir / "order.log", std::chrono::milliseconds(1000));
  RunOutcome outcome = execute_runbook(runbook, options_in(dir), sink);
  REQUIRE(outcome.error.empty());
  CHECK(outcome.state == RunState::failed);
  CHECK(sink.async_flushes > 0);
  CHECK_FALSE(std::filesystem::exists(marker));
  // Its attempt was recorded as started: it is recorded as ended too.
  bool later_cancelled = false, later_attempt_cancelled = false;
  for (const Event& e : sink.events) {
    if (e.step_id != "later") continue;
    if (e.kind == EventKind::step_ended) {
      later_cancelled = e.state == StepState::cancelled;
      CHECK(e.message.find("stopped before its process started") != std::string::npos);
    }
    if (e.kind == EventKind::attempt_ended)
      later_attempt_cancelled = e.state == StepState::cancelled;
  }
  CHECK(later_cancelled);
  CHECK(later_attempt_cancelled);
}

TEST_CASE("a start that cannot be made durable by flush_async does not start (fail closed)") {
  TempDir dir;
  const std::string log = dir / "order.log";
  Runbook runbook = load(dir, independent_steps(6, "sleep 0.1; ", log));
  SlowSink sink(dir / "durable.log", std::chrono::milliseconds(10));
  sink.fail_async = true;
  RunOutcome outcome = execute_runbook(runbook, options_in(dir), sink);
  REQUIRE(outcome.error.empty());
  CHECK(outcome.state == RunState::failed);
  CHECK(sink.async_flushes > 0);
  // s1 and s2 started together after a flush() that worked; nothing after.
  std::string ran = read_file(log);
  for (int i = 3; i <= 6; ++i) CHECK(ran.find("ran s" + std::to_string(i)) == std::string::npos);
  bool said_why = false;
  for (const Event& e : sink.events)
    if (e.kind == EventKind::step_ended && e.step_id == "s3")
      said_why = e.message.find("No space left on device") != std::string::npos;
  CHECK(said_why);
}
