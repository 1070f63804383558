#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "runbook/store.hpp"
#include "temp_dir.hpp"

using namespace runbook;
using runbook::store_test::TempDir;
using runbook::store_test::write_text;

namespace {

// Builds the events of a run, as the executor would send them.
class RunEvents {
 public:
  RunEvents(EventSink& sink, std::string run_id,
            SystemTime start = std::chrono::system_clock::now())
      : sink_(sink), run_id_(std::move(run_id)), now_(start) {}

  Event make(EventKind kind, const std::string& step = "") {
    Event e;
    e.kind = kind;
    e.run_id = run_id_;
    e.step_id = step;
    now_ += std::chrono::milliseconds(100);
    e.ts = now_;
    return e;
  }
  void send(Event e) { sink_.on_event(e); }

  void run_started(const std::string& name = "deploy", bool resumed = false,
                   bool rollback_only = false) {
    Event e = make(EventKind::run_started);
    e.runbook_name = name;
    e.runbook_path = "/srv/" + name + ".yaml";
    e.trigger = "cli";
    e.params_json = R"({"service":"web","token":"***"})";
    e.resumed = resumed;
    e.rollback_only = rollback_only;
    send(e);
  }
  void step_started(const std::string& step) {
    Event e = make(EventKind::step_started, step);
    e.log_path = "/state/runs/" + run_id_ + "/" + step + ".log";
    send(e);
  }
  void attempt(const std::string& step, int n, StepState state, int exit_code,
               const char* of = "step") {
    Event s = make(EventKind::attempt_started, step);
    s.attempt = n;
    s.of = of;
    send(s);
    Event e = make(EventKind::attempt_ended, step);
    e.attempt = n;
    e.of = of;
    e.state = state;
    e.exit_code = exit_code;
    e.duration = std::chrono::milliseconds(100);
    send(e);
  }
  void ended(EventKind kind, const std::string& step, StepState state,
             std::optional<int> exit_code = std::nullopt) {
    Event e = make(kind, step);
    e.state = state;
    e.exit_code = exit_code;
    e.duration = std::chrono::milliseconds(250);
    send(e);
  }
  void run_ended(RunState state) {
    Event e = make(EventKind::run_ended);
    e.run_state = state;
    send(e);
    sink_.flush();
  }

 private:
  EventSink& sink_;
  std::string run_id_;
  SystemTime now_;
};

}  // namespace

TEST_CASE("a run's steps, attempts and states are recorded and read back in start order") {
  TempDir dir;
  {
    auto sink = make_history_sink(dir.path(), std::string(64, 'b'));
    RunEvents run(*sink, "20261121-153012-0001");
    run.run_started();
    run.step_started("b");
    run.step_started("a");
    sink->flush();
    run.attempt("b", 1, StepState::failed, 1);
    run.attempt("b", 2, StepState::succeeded, 0);
    run.ended(EventKind::step_ended, "b", StepState::succeeded, 0);
    run.attempt("a", 1, StepState::failed, 3);
    run.ended(EventKind::step_ended, "a", StepState::failed, 3);
    run.ended(EventKind::step_ended, "c", StepState::not_run);
    run.run_ended(RunState::failed);
  }
  std::string error;
  std::optional<RecordedRun> run = load_run(dir.path(), "20261121-153012-0001", &error);
  REQUIRE(run);
  CHECK(error.empty());
  CHECK(run->runbook == "deploy");
  CHECK(run->path == "/srv/deploy.yaml");
  CHECK(run->sha256 == std::string(64, 'b'));
  CHECK(run->state == "failed");
  CHECK(run->exit_code == 1);
  CHECK(run->trigger == "cli");
  CHECK(run->params_json == R"({"service":"web","token":"***"})");
  CHECK_FALSE(run->ended_at.empty());
  CHECK_FALSE(run->engine_gone);
  REQUIRE(run->steps.size() == 3);
  CHECK(run->steps[0].id == "b");
  CHECK(run->steps[0].start_order == 1);
  CHECK(run->steps[0].state == "succeeded");
  REQUIRE(run->steps[0].attempts.size() == 2);
  CHECK(run->steps[0].attempts[0].exit_code == 1);
  CHECK(run->steps[0].attempts[1].state == "succeeded");
  CHECK(run->steps[1].id == "a");
  CHECK(run->steps[1].exit_code == 3);
  CHECK(run->steps[1].log_path == "/state/runs/20261121-153012-0001/a.log");
  CHECK(run->steps[2].id == "c");
  CHECK(run->steps[2].state == "not_run");
  CHECK_FALSE(run->steps[2].started());
  CHECK(run->started_steps() == std::vector<std::string>{"b", "a"});

  std::string json = to_json(*run);
  CHECK(json.find(R"("id":"20261121-153012-0001")") != std::string::npos);
  CHECK(json.find(R"("params":{"service":"web","token":"***"})") != std::string::npos);
  CHECK(json.find(R"("rollback":{"state":"none"})") != std::string::npos);
  CHECK(json.find(R"("attempts":[{"attempt":1,"state":"failed","exit_code":1)") !=
        std::string::npos);
}

TEST_CASE("what the history lost of a run's steps is taken back from the audit log") {
  TempDir dir;
  const std::string audit = dir / "audit.jsonl";
  const std::string id = "20261121-153012-0007";
  {
    auto history = make_history_sink(dir.path(), std::string(64, 'b'));
    auto audit_sink = make_audit_sink(audit, std::string(64, 'b'));
    EventFanout both;
    both.add(history.get());
    both.add(audit_sink.get());
    RunEvents run(both, id);
    run.run_started();
    run.step_started("a");
    run.ended(EventKind::step_ended, "a", StepState::succeeded, 0);
    run.step_started("b");
    both.flush();
    // A power cut took the history's last commits: only the audit log,
    // fsync'd before each step started, has b's end and c's start.
    RunEvents lost(*audit_sink, id, std::chrono::system_clock::now() + std::chrono::seconds(5));
    lost.ended(EventKind::step_ended, "b", StepState::failed, 2);
    lost.step_started("c");
    audit_sink->flush();
  }
  std::string error;
  std::optional<RecordedRun> run = load_run(dir.path(), id, &error);
  REQUIRE(run);
  REQUIRE(run->find_step("b"));
  CHECK_FALSE(run->find_step("b")->ended());
  CHECK(run->find_step("c") == nullptr);

  REQUIRE(complete_from_audit_log(audit, *run, &error));
  CHECK(error.empty());
  const StepRecord* a = run->find_step("a");
  const StepRecord* b = run->find_step("b");
  const StepRecord* c = run->find_step("c");
  REQUIRE((a && b && c));
  CHECK(a->state == "succeeded");
  CHECK(b->state == "failed");
  CHECK(b->exit_code == 2);
  CHECK(b->ended());
  CHECK(c->state == "running");
  CHECK(c->started());
  CHECK_FALSE(c->ended());
  CHECK(run->started_steps() == std::vector<std::string>{"a", "b", "c"});

  // No audit log: nothing to add, and no error.
  std::optional<RecordedRun> again = load_run(dir.path(), id, &error);
  REQUIRE(again);
  CHECK(complete_from_audit_log(dir / "none.jsonl", *again, &error));
  CHECK(again->find_step("c") == nullptr);
}

TEST_CASE("an unknown run, or no history at all, is not found and is no error") {
  TempDir dir;
  std::string error;
  CHECK_FALSE(load_run(dir.path(), "20260101-000000-0000", &error));
  CHECK(error.empty());
  auto runs = list_runs(dir.path(), {}, &error);
  REQUIRE(runs);
  CHECK(runs->empty());
  CHECK_FALSE(std::filesystem::exists(dir / "history.db"));
}

TEST_CASE("history lists runs newest first and filters by runbook, state and limit") {
  TempDir dir;
  auto t0 = std::chrono::system_clock::now() - std::chrono::hours(1);
  for (int i = 0; i < 4; ++i) {
    auto sink = make_history_sink(dir.path(), "");
    RunEvents run(*sink, "run-" + std::to_string(i), t0 + std::chrono::minutes(i));
    run.run_started(i % 2 ? "odd" : "even");
    run.run_ended(i == 3 ? RunState::failed : RunState::succeeded);
  }
  std::string error;
  auto all = list_runs(dir.path(), {}, &error);
  REQUIRE(all);
  REQUIRE(all->size() == 4);
  CHECK(all->front().id == "run-3");
  CHECK(all->back().id == "run-0");
  RunFilter odd;
  odd.runbook = "odd";
  CHECK(list_runs(dir.path(), odd, &error)->size() == 2);
  RunFilter failed;
  failed.state = "failed";
  auto f = list_runs(dir.path(), failed, &error);
  REQUIRE(f->size() == 1);
  CHECK(f->front().id == "run-3");
  RunFilter two;
  two.limit = 2;
  CHECK(list_runs(dir.path(), two, &error)->size() == 2);
  CHECK(to_json(all->front()).find(R"("state":"failed")") != std::string::npos);
}

TEST_CASE("a running run whose engine died is shown as engine gone" * doctest::timeout(20)) {
  TempDir dir;
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    {
      auto sink = make_history_sink(dir.path(), "");
      RunEvents run(*sink, "crashed");
      run.run_started();
      run.step_started("a");
      sink->flush();
    }
    ::_exit(0);  // no run.ended: as if killed
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::string error;
  auto run = load_run(dir.path(), "crashed", &error);
  REQUIRE(run);
  CHECK(run->state == "running");
  CHECK(run->engine_gone);
  CHECK(run->steps.at(0).started());
  CHECK_FALSE(run->steps.at(0).ended());
  RunFilter gone;
  gone.state = "engine_gone";
  CHECK(list_runs(dir.path(), gone, &error)->size() == 1);
  CHECK(to_json(*run).find(R"("engine_gone":true)") != std::string::npos);
}

TEST_CASE("a resumed run keeps what earlier processes recorded as succeeded") {
  TempDir dir;
  {
    auto sink = make_history_sink(dir.path(), "");
    RunEvents run(*sink, "r");
    run.run_started();
    run.step_started("a");
    run.ended(EventKind::step_ended, "a", StepState::succeeded, 0);
    run.step_started("b");
    sink->flush();
  }
  std::string first_started = load_run(dir.path(), "r", nullptr)->steps[0].started_at;
  {
    auto sink = make_history_sink(dir.path(), "");
    RunEvents run(*sink, "r");
    run.run_started("deploy", /*resumed=*/true);
    run.ended(EventKind::step_ended, "a", StepState::succeeded);  // not run again
    run.step_started("b");
    run.ended(EventKind::step_ended, "b", StepState::succeeded, 0);
    run.run_ended(RunState::succeeded);
  }
  auto run = load_run(dir.path(), "r", nullptr);
  REQUIRE(run);
  CHECK(run->state == "succeeded");
  CHECK(run->steps[0].id == "a");
  CHECK(run->steps[0].started_at == first_started);
  CHECK(run->steps[0].exit_code == 0);
  CHECK(run->steps[1].state == "succeeded");
}

TEST_CASE("a later rollback of a stopped run records its rollback state, not a new run state") {
  TempDir dir;
  {
    auto sink = make_history_sink(dir.path(), "");
    RunEvents run(*sink, "r");
    run.run_started();
    run.step_started("a");
    run.ended(EventKind::step_ended, "a", StepState::succeeded, 0);
    run.step_started("b");
    run.ended(EventKind::step_ended, "b", StepState::failed, 1);
    run.run_ended(RunState::failed);
  }
  CHECK(load_run(dir.path(), "r", nullptr)->rollback_state.empty());
  {
    auto sink = make_history_sink(dir.path(), "");
    RunEvents run(*sink, "r");
    run.run_started("deploy", false, /*rollback_only=*/true);
    run.send(run.make(EventKind::rollback_started, "b"));
    run.attempt("b", 1, StepState::succeeded, 0, "rollback");  // the rollback's attempt
    run.ended(EventKind::rollback_ended, "b", StepState::succeeded, 0);
    run.send(run.make(EventKind::rollback_started, "a"));
    run.ended(EventKind::rollback_ended, "a", StepState::succeeded, 0);
    run.run_ended(RunState::failed);
  }
  auto run = load_run(dir.path(), "r", nullptr);
  REQUIRE(run);
  CHECK(run->state == "failed");
  CHECK(run->rollback_state == "succeeded");
  CHECK_FALSE(run->rolled_back_at.empty());
  REQUIRE(run->find_step("b"));
  REQUIRE(run->find_step("b")->rollback);
  CHECK(run->find_step("b")->rollback->state == "succeeded");
  CHECK(run->find_step("b")->attempts.empty());  // rollback attempts are not step attempts
}

TEST_CASE("prune deletes runs that ended before the cutoff and their step logs") {
  TempDir dir;
  auto old_start = std::chrono::system_clock::now() - std::chrono::hours(24 * 40);
  for (const auto& [id, start] :
       {std::pair{std::string("old"), old_start},
        std::pair{std::string("new"), std::chrono::system_clock::now()}}) {
    auto sink = make_history_sink(dir.path(), "");
    RunEvents run(*sink, id, start);
    run.run_started();
    run.step_started("a");
    run.ended(EventKind::step_ended, "a", StepState::succeeded, 0);
    run.run_ended(RunState::succeeded);
    std::filesystem::create_directories(dir / ("runs/" + id));
    write_text(dir / ("runs/" + id + "/a.log"), "hello\n");
  }
  std::string error;
  std::optional<int> pruned = prune_history(dir.path(), 30, &error);
  REQUIRE(pruned);
  CHECK(*pruned == 1);
  CHECK_FALSE(load_run(dir.path(), "old", nullptr));
  CHECK(load_run(dir.path(), "new", nullptr));
  CHECK_FALSE(std::filesystem::exists(dir / "runs/old"));
  CHECK(std::filesystem::exists(dir / "runs/new/a.log"));
}

TEST_CASE("a history that cannot be written does not stop the run") {
  TempDir dir;
  write_text(dir / "file", "x");
  auto sink = make_history_sink(dir / "file/state", "");
  RunEvents run(*sink, "r");
  run.run_started();
  run.run_ended(RunState::succeeded);
  CHECK(sink->error().empty());
}
