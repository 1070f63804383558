// `runbook serve`'s schedules on a real server, with 6-field cron (seconds
// first) to keep them short: runs with trigger cron, the overlap rules
// (skip, queue, replace) and catch-up after downtime.
//
// Timing: fire times are wall-clock seconds and the machine may be slow, so
// the tests wait for what must happen (bounded) and check orders and counts,
// never how long something took.

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "http_client.hpp"
#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

namespace {

// A runbook `name` whose step appends "start" to DIR/NAME.marks, sleeps
// `seconds`, then appends "end": the marks show whether two runs overlapped.
void write_marking_runbook(const TempDir& dir, const std::string& name,
                           const std::string& seconds) {
  const std::string marks = dir / (name + ".marks");
  dir.write(name + ".yaml", "version: 1\nname: " + name +
                                "\nsteps:\n  - id: work\n    run: echo start >> " + marks +
                                "; sleep " + seconds + "; echo end >> " + marks + "\n");
}

// Whether the marks are start, end, start, end … (the last end may be
// missing: a run cancelled at shutdown), i.e. no two runs overlapped.
bool one_at_a_time(const std::string& marks) {
  std::istringstream in(marks);
  std::string expected = "start";
  for (std::string line; std::getline(in, line);) {
    if (line != expected) return false;
    expected = expected == "start" ? "end" : "start";
  }
  return true;
}

// A config with one schedule, shutdown_grace 1s.
std::string one_schedule(const TempDir& dir, const std::string& name, const std::string& cron,
                         const std::string& runbook, const std::string& more = "") {
  return write_serve_config(dir, "shutdown_grace: 1s\nschedules:\n  - name: " + name +
                                     "\n    cron: \"" + cron + "\"\n    runbook: " + runbook +
                                     "\n" + more);
}

// A schedule `slow-every-second` of runbook `slow` (3 s, marking) firing
// every second with `overlap`.
std::string slow_every_second(const TempDir& dir, const std::string& overlap) {
  write_marking_runbook(dir, "slow", "3");
  return one_schedule(dir, "slow-every-second", "* * * * * *", "slow.yaml",
                      "    overlap: " + overlap + "\n");
}

long long now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TEST_CASE("a schedule of runbook serve runs its runbook, recorded with trigger cron" *
          doctest::timeout(120)) {
  TempDir dir;
  dir.write("tick.yaml", "version: 1\nname: tick\nsteps:\n  - id: a\n    run: echo tick\n");
  ServeProcess server(dir, one_schedule(dir, "ticker", "*/2 * * * * *", "tick.yaml"));
  INFO(server.log());
  std::string id;
  CHECK(eventually(
      [&] {
        for (const std::string& run : server.runs("runbook=tick"))
          if (json_string(run, "state") == "succeeded") id = json_string(run, "id");
        return !id.empty();
      },
      40s));
  REQUIRE_FALSE(id.empty());
  server.signal(SIGTERM);
  CHECK(server.wait(60s) == 0);

  const std::string show = shown_run(dir, id);
  INFO(show);
  CHECK(json_string(show, "trigger") == "cron");
  CHECK(json_string(show, "state") == "succeeded");
}

TEST_CASE("runs of schedules firing together on a new state dir are all in history" *
          doctest::timeout(120)) {
  // Their runs start at the same moment and create history.db together.
  TempDir dir;
  dir.write("mark.yaml", "version: 1\nname: mark\nsteps:\n  - id: a\n    run: touch " +
                             (dir / "ran-") + "$RUNBOOK_RUN_ID\n");
  std::string schedules = "shutdown_grace: 5s\nschedules:\n";
  for (const char* name : {"one", "two", "three", "four"})
    schedules += std::string("  - name: ") + name +
                 "\n    cron: \"*/2 * * * * *\"\n    runbook: mark.yaml\n";
  ServeProcess server(dir, write_serve_config(dir, schedules));
  INFO(server.log());
  auto ran = [&] {
    std::vector<std::string> ids;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      const std::string name = entry.path().filename();
      if (name.rfind("ran-", 0) == 0) ids.push_back(name.substr(4));
    }
    return ids;
  };
  // Asked for the runs meanwhile, as a dashboard would.
  CHECK(eventually([&] { return !server.runs().empty() && ran().size() >= 4; }, 30s));
  server.signal(SIGTERM);
  CHECK(server.wait(60s) == 0);

  std::vector<std::string> runs = history_runs(dir);
  for (const std::string& id : ran()) {
    CAPTURE(id);
    CHECK(count_runs(runs, {{"id", id}, {"trigger", "cron"}}) == 1);
  }
}

TEST_CASE("with overlap: skip runbook serve records fires during a run as skipped runs" *
          doctest::timeout(120)) {
  TempDir dir;
  ServeProcess server(dir, slow_every_second(dir, "skip"));
  INFO(server.log());
  CHECK(eventually(
      [&] {
        std::vector<std::string> runs = server.runs("runbook=slow");
        return count_runs(runs, {{"state", "skipped"}}) >= 2 &&
               count_runs(runs, {{"state", "succeeded"}}) >= 1;
      },
      40s));
  const std::map<std::string, std::string> skipped{{"schedule", "slow-every-second"},
                                                   {"outcome", "skipped"}};
  CHECK(server.metrics().value("runbook_schedule_fires_total", skipped).value_or(0) >= 2);
  server.signal(SIGTERM);
  CHECK(server.wait(60s) == 0);

  std::vector<std::string> runs = history_runs(dir);
  CHECK(count_runs(runs, {{"runbook", "slow"}, {"state", "skipped"}, {"trigger", "cron"}}) >= 2);
  CHECK(count_runs(runs, {{"runbook", "slow"}, {"state", "succeeded"}}) >= 1);
  INFO(read_file(dir / "slow.marks"));
  CHECK(one_at_a_time(read_file(dir / "slow.marks")));

  std::vector<std::string> records = audit_records(dir, "run.not_started");
  CHECK(records.size() >= 2);
  for (const std::string& record : records) {
    CAPTURE(record);
    CHECK(json_string(record, "state") == "skipped");
    CHECK_FALSE(json_string(record, "reason").empty());
  }
}

TEST_CASE("with overlap: queue runbook serve keeps at most one run of a schedule waiting" *
          doctest::timeout(120)) {
  TempDir dir;
  ServeProcess server(dir, slow_every_second(dir, "queue"));
  INFO(server.log());
  size_t most_waiting = 0;
  CHECK(eventually(
      [&] {
        const size_t listed = server.runs("state=queued").size();
        const size_t counted = size_t(std::atoi(
            json_member(server.request("GET", "/healthz").body, "queued").value_or("0").c_str()));
        CHECK(listed <= 1);
        CHECK(counted <= 1);
        most_waiting = std::max({most_waiting, listed, counted});
        std::vector<std::string> runs = server.runs("runbook=slow");
        return count_runs(runs, {{"state", "succeeded"}}) >= 2 &&
               count_runs(runs, {{"state", "skipped"}}) >= 1;
      },
      60s));
  CHECK(most_waiting == 1);
  server.signal(SIGTERM);
  CHECK(server.wait(60s) == 0);
  INFO(read_file(dir / "slow.marks"));
  CHECK(one_at_a_time(read_file(dir / "slow.marks")));
  std::vector<std::string> runs = history_runs(dir);
  CHECK(count_runs(runs, {{"runbook", "slow"}, {"state", "succeeded"}, {"trigger", "cron"}}) >= 2);
}

TEST_CASE("with overlap: replace runbook serve cancels the running run, which rolls back" *
          doctest::timeout(120)) {
  TempDir dir;
  const std::string seconds = std::to_string(unique_token());
  dir.write("long.yaml", "version: 1\nname: long\nsteps:\n  - id: work\n    run: touch " +
                             (dir / "started-") + "$RUNBOOK_RUN_ID; sleep " + seconds +
                             "\n    rollback: touch " + (dir / "rolled-back-") +
                             "$RUNBOOK_RUN_ID\n");
  ServeProcess server(dir, one_schedule(dir, "long-every-2s", "*/2 * * * * *", "long.yaml",
                                        "    overlap: replace\n"));
  INFO(server.log());

  // A run cancelled before its step started has nothing to roll back: wait
  // for one whose step had started.
  std::string replaced;
  CHECK(eventually(
      [&] {
        for (const std::string& run : server.runs("runbook=long")) {
          const std::string id = json_string(run, "id");
          if (json_string(run, "state") == "cancelled" && file_exists(dir / ("started-" + id)))
            replaced = id;
        }
        return !replaced.empty();
      },
      60s));
  REQUIRE_FALSE(replaced.empty());
  CHECK(wait_for_file(dir / ("rolled-back-" + replaced), 10s));
  const std::map<std::string, std::string> fires{{"schedule", "long-every-2s"},
                                                 {"outcome", "replaced"}};
  CHECK(server.metrics().value("runbook_schedule_fires_total", fires).value_or(0) >= 1);

  server.signal(SIGTERM);
  CHECK(server.wait(60s) == 0);
  CHECK(none_left("sleep " + seconds));

  // The replaced run rolled back, and the next one started after it ended.
  const std::string show = shown_run(dir, replaced);
  INFO(show);
  CHECK(json_string(show, "state") == "cancelled");
  CHECK(json_string(show, "trigger") == "cron");
  CHECK(json_array(json_member(show, "steps").value_or("[]")).size() == 1);
  CHECK(json_string(show, "steps.0.rollback.state") == "succeeded");
  const std::string ended = json_string(show, "ended_at");
  std::vector<std::string> runs = history_runs(dir);
  bool followed = false;
  for (const std::string& run : runs) {
    const std::string started = json_string(run, "started_at");
    if (json_string(run, "id") != replaced && started > json_string(show, "started_at")) {
      CAPTURE(run);
      CHECK(started >= ended);
      followed = true;
    }
  }
  CHECK(followed);
}

TEST_CASE("with overlap: replace a fire replaces a run still waiting for a slot" *
          doctest::timeout(120)) {
  TempDir dir;
  // One slot, held by a posted run until DIR/go exists.
  const std::string go = dir / "go";
  dir.write("hold.yaml",
            "version: 1\nname: hold\nsteps:\n  - id: wait\n    run: "
            "for i in $(seq 600); do [ -e " +
                go + " ] && exit 0; sleep 0.1; done; exit 1\n");
  dir.write("quick.yaml", "version: 1\nname: quick\nsteps:\n  - id: a\n    run: echo quick\n");
  ServeProcess server(dir, write_serve_config(dir, "max_concurrent_runs: 1\n"));
  INFO(server.log());
  server.start_running(R"({"runbook": "hold"})");
  // The schedule comes once the slot is held (SIGHUP), so that no fire runs.
  write_serve_config(dir,
                     "max_concurrent_runs: 1\nschedules:\n"
                     "  - name: quick-every-second\n"
                     "    cron: \"* * * * * *\"\n"
                     "    runbook: quick.yaml\n"
                     "    overlap: replace\n");
  server.signal(SIGHUP);

  // Each fire cancels the waiting run and waits in its place: never two
  // waiting, none skipped.
  CHECK(eventually(
      [&] {
        std::vector<std::string> runs = server.runs("runbook=quick");
        CHECK(count_runs(runs, {{"state", "queued"}}) <= 1);
        return count_runs(runs, {{"state", "cancelled"}}) >= 3;
      },
      60s));
  std::vector<std::string> runs = server.runs("runbook=quick");
  INFO(runs.size());
  CHECK(count_runs(runs, {{"state", "skipped"}}) == 0);
  CHECK(count_runs(runs, {{"state", "running"}}) == 0);

  // Once the slot is free, the run waiting then succeeds.
  dir.write("go", "");
  CHECK(eventually(
      [&] {
        return count_runs(server.runs("runbook=quick"), {{"state", "succeeded"}}) >= 1;
      },
      60s));
  server.signal(SIGTERM);
  CHECK(server.wait(60s) == 0);
}

TEST_CASE("after downtime runbook serve runs a missed fire once with catch_up: latest, not none" *
          doctest::timeout(180)) {
  TempDir dir;
  dir.write("late.yaml", "version: 1\nname: late\nsteps:\n  - id: a\n    run: echo late\n");
  dir.write("never.yaml", "version: 1\nname: never\nsteps:\n  - id: a\n    run: echo never\n");
  // A state dir with a history already, as after downtime; two first runs
  // creating history.db together are another test's business.
  REQUIRE(run_cli(dir, {"run", dir / "late.yaml"}).exit_code == 0);
  // Two fire times a minute, chosen now: A (in 6 s) while the server is up,
  // B (20 s later) while it is down; after B the next is A again, a minute
  // on, so that any run soon after the restart can only be a catch-up.
  const long long start = now_seconds();
  const long long fire_a = start + 6, fire_b = start + 26;
  const std::string seconds = std::to_string(std::min(fire_a % 60, fire_b % 60)) + "," +
                              std::to_string(std::max(fire_a % 60, fire_b % 60));
  const std::string cron = seconds + " * * * * *";
  const std::string config = write_serve_config(dir,
                                                "shutdown_grace: 1s\nschedules:\n"
                                                "  - name: late\n    cron: \"" +
                                                    cron +
                                                    "\"\n    runbook: late.yaml\n"
                                                    "    catch_up: latest\n"
                                                    "  - name: never\n    cron: \"" +
                                                    cron +
                                                    "\"\n    runbook: never.yaml\n"
                                                    "    catch_up: none\n");
  auto cron_runs = [&](const std::vector<std::string>& runs, const std::string& runbook) {
    return count_runs(runs, {{"runbook", runbook}, {"trigger", "cron"}, {"state", "succeeded"}});
  };

  {
    ServeProcess server(dir, config);
    INFO(server.log());
    REQUIRE_MESSAGE(now_seconds() < fire_a, "the server took too long to start");
    CHECK(eventually(
        [&] {
          std::vector<std::string> runs = server.runs();
          return cron_runs(runs, "late") == 1 && cron_runs(runs, "never") == 1;
        },
        15s));
    server.signal(SIGTERM);
    CHECK(server.wait(60s) == 0);
    REQUIRE_MESSAGE(now_seconds() < fire_b, "the first server ran past the second fire time");
  }

  while (now_seconds() <= fire_b) std::this_thread::sleep_for(100ms);
  ServeProcess server(dir, config);
  INFO(server.log());
  CHECK(eventually([&] { return cron_runs(server.runs(), "late") == 2; }, 20s));
  // Both schedules were looked at together at start-up; give `never` time anyway.
  std::this_thread::sleep_for(3s);
  std::vector<std::string> runs = server.runs();
  MetricsText metrics = server.metrics();
  const bool before_next_fire = now_seconds() < fire_a + 60;
  server.signal(SIGTERM);
  CHECK(server.wait(60s) == 0);

  REQUIRE_MESSAGE(before_next_fire, "the test ran into the next regular fire time");
  CHECK(cron_runs(runs, "late") == 2);
  CHECK(count_runs(runs, {{"runbook", "never"}}) == 1);
  CHECK(
      metrics.value("runbook_schedule_fires_total", {{"schedule", "late"}, {"outcome", "started"}})
          .value_or(0) == 1);
  CHECK_FALSE(
      metrics.value("runbook_schedule_fires_total", {{"schedule", "never"}, {"outcome", "started"}})
          .value_or(0) > 0);
}
