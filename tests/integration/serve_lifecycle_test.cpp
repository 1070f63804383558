// `runbook serve` from start to stop: a bad config, --next, SIGHUP reloads
// (refused and accepted), and SIGTERM with runs running and queued.

#include <doctest/doctest.h>

#include <ctime>
#include <regex>
#include <string>

#include "http_client.hpp"
#include "run_binary.hpp"
#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;
using runbook::testing::run_binary;
using runbook::testing::RunResult;

namespace {

// `runbook serve ARGS...` run to its end, with the output apart.
RunResult serve_cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv{RUNBOOK_BINARY, "serve"};
  argv.insert(argv.end(), args.begin(), args.end());
  runbook::testing::RunOptions options;
  options.timeout = 30s;
  return run_binary(argv, options);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Seconds since the epoch of an RFC 3339 time with seconds and an offset
// (`2026-11-22T03:30:00+01:00`, or `Z`); nullopt when it is not one.
std::optional<long long> rfc3339_seconds(const std::string& text) {
  static const std::regex shape(
      R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z|([+-])(\d{2}):(\d{2}))$)");
  std::smatch m;
  if (!std::regex_match(text, m, shape)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  long long local = ::timegm(&tm);
  if (m[7] == "Z") return local;
  const long long offset = std::stoi(m[9]) * 3600LL + std::stoi(m[10]) * 60LL;
  return m[8] == "+" ? local - offset : local + offset;
}

long long now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A runbook whose step marks DIR/started, then sleeps `seconds`; its
// rollback writes DIR/rolled-back.
std::string marking_runbook(const TempDir& dir, const std::string& name,
                            const std::string& seconds) {
  return dir.write(name + ".yaml",
                   "version: 1\nname: " + name + "\nsteps:\n  - id: nap\n    run: touch " +
                       (dir / "started") + "; sleep " + seconds +
                       "\n    rollback: echo rolled back > " + (dir / "rolled-back") + "\n");
}

}  // namespace

TEST_CASE("runbook serve with a bad config exits 2 with FILE:LINE:COL errors and never listens" *
          doctest::timeout(60)) {
  TempDir dir;
  dir.write("hello.yaml", "version: 1\nname: hello\nsteps:\n  - id: a\n    run: echo hi\n");
  std::string config = dir.write("server.yaml",
                                 "listen: 127.0.0.1:0\n"
                                 "state_dir: state\n"
                                 "max_concurent_runs: 2\n"
                                 "schedules:\n"
                                 "  - name: nightly\n"
                                 "    cron: \"61 * * * *\"\n"
                                 "    runbook: hello.yaml\n"
                                 "    overlap: skp\n");
  RunResult r = serve_cli({"--config", config});
  INFO(r.out);
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.find("listening") == std::string::npos);
  CHECK(r.err.find(config + ":3:1: error: ") != std::string::npos);
  CHECK(r.err.find(config + ":6:11: error: ") != std::string::npos);
  CHECK(r.err.find(config + ":8:14: error: ") != std::string::npos);
  CHECK_FALSE(file_exists(dir / "state/history.db"));
}

TEST_CASE(
    "runbook serve reports a bad tokens file where the config names it, with its other errors" *
    doctest::timeout(60)) {
  TempDir dir;
  dir.write("tokens", "a-token-of-32-characters-or-more-0123\n");
  using std::filesystem::perms;
  std::filesystem::permissions(dir / "tokens", perms::owner_read | perms::owner_write |
                                                   perms::group_read | perms::others_read);
  std::string config = dir.write("server.yaml",
                                 "listen: 127.0.0.1:0\n"
                                 "auth:\n"
                                 "  bearer_tokens_file: tokens\n"
                                 "  hmac_secret_file: no-such-file\n"
                                 "max_concurent_runs: 2\n");
  RunResult r = serve_cli({"--config", config});
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(config + ":5:1: error: ") != std::string::npos);
  CHECK(r.err.find(config + ":3:23: error: auth.bearer_tokens_file " + (dir / "tokens") +
                   ": permissions 0644") != std::string::npos);
  CHECK(r.err.find(config + ":4:21: error: auth.hmac_secret_file " + (dir / "no-such-file") +
                   ": cannot read") != std::string::npos);
}

TEST_CASE("runbook serve refuses a tokens file that others may read (exit 2)" *
          doctest::timeout(60)) {
  TempDir dir;
  std::string config = write_serve_config(dir);
  std::filesystem::permissions(
      dir / "tokens", std::filesystem::perms::group_read | std::filesystem::perms::others_read,
      std::filesystem::perm_options::add);
  RunResult r = serve_cli({"--config", config});
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.find("listening") == std::string::npos);
  CHECK(r.err.find(dir / "tokens") != std::string::npos);
  CHECK(r.err.find(kServeToken) == std::string::npos);
}

TEST_CASE("runbook serve --next prints the next 5 fire times in RFC 3339, increasing" *
          doctest::timeout(60)) {
  TempDir dir;
  dir.write("hello.yaml", "version: 1\nname: hello\nsteps:\n  - id: a\n    run: echo hi\n");
  std::string config = write_serve_config(dir,
                                          "schedules:\n"
                                          "  - name: every-2s\n"
                                          "    cron: \"*/2 * * * * *\"\n"
                                          "    runbook: hello.yaml\n"
                                          "  - name: nightly\n"
                                          "    cron: \"30 3 * * *\"\n"
                                          "    timezone: Europe/Berlin\n"
                                          "    runbook: hello.yaml\n");

  SUBCASE("a 6-field UTC schedule every 2 seconds") {
    const long long before = now_seconds();
    RunResult r = serve_cli({"--config", config, "--next", "every-2s"});
    INFO(r.out);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    std::vector<std::string> lines = lines_of(r.out);
    REQUIRE(lines.size() == 5);
    long long previous = before - 1;  // the first may be in the second `before` is in
    for (const std::string& line : lines) {
      CAPTURE(line);
      std::optional<long long> t = rfc3339_seconds(line);
      REQUIRE(t);
      CHECK(*t > previous);
      CHECK(*t % 2 == 0);
      CHECK((line.ends_with("Z") || line.ends_with("+00:00")));
      previous = *t;
    }
    CHECK(*rfc3339_seconds(lines.back()) - *rfc3339_seconds(lines.front()) == 8);
    CHECK(*rfc3339_seconds(lines.front()) <= now_seconds() + 3);
  }

  SUBCASE("a daily schedule in Europe/Berlin, with the zone's offset") {
    RunResult r = serve_cli({"--config", config, "--next", "nightly"});
    INFO(r.out);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    std::vector<std::string> lines = lines_of(r.out);
    REQUIRE(lines.size() == 5);
    std::optional<long long> previous;
    for (const std::string& line : lines) {
      CAPTURE(line);
      std::optional<long long> t = rfc3339_seconds(line);
      REQUIRE(t);
      CHECK(line.find("T03:30:00") == 10);
      CHECK((line.ends_with("+01:00") || line.ends_with("+02:00")));
      if (previous) {
        // A day, or a day and an hour either way across a DST change.
        CHECK(*t - *previous >= 23 * 3600);
        CHECK(*t - *previous <= 25 * 3600);
      }
      previous = t;
    }
    CHECK(*rfc3339_seconds(lines.front()) > now_seconds());
    CHECK(*rfc3339_seconds(lines.front()) <= now_seconds() + 25 * 3600);
  }

  SUBCASE("an unknown schedule exits 2 naming the known ones") {
    RunResult r = serve_cli({"--config", config, "--next", "nigthly"});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find("every-2s") != std::string::npos);
    CHECK(r.err.find("nightly") != std::string::npos);
  }
}

TEST_CASE("the example server config of the README is valid and lists its schedule's fires" *
          doctest::timeout(60)) {
  const std::string example = std::string(RUNBOOK_SOURCE_DIR) + "/examples/server.yaml";
  RunResult r = serve_cli({"--config", example, "--next", "hello-every-minute"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  std::vector<std::string> lines = lines_of(r.out);
  CHECK(lines.size() == 5);
  for (const std::string& line : lines) {
    CAPTURE(line);
    CHECK(rfc3339_seconds(line));
    CHECK(line.substr(16, 3) == ":00");  // every minute, on the minute
  }
}

TEST_CASE("on SIGHUP runbook serve refuses a bad config, keeps serving and counts the error" *
          doctest::timeout(90)) {
  TempDir dir;
  dir.write("hello.yaml", "version: 1\nname: hello\nsteps:\n  - id: a\n    run: echo hi\n");
  std::string config = write_serve_config(dir, "shutdown_grace: 2s\n");
  ServeProcess server(dir, config);
  INFO(server.log());

  // Line 6 of the new file is wrong.
  write_serve_config(dir, "shutdown_grace: 2s\nmax_concurrent_runs: lots\n");
  server.signal(SIGHUP);
  const std::map<std::string, std::string> error{{"result", "error"}};
  CHECK(eventually(
      [&] { return server.metrics().value("runbook_config_reloads_total", error) == 1; }, 20s));
  CHECK(server.metrics().value("runbook_config_reloads_total", {{"result", "ok"}}) == 0);
  CHECK(server.log().find(config + ":6:") != std::string::npos);

  // Still serving, with the old config.
  CHECK(server.request("GET", "/healthz").status == 200);
  const std::string id = server.start_run(R"({"runbook": "hello.yaml"})");
  CHECK(server.wait_for_state(id, {"succeeded", "failed"}) == "succeeded");
  server.signal(SIGTERM);
  CHECK(server.wait(60s) == 0);
}

TEST_CASE("on SIGHUP runbook serve takes a good new config and runs its new schedule" *
          doctest::timeout(90)) {
  TempDir dir;
  dir.write("tick.yaml", "version: 1\nname: tick\nsteps:\n  - id: a\n    run: echo tick\n");
  std::string config = write_serve_config(dir, "shutdown_grace: 2s\n");
  ServeProcess server(dir, config);
  INFO(server.log());
  const std::map<std::string, std::string> started{{"schedule", "tick"}, {"outcome", "started"}};
  CHECK_FALSE(server.metrics().value("runbook_schedule_fires_total", started));

  write_serve_config(dir,
                     "shutdown_grace: 2s\n"
                     "schedules:\n"
                     "  - name: tick\n"
                     "    cron: \"* * * * * *\"\n"
                     "    runbook: tick.yaml\n"
                     "    overlap: skip\n"
                     "  - name: new-year\n"
                     "    cron: \"0 0 1 1 *\"\n"
                     "    runbook: tick.yaml\n"
                     "    catch_up: latest\n");
  server.signal(SIGHUP);
  CHECK(eventually(
      [&] {
        return server.metrics().value("runbook_config_reloads_total", {{"result", "ok"}}) == 1;
      },
      20s));
  // From the reload on, a fire of a new schedule missed while the server is
  // down can be caught up: its last fire time is kept before it ever fired.
  CHECK(read_file(dir / "state/server/schedules").find("new-year ") != std::string::npos);
  CHECK(eventually(
      [&] {
        return count_runs(history_runs(dir),
                          {{"runbook", "tick"}, {"trigger", "cron"}, {"state", "succeeded"}}) >= 1;
      },
      30s));
  CHECK(server.metrics().value("runbook_schedule_fires_total", started).value_or(0) >= 1);

  // A schedule removed by a reload is forgotten: added back later, it does
  // not catch up on the time it was not configured.
  write_serve_config(dir, "shutdown_grace: 2s\n");
  server.signal(SIGHUP);
  CHECK(eventually(
      [&] {
        return server.metrics().value("runbook_config_reloads_total", {{"result", "ok"}}) == 2;
      },
      20s));
  CHECK(read_file(dir / "state/server/schedules").find("new-year ") == std::string::npos);
  server.signal(SIGTERM);
  CHECK(server.wait(60s) == 0);
}

TEST_CASE("on SIGTERM runbook serve lets a running run finish within shutdown_grace, then exits 0" *
          doctest::timeout(120)) {
  TempDir dir;
  marking_runbook(dir, "short", "2");
  ServeProcess server(dir, write_serve_config(dir, "shutdown_grace: 30s\n"));
  INFO(server.log());
  const std::string id = server.start_run(R"({"runbook": "short.yaml"})");
  REQUIRE(wait_for_file(dir / "started", 30s));

  server.signal(SIGTERM);
  // It stops taking connections at once, yet waits for the run.
  CHECK(eventually([&] { return http_request(server.port(), "GET", "/healthz").status != 200; },
                   10s));
  CHECK(server.wait(60s) == 0);
  std::vector<std::string> runs = history_runs(dir);
  CHECK(count_runs(runs, {{"id", id}, {"state", "succeeded"}}) == 1);
  CHECK_FALSE(file_exists(dir / "rolled-back"));
}

TEST_CASE(
    "on SIGTERM runbook serve cancels a run still going after shutdown_grace, which rolls back" *
    doctest::timeout(120)) {
  TempDir dir;
  const std::string seconds = std::to_string(unique_token());
  marking_runbook(dir, "long", seconds);
  ServeProcess server(dir, write_serve_config(dir, "shutdown_grace: 1s\n"));
  INFO(server.log());
  const std::string id = server.start_running(R"({"runbook": "long.yaml"})");
  REQUIRE(wait_for_file(dir / "started", 30s));

  const auto stop = std::chrono::steady_clock::now();
  server.signal(SIGTERM);
  CHECK(server.wait(60s) == 0);
  // Well before a 30 s step could have ended by itself.
  CHECK(seconds_since(stop) < 25);
  CHECK(file_exists(dir / "rolled-back"));
  CHECK(none_left("sleep " + seconds));

  const std::string show = shown_run(dir, id);
  INFO(show);
  CHECK(json_string(show, "state") == "cancelled");
  CHECK(json_array(json_member(show, "steps").value_or("[]")).size() == 1);
  CHECK(json_string(show, "steps.0.rollback.state") == "succeeded");
}

TEST_CASE("on SIGTERM runbook serve records a queued run that never started as cancelled" *
          doctest::timeout(120)) {
  TempDir dir;
  const std::string seconds = std::to_string(unique_token());
  marking_runbook(dir, "long", seconds);
  ServeProcess server(dir, write_serve_config(dir, "shutdown_grace: 1s\nmax_concurrent_runs: 1\n"));
  INFO(server.log());
  const std::string running = server.start_running(R"({"runbook": "long.yaml"})");
  const std::string queued = server.start_run(R"({"runbook": "long.yaml"})");
  CHECK(json_string(server.request("GET", "/v1/runs/" + queued).body, "state") == "queued");

  server.signal(SIGTERM);
  CHECK(server.wait(60s) == 0);
  CHECK(none_left("sleep " + seconds));

  std::vector<std::string> runs = history_runs(dir);
  CHECK(count_runs(runs, {{"id", queued}, {"state", "cancelled"}, {"trigger", "api"}}) == 1);
  CHECK(count_runs(runs, {{"id", running}, {"state", "cancelled"}}) == 1);

  std::vector<std::string> records = audit_records(dir, "run.not_started", queued);
  REQUIRE(records.size() == 1);
  CHECK(json_string(records[0], "state") == "cancelled");
  CHECK_FALSE(json_string(records[0], "reason").empty());
}
