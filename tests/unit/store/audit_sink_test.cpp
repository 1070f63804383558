// The audit sink's two flushes: flush() on the caller's thread, and
// flush_async(), which fsyncs on the sink's own thread and says when it is
// done. Records keep the order they were received in, whichever wrote them.

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "runbook/events.hpp"
#include "runbook/store.hpp"
#include "temp_dir.hpp"

using namespace runbook;
using runbook::store_test::read_text;
using runbook::store_test::TempDir;
using runbook::store_test::test_actor;
using runbook::store_test::write_text;

namespace {

Event step_event(EventKind kind, const std::string& step) {
  Event e;
  e.kind = kind;
  e.run_id = "20261122-010203-abcd";
  e.step_id = step;
  e.ts = std::chrono::system_clock::now();
  return e;
}

// The step ids of the records in `file`, in the file's order.
std::vector<std::string> steps_in(const std::string& file) {
  std::vector<std::string> steps;
  std::string text = read_text(file);
  const std::string key = "\"step_id\":\"";
  for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at)) {
    at += key.size();
    steps.push_back(text.substr(at, text.find('"', at) - at));
  }
  return steps;
}

size_t lines_in(const std::string& file) {
  std::string text = read_text(file);
  return size_t(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("flush_async writes on its own thread, in order with flush(), and says when") {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  // Before the sink: its thread may still be in set_value as the sink goes.
  std::vector<std::promise<size_t>> written(40);
  auto sink = make_audit_sink(file, std::string(64, 'a'), test_actor());
  for (int i = 0; i < 40; ++i) {
    sink->on_event(step_event(EventKind::step_started, "s" + std::to_string(i)));
    // What the file holds when `done` is called: at least this record.
    sink->flush_async([&, i] { written[size_t(i)].set_value(lines_in(file)); });
  }
  sink->on_event(step_event(EventKind::step_ended, "last"));
  sink->flush();  // waits for the batches before it
  CHECK(lines_in(file) == 41);
  for (int i = 0; i < 40; ++i) {
    std::future<size_t> f = written[size_t(i)].get_future();
    REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(f.get() >= size_t(i) + 1);
  }
  std::vector<std::string> expected;
  for (int i = 0; i < 40; ++i) expected.push_back("s" + std::to_string(i));
  expected.push_back("last");
  CHECK(steps_in(file) == expected);
  CHECK(verify_audit_log(file).outcome == AuditCheck::Outcome::ok);
  CHECK(sink->error().empty());
}

TEST_CASE("flush_async with nothing to write is done at once") {
  TempDir dir;
  auto sink = make_audit_sink(dir / "audit.jsonl", std::string(64, 'a'), test_actor());
  bool done = false;
  sink->flush_async([&] { done = true; });
  CHECK(done);  // called before flush_async returned, on this thread
}

TEST_CASE("a sink destroyed with batches queued writes them all") {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  {
    auto sink = make_audit_sink(file, std::string(64, 'a'), test_actor());
    for (int i = 0; i < 10; ++i) {
      sink->on_event(step_event(EventKind::step_started, "s" + std::to_string(i)));
      sink->flush_async(nullptr);
    }
    sink->on_event(step_event(EventKind::step_ended, "unflushed"));
  }
  CHECK(lines_in(file) == 11);
  CHECK(verify_audit_log(file).outcome == AuditCheck::Outcome::ok);
}

TEST_CASE("a write that fails is reported by error() before flush_async says it is done") {
  TempDir dir;
  write_text(dir / "not-a-dir", "a file\n");
  std::promise<std::string> seen;
  auto sink = make_audit_sink(dir / "not-a-dir/audit.jsonl", std::string(64, 'a'), test_actor());
  sink->on_event(step_event(EventKind::step_started, "s1"));
  sink->flush_async([&] { seen.set_value(sink->error()); });
  std::future<std::string> f = seen.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(f.get().find("cannot write audit log") != std::string::npos);
}

TEST_CASE("a fanout is done when its last sink is") {
  TempDir dir;
  const std::string file = dir / "audit.jsonl";
  std::promise<size_t> written;
  auto audit = make_audit_sink(file, std::string(64, 'a'), test_actor());
  struct Counting : EventSink {
    void on_event(const Event&) override {}
    void flush() override { ++flushes; }
    int flushes = 0;
  } other;
  EventFanout fanout;
  fanout.add(audit.get());
  fanout.add(&other);
  fanout.on_event(step_event(EventKind::step_started, "s1"));
  fanout.flush_async([&] { written.set_value(lines_in(file)); });
  std::future<size_t> f = written.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(f.get() == 1);
  CHECK(other.flushes == 1);
}
