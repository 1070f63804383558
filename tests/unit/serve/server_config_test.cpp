#include "serve/server_config.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "runbook/cron.hpp"

using namespace runbook;
using namespace runbook::serve;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kLogCleanup = R"(version: 1
name: log-cleanup
params:
  path: {type: string, required: true}
  keep_days: {type: int, default: 7, min: 1}
steps:
  - id: clean
    run: find "${{ params.path }}" -mtime +${{ params.keep_days }} -delete
)";

constexpr std::string_view kDiskCleanup = R"(version: 1
name: disk-cleanup
params:
  host: {type: string, required: true}
steps:
  - id: check
    run: "true"
  - id: purge
    needs: [check]
    confirm: "Purge the caches on ${{ params.host }}?"
    run: "true"
)";

// A fresh directory, removed with the object.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() / ("runbook-server-config-" + std::to_string(::getpid()) +
                                        "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string write(const std::string& name, std::string_view content,
                    fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) {
    const fs::path file = path / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
    fs::permissions(file, perms);
    return file.string();
  }
  std::string str() const { return path.string(); }
};

// A directory with the two runbooks in runbooks/ and a config path next to it
// (written only by tests that read it from a file).
struct Fixture {
  TempDir dir;
  std::string config = (dir.path / "server.yaml").string();
  Fixture() {
    dir.write("runbooks/log-cleanup.yaml", kLogCleanup);
    dir.write("runbooks/disk-cleanup.yaml", kDiskCleanup);
  }
  ServerConfigResult load(std::string_view text) const {
    return load_server_config_text(text, config);
  }
  // The formatted diagnostics, the temporary directory shown as DIR.
  std::string errors(std::string_view text) const {
    return without_dir(load(text).diagnostics.format());
  }
  std::string without_dir(std::string s) const {
    const std::string d = dir.str();
    for (size_t at = s.find(d); at != std::string::npos; at = s.find(d, at)) {
      s.replace(at, d.size(), "DIR");
    }
    return s;
  }
};
}  // namespace

TEST_CASE("a full server config loads with its schedules and runbooks") {
  Fixture f;
  const ServerConfigResult r = f.load(R"(listen: "[::1]:9096"
state_dir: /var/lib/runbook
runbooks_dir: runbooks                    # relative: to the config's directory
auth:
  bearer_tokens_file: /etc/runbook/tokens
  hmac_secret_file: secrets/hmac
max_concurrent_runs: 4
queue_limit: 50
shutdown_grace: 2m
schedules:
  - name: nightly-log-cleanup
    cron: "30 3 * * *"
    timezone: Europe/Berlin
    runbook: log-cleanup.yaml
    params: {path: /var/log/app, keep_days: 14}
    overlap: queue
    catch_up: latest
  - name: disk_purge
    cron: "@hourly"
    runbook: )" + f.dir.str() + R"(/runbooks/disk-cleanup.yaml
    params: {host: db1}
    overlap: replace
    auto_approve: true
alerts: []
)");
  INFO(r.diagnostics.format());
  REQUIRE(r.ok());
  const ServerConfig& c = *r.config;
  CHECK(c.path == f.config);
  CHECK(c.listen == "[::1]:9096");
  CHECK(c.state_dir == "/var/lib/runbook");
  CHECK(c.runbooks_dir == f.dir.str() + "/runbooks");
  CHECK(c.bearer_tokens_file == "/etc/runbook/tokens");
  CHECK(c.hmac_secret_file == f.dir.str() + "/secrets/hmac");
  CHECK(c.max_concurrent_runs == 4);
  CHECK(c.queue_limit == 50);
  CHECK(c.shutdown_grace == 2min);
  REQUIRE(c.schedules.size() == 2);

  const ScheduleConfig& nightly = c.schedules[0];
  CHECK(nightly.name == "nightly-log-cleanup");
  CHECK(nightly.mark.line == 11);
  CHECK(nightly.mark.column == 5);
  CHECK(nightly.cron.text() == "30 3 * * *");
  CHECK(nightly.zone.name() == "Europe/Berlin");
  CHECK(nightly.runbook_path == f.dir.str() + "/runbooks/log-cleanup.yaml");
  CHECK(nightly.params.at("path") == Value("/var/log/app"));
  CHECK(nightly.params.at("keep_days") == Value(14));
  CHECK(nightly.overlap == Overlap::queue);
  CHECK(nightly.catch_up == CatchUp::latest);
  CHECK_FALSE(nightly.auto_approve);
  REQUIRE(nightly.runbook != nullptr);
  CHECK(nightly.runbook->name == "log-cleanup");

  const ScheduleConfig& purge = c.schedules[1];
  CHECK(purge.name == "disk_purge");
  CHECK(purge.cron.text() == "@hourly");
  CHECK(purge.zone.name() == "UTC");
  CHECK(purge.runbook_path == f.dir.str() + "/runbooks/disk-cleanup.yaml");
  CHECK(purge.overlap == Overlap::replace);
  CHECK(purge.catch_up == CatchUp::none);
  CHECK(purge.auto_approve);
  REQUIRE(purge.runbook != nullptr);
  CHECK(purge.runbook->name == "disk-cleanup");
  CHECK(c.find_schedule("disk_purge") == &purge);
  CHECK(c.find_schedule("nope") == nullptr);
}

TEST_CASE("an empty server config takes every default") {
  for (std::string_view text : {"", "# nothing yet\n", "schedules:\nalerts:\n", "{}"}) {
    const ServerConfigResult r = load_server_config_text(text, "/etc/runbook/server.yaml");
    INFO(text);
    INFO(r.diagnostics.format());
    REQUIRE(r.ok());
    const ServerConfig& c = *r.config;
    CHECK(c.listen == "127.0.0.1:9095");
    CHECK(c.state_dir.empty());
    CHECK(c.runbooks_dir == "/etc/runbook");
    CHECK(c.bearer_tokens_file.empty());
    CHECK(c.hmac_secret_file.empty());
    CHECK(c.max_concurrent_runs == 8);
    CHECK(c.queue_limit == 1000);
    CHECK(c.shutdown_grace == 60s);
    CHECK(c.schedules.empty());
  }
}

TEST_CASE("a schedule in a server config defaults to UTC, overlap skip and no catch-up") {
  Fixture f;
  const ServerConfigResult r = f.load(R"(runbooks_dir: runbooks
schedules:
  - {name: a, cron: "0 * * * *", runbook: log-cleanup.yaml, params: {path: /tmp}}
)");
  INFO(r.diagnostics.format());
  REQUIRE(r.ok());
  const ScheduleConfig& s = r.config->schedules.at(0);
  CHECK(s.zone.name() == "UTC");
  CHECK(s.overlap == Overlap::skip);
  CHECK(s.catch_up == CatchUp::none);
  CHECK_FALSE(s.auto_approve);
  CHECK(s.params.size() == 1);
  CHECK(std::string(to_string(s.overlap)) == "skip");
  CHECK(std::string(to_string(s.catch_up)) == "none");
}

TEST_CASE("an unknown key in a server config is an error with a did-you-mean hint") {
  const ServerConfigResult r = load_server_config_text(R"(listne: 127.0.0.1:1
auth:
  bearer_token_file: /etc/tokens
x-anchors: {a: 1}
schedules:
  - name: a
    crom: "* * * * *"
)",
                                                       "server.yaml");
  CHECK_FALSE(r.ok());
  const std::vector<Diagnostic>& d = r.diagnostics.items();
  REQUIRE(d.size() >= 3);
  CHECK(d[0].format() ==
        "server.yaml:1:1: error: unknown key 'listne' at the top level; did you mean 'listen'?");
  CHECK(d[1].format() ==
        "server.yaml:3:3: error: unknown key 'bearer_token_file' in auth; did you mean "
        "'bearer_tokens_file'?");
  CHECK(d[2].format() == "server.yaml:6:5: error: schedule 'a' is missing required key 'cron'");
  CHECK(r.diagnostics.format().find(
            "server.yaml:7:5: error: unknown key 'crom' in schedule 'a'; did you mean 'cron'?") !=
        std::string::npos);
}

TEST_CASE("a server config refuses a listen address that is not host:port or [v6]:port") {
  const std::string hint = "; write host:port or [v6]:port, like 127.0.0.1:9095\n";
  auto errors = [](std::string_view value) {
    return load_server_config_text("listen: " + std::string(value) + "\n", "s.yaml")
        .diagnostics.format();
  };
  for (std::string_view ok : {"127.0.0.1:9095", "0.0.0.0:0", "localhost:65535", "'[::1]:80'",
                              "'[fe80::1%eth0]:8080'", "\"[::]:9095\""}) {
    INFO(ok);
    CHECK(errors(ok) == "");
  }
  CHECK(errors("127.0.0.1") ==
        "s.yaml:1:9: error: invalid listen address '127.0.0.1': the port is missing" + hint);
  CHECK(errors("127.0.0.1:65536") ==
        "s.yaml:1:9: error: invalid listen address '127.0.0.1:65536': the port must be a number "
        "from 0 to 65535" +
            hint);
  CHECK(errors("host:http") ==
        "s.yaml:1:9: error: invalid listen address 'host:http': the port must be a number from 0 "
        "to 65535" +
            hint);
  CHECK(errors(":9095") ==
        "s.yaml:1:9: error: invalid listen address ':9095': the host is missing" + hint);
  CHECK(errors("'::1:9095'") ==
        "s.yaml:1:9: error: invalid listen address '::1:9095': an IPv6 address must be in "
        "brackets, like [::1]:9095" +
            hint);
  CHECK(errors("'[::1:9095'") ==
        "s.yaml:1:9: error: invalid listen address '[::1:9095': the ']' closing the IPv6 address "
        "is missing" +
            hint);
  CHECK(errors("'[::1]9095'") ==
        "s.yaml:1:9: error: invalid listen address '[::1]9095': the port is missing after ']'" +
            hint);
  CHECK(errors("'[1.2.3.4]:80'") ==
        "s.yaml:1:9: error: invalid listen address '[1.2.3.4]:80': '1.2.3.4' is not IPv6" + hint);
  CHECK(errors("'my_host:80'") ==
        "s.yaml:1:9: error: invalid listen address 'my_host:80': 'my_host' is not a host name or "
        "an IPv4 address" +
            hint);
  CHECK(errors("['::1', 9095]") ==
        "s.yaml:1:9: error: 'listen' must be a string, not a list; quote an IPv6 address: listen: "
        "\"[::1]:9095\"\n");
}

TEST_CASE("a server config checks the ranges of its numbers and the shutdown grace") {
  const ServerConfigResult r = load_server_config_text(R"(max_concurrent_runs: 0
queue_limit: 1000001
shutdown_grace: soon
)",
                                                       "s.yaml");
  CHECK(r.diagnostics.format() ==
        "s.yaml:1:22: error: 'max_concurrent_runs' must be an integer from 1 to 1024, not '0'\n"
        "s.yaml:2:14: error: 'queue_limit' must be an integer from 0 to 1000000, not '1000001'\n"
        "s.yaml:3:17: error: 'shutdown_grace' must be a duration like 30s, 5m or 1h30m, not "
        "'soon'\n");
  CHECK(load_server_config_text("max_concurrent_runs: 1025\nqueue_limit: -1\n", "s.yaml")
            .diagnostics.size() == 2);
  const ServerConfigResult edges = load_server_config_text(
      "max_concurrent_runs: 1024\nqueue_limit: 0\nshutdown_grace: 0s\n", "s.yaml");
  REQUIRE(edges.ok());
  CHECK(edges.config->max_concurrent_runs == 1024);
  CHECK(edges.config->queue_limit == 0);
  CHECK(edges.config->shutdown_grace == 0s);
}

TEST_CASE("alert rules of a server config load with their matchers, rails and runbook") {
  Fixture f;
  const ServerConfigResult r = f.load(R"(runbooks_dir: runbooks
auth:
  hmac_tolerance: 30s
  hmac_require_timestamp: true
alerts:
  - name: disk-full
    match: {alertname: DiskFull, severity: "=~critical|page", env: "!=dev", team: "!~db.*", x: "=y"}
    on: both
    runbook: disk-cleanup.yaml
    params: {host: "${{ alert.labels.instance }}"}
    group_by: [instance, mountpoint]
    cooldown: 15m
    max_runs_per_hour: 4
    breaker: {failures: 3, open_for: 1h}
    escalate: {exec: [notify-oncall, "${{ alert.labels.instance }}"], timeout: 10s}
    auto_approve: true
  - name: logs
    match: {alertname: LogsFull}
    runbook: log-cleanup.yaml
    params: {path: /var/log}
)");
  INFO(r.diagnostics.format());
  REQUIRE(r.ok());
  const ServerConfig& c = *r.config;
  CHECK(c.hmac_tolerance == 30s);
  CHECK(c.hmac_require_timestamp);
  REQUIRE(c.alerts.size() == 2);
  const AlertRule& disk = c.alerts[0];
  CHECK(disk.name == "disk-full");
  REQUIRE(disk.match.size() == 5);
  CHECK(disk.on == AlertOn::both);
  CHECK(disk.runbook_path == f.dir.str() + "/runbooks/disk-cleanup.yaml");
  REQUIRE(disk.runbook != nullptr);
  CHECK(disk.group_by == std::vector<std::string>{"instance", "mountpoint"});
  CHECK(disk.cooldown == 15min);
  CHECK(disk.max_runs_per_hour == 4);
  REQUIRE(disk.breaker);
  CHECK(disk.breaker->failures == 3);
  CHECK(disk.breaker->open_for == 1h);
  CHECK(disk.escalate == std::vector<std::string>{"notify-oncall", "${{ alert.labels.instance }}"});
  CHECK(disk.escalate_timeout == 10s);
  CHECK(c.find_alert_rule("logs") == &c.alerts[1]);
  CHECK(c.alerts[1].on == AlertOn::firing);
  CHECK(c.alerts[1].cooldown == 0s);
  CHECK_FALSE(c.alerts[1].breaker);

  std::map<std::string, std::string> labels{
      {"alertname", "DiskFull"}, {"severity", "page"}, {"env", "prod"}, {"x", "y"}};
  CHECK(disk.matches(labels));
  labels["severity"] = "pager";  // =~ matches the whole value
  CHECK_FALSE(disk.matches(labels));
  labels["severity"] = "critical";
  labels["team"] = "dba";
  CHECK_FALSE(disk.matches(labels));  // !~db.*
  labels.erase("team");
  labels.erase("env");  // a missing label is "": != dev holds
  CHECK(disk.matches(labels));
  CHECK(disk.takes("firing"));
  CHECK(disk.takes("resolved"));
  CHECK_FALSE(c.alerts[1].takes("resolved"));
}

TEST_CASE("a label matcher never tries its regex on a very long label value") {
  Expected<LabelMatcher, std::string> any = parse_label_matcher("a", "=~.*");
  REQUIRE(any);
  Expected<LabelMatcher, std::string> none = parse_label_matcher("a", "!~x");
  REQUIRE(none);
  std::map<std::string, std::string> labels{{"a", std::string(LabelMatcher::kMaxRegexInput, 'y')}};
  CHECK(any.value().matches(labels));
  CHECK(none.value().matches(labels));
  labels["a"] += "y";
  CHECK_FALSE(any.value().matches(labels));
  CHECK_FALSE(none.value().matches(labels));
  CHECK_FALSE(parse_label_matcher("a", "=~(unclosed"));
}

TEST_CASE("alert rules of a server config report every problem where it is") {
  Fixture f;
  CHECK(
      f.errors(R"(runbooks_dir: runbooks
alerts:
  - name: Bad Name
    match: {}
    runbook: disk-cleanup.yaml
  - name: two
    match: {severity: "=~(crit"}
    on: sometimes
    runbook: disk-cleanup.yaml
    params: {hots: x, host: "${{ alert.labels.instance "}
    breaker: {failures: 0, open: 1h}
  - name: three
    match: {alertname: A}
    runbook: missing.yaml
  - name: four
    match: {alertname: B}
    runbook: log-cleanup.yaml
  - name: four
    runbook: log-cleanup.yaml
    params: {path: /x}
    escalate: {exec: []}
  - just text
)") ==
      "DIR/server.yaml:3:5: error: runbook 'disk-cleanup' requires param 'host'; add it to the "
      "params of alert rule 1, e.g. from a label: host: \"${{ alert.labels.host }}\"\n"
      "DIR/server.yaml:3:11: error: invalid alert rule name 'Bad Name'; names are lowercase "
      "letters, digits, '_' and '-', starting with a letter or digit\n"
      "DIR/server.yaml:4:12: error: 'match' must name at least one label; a rule that matched "
      "every alert would remediate anything\n"
      "DIR/server.yaml:5:14: error: runbook 'disk-cleanup' asks for confirmation (step 'purge') "
      "but an alert runs it unattended; set 'auto_approve: true' on alert rule 1 to answer yes\n"
      "DIR/server.yaml:7:23: error: match.severity: invalid regex '(crit': Mismatched '(' and ')' "
      "in regular expression; regexes are ECMAScript, matched against the whole label value\n"
      "DIR/server.yaml:8:9: error: 'on' must be firing, resolved or both, not 'sometimes'\n"
      "DIR/server.yaml:9:14: error: runbook 'disk-cleanup' asks for confirmation (step 'purge') "
      "but an alert runs it unattended; set 'auto_approve: true' on alert rule 'two' to answer "
      "yes\n"
      "DIR/server.yaml:10:14: error: unknown param 'hots' for runbook 'disk-cleanup'; did you mean "
      "'host'?\n"
      "DIR/server.yaml:10:29: error: in params.host: '${{' without '}}'; close it with '}}'; alert "
      "rules may read alert.labels.X and alert.annotations.X\n"
      "DIR/server.yaml:11:25: error: 'breaker.failures' must be an integer from 1 to 1000, not "
      "'0'\n"
      "DIR/server.yaml:11:28: error: unknown key 'open' in breaker\n"
      "DIR/server.yaml:14:14: error: cannot read runbook 'DIR/runbooks/missing.yaml': No such file "
      "or directory; relative runbook paths are resolved against runbooks_dir (DIR/runbooks)\n"
      "DIR/server.yaml:15:5: error: runbook 'log-cleanup' requires param 'path'; add it to the "
      "params of alert rule 'four', e.g. from a label: path: \"${{ alert.labels.path }}\"\n"
      "DIR/server.yaml:18:5: error: alert rule 'four' is missing required key 'match'; a rule that "
      "matched every alert would remediate anything\n"
      "DIR/server.yaml:18:11: error: duplicate alert rule name 'four'; first at line 15\n"
      "DIR/server.yaml:21:22: error: 'escalate.exec' must not be empty; the command and its "
      "arguments, like [notify-oncall, '--page']\n"
      "DIR/server.yaml:22:5: error: an alert rule must be a map with 'name', 'match' and "
      "'runbook', not 'just text'\n");
}

TEST_CASE("schedule names in a server config are required, valid and unique") {
  Fixture f;
  CHECK(f.errors(R"(runbooks_dir: runbooks
schedules:
  - name: nightly
    cron: "@daily"
    runbook: log-cleanup.yaml
    params: {path: /tmp}
  - name: Nightly Job
    cron: "@daily"
    runbook: log-cleanup.yaml
    params: {path: /tmp}
  - name: nightly
    cron: "@daily"
    runbook: log-cleanup.yaml
    params: {path: /tmp}
  - cron: "@daily"
    runbook: log-cleanup.yaml
    params: {path: /tmp}
  - just a string
)") == "DIR/server.yaml:7:11: error: invalid schedule name 'Nightly Job'; names are lowercase "
       "letters, digits, '_' and '-', starting with a letter or digit\n"
       "DIR/server.yaml:11:11: error: duplicate schedule name 'nightly'; first at line 3\n"
       "DIR/server.yaml:15:5: error: schedule 4 is missing required key 'name'\n"
       "DIR/server.yaml:18:5: error: a schedule must be a map with 'name', 'cron' and "
       "'runbook', not 'just a string'\n");
}

TEST_CASE("a schedule in a server config needs cron and runbook") {
  CHECK(load_server_config_text("schedules:\n  - name: a\n  - {name: b, runbook: ''}\n", "s.yaml")
            .diagnostics.format() ==
        "s.yaml:2:5: error: schedule 'a' is missing required key 'cron'\n"
        "s.yaml:2:5: error: schedule 'a' is missing required key 'runbook'\n"
        "s.yaml:3:5: error: schedule 'b' is missing required key 'cron'\n"
        "s.yaml:3:24: error: 'runbook' must not be empty\n");
  CHECK(load_server_config_text("schedules: {a: 1}\n", "s.yaml").diagnostics.format() ==
        "s.yaml:1:12: error: 'schedules' must be a list, not a map\n");
}

TEST_CASE("a bad cron expression in a server config is reported at its value") {
  Fixture f;
  CHECK(f.errors(R"(runbooks_dir: runbooks
schedules:
  - name: a
    cron: "61 3 * * *"
    runbook: log-cleanup.yaml
    params: {path: /tmp}
  - name: b
    cron: 0 0 30 2 *
    runbook: log-cleanup.yaml
    params: {path: /tmp}
  - name: c
    cron: "* * *"
    runbook: log-cleanup.yaml
    params: {path: /tmp}
)") == "DIR/server.yaml:4:11: error: invalid cron expression '61 3 * * *': minute field: 61 is "
       "out of range 0-59\n"
       "DIR/server.yaml:8:11: error: invalid cron expression '0 0 30 2 *': never fires: "
       "February has no day 30\n"
       "DIR/server.yaml:12:11: error: invalid cron expression '* * *': expected 5 or 6 fields, "
       "got 3\n");
}

TEST_CASE("an unknown time zone in a server config is reported at its value") {
  Fixture f;
  CHECK(f.errors(R"(runbooks_dir: runbooks
schedules:
  - name: a
    cron: "@daily"
    timezone: Mars/Base
    runbook: log-cleanup.yaml
    params: {path: /tmp}
)") == "DIR/server.yaml:5:15: error: unknown time zone 'Mars/Base'; use an IANA name like "
       "Europe/Berlin, or UTC\n");
}

TEST_CASE("overlap, catch_up and auto_approve in a server config take only their values") {
  Fixture f;
  CHECK(f.errors(R"(runbooks_dir: runbooks
schedules:
  - name: a
    cron: "@daily"
    runbook: log-cleanup.yaml
    params: {path: /tmp}
    overlap: skipp
    catch_up: all
    auto_approve: maybe
)") == "DIR/server.yaml:7:14: error: 'overlap' must be skip, queue or replace, not 'skipp'; did "
       "you mean 'skip'?\n"
       "DIR/server.yaml:8:15: error: 'catch_up' must be none or latest, not 'all'\n"
       "DIR/server.yaml:9:19: error: 'auto_approve' must be true or false, not 'maybe'\n");
}

TEST_CASE("a server config reports every error at once, sorted by position") {
  Fixture f;
  CHECK(f.errors(R"(queue_limit: lots
listen: nowhere
schedules:
  - name: a
    cron: "* * * * * * *"
    timezone: Nowhere/Land
    runbook: missing.yaml
    overlap: never
runbooks_dir: runbooks
max_concurrent_runs: 0
)") == "DIR/server.yaml:1:14: error: 'queue_limit' must be an integer from 0 to 1000000, not "
       "'lots'\n"
       "DIR/server.yaml:2:9: error: invalid listen address 'nowhere': the port is missing; write "
       "host:port or [v6]:port, like 127.0.0.1:9095\n"
       "DIR/server.yaml:5:11: error: invalid cron expression '* * * * * * *': expected 5 or 6 "
       "fields, got 7\n"
       "DIR/server.yaml:6:15: error: unknown time zone 'Nowhere/Land'; use an IANA name like "
       "Europe/Berlin, or UTC\n"
       "DIR/server.yaml:7:14: error: cannot read runbook 'DIR/runbooks/missing.yaml': No such "
       "file or directory; relative runbook paths are resolved against runbooks_dir "
       "(DIR/runbooks)\n"
       "DIR/server.yaml:8:14: error: 'overlap' must be skip, queue or replace, not 'never'\n"
       "DIR/server.yaml:10:22: error: 'max_concurrent_runs' must be an integer from 1 to 1024, "
       "not '0'\n");
}

TEST_CASE("relative runbook paths in a server config resolve against runbooks_dir") {
  Fixture f;
  f.dir.write("elsewhere/log-cleanup.yaml",
              std::string(kLogCleanup).replace(kLogCleanup.find("log-cleanup"), 11, "other"));
  const std::string text = R"(schedules:
  - {name: a, cron: "@daily", runbook: log-cleanup.yaml, params: {path: /tmp}}
  - {name: b, cron: "@daily", runbook: ../runbooks/disk-cleanup.yaml, params: {host: h},
     auto_approve: true}
runbooks_dir: )" + f.dir.str() +
                           "/elsewhere\n";
  const ServerConfigResult r = f.load(text);
  INFO(r.diagnostics.format());
  REQUIRE(r.ok());
  CHECK(r.config->runbooks_dir == f.dir.str() + "/elsewhere");
  CHECK(r.config->schedules[0].runbook_path == f.dir.str() + "/elsewhere/log-cleanup.yaml");
  CHECK(r.config->schedules[0].runbook->name == "other");
  CHECK(r.config->schedules[1].runbook_path == f.dir.str() + "/runbooks/disk-cleanup.yaml");

  CHECK(f.errors("runbooks_dir: nope\n") ==
        "DIR/server.yaml:1:15: error: cannot use runbooks_dir 'DIR/nope': No such file or "
        "directory\n");
  CHECK(f.errors("runbooks_dir: runbooks/log-cleanup.yaml\n") ==
        "DIR/server.yaml:1:15: error: runbooks_dir 'DIR/runbooks/log-cleanup.yaml' is not a "
        "directory\n");
}

TEST_CASE("relative runbook paths in a server config resolve against its directory by default") {
  Fixture f;
  const ServerConfigResult r = f.load(R"(schedules:
  - {name: a, cron: "@daily", runbook: runbooks/log-cleanup.yaml, params: {path: /tmp}}
  - {name: b, cron: "@daily", runbook: ./runbooks/../runbooks/log-cleanup.yaml,
     params: {path: /srv}}
)");
  INFO(r.diagnostics.format());
  REQUIRE(r.ok());
  CHECK(r.config->runbooks_dir == f.dir.str());
  CHECK(r.config->schedules[0].runbook_path == f.dir.str() + "/runbooks/log-cleanup.yaml");
  // The same file, loaded once and shared.
  CHECK(r.config->schedules[1].runbook_path == r.config->schedules[0].runbook_path);
  CHECK(r.config->schedules[1].runbook == r.config->schedules[0].runbook);

  // A relative config path: paths stay relative to the current directory.
  const ServerConfigResult rel = load_server_config_text(
      "state_dir: state\nauth: {hmac_secret_file: ../hmac}\n", "conf/s.yaml");
  REQUIRE(rel.ok());
  CHECK(rel.config->runbooks_dir == "conf");
  CHECK(rel.config->state_dir == "conf/state");
  CHECK(rel.config->hmac_secret_file == "hmac");
}

TEST_CASE("a runbook named by a server config that does not load reports its own diagnostics") {
  Fixture f;
  f.dir.write("runbooks/broken.yaml", R"(version: 1
name: broken
steps:
  - id: a
    run: "true"
    retires: 3
  - id: b
    needs: [c]
    run: "true"
)");
  CHECK(f.errors(R"(runbooks_dir: runbooks
schedules:
  - {name: a, cron: "@daily", runbook: broken.yaml}
  - {name: b, cron: "@hourly", runbook: broken.yaml}
)") == "DIR/runbooks/broken.yaml:6:5: error: unknown key 'retires' in step 'a'; did you mean "
       "'retry'?\n"
       "DIR/runbooks/broken.yaml:8:13: error: step 'b' needs unknown step 'c'\n"
       "DIR/server.yaml:3:40: error: runbook 'DIR/runbooks/broken.yaml' does not load: 2 "
       "errors, reported in it\n"
       "DIR/server.yaml:4:41: error: runbook 'DIR/runbooks/broken.yaml' does not load: 2 "
       "errors, reported in it\n");
}

TEST_CASE("a runbook file a server config names but that cannot be read is reported at its value") {
  Fixture f;
  CHECK(f.errors(R"(schedules:
  - name: a
    cron: "@daily"
    runbook: runbooks
)") == "DIR/server.yaml:4:14: error: runbook 'DIR/runbooks' is a directory, not a file; relative "
       "runbook paths are resolved against runbooks_dir (DIR)\n");
}

TEST_CASE("schedule params in a server config are checked against the runbook's params") {
  Fixture f;
  CHECK(f.errors(R"(runbooks_dir: runbooks
schedules:
  - name: missing
    cron: "@daily"
    runbook: log-cleanup.yaml
    params: {keep_days: 3}
  - name: no-params
    cron: "@daily"
    runbook: log-cleanup.yaml
  - name: wrong
    cron: "@daily"
    runbook: log-cleanup.yaml
    params: {path: /tmp, keep_days: a week, keep_day: 1}
  - name: too-small
    cron: "@daily"
    runbook: log-cleanup.yaml
    params:
      path: /tmp
      keep_days: 0
)") == "DIR/server.yaml:6:13: error: missing required param 'path'; add it to the schedule's "
       "params\n"
       "DIR/server.yaml:7:5: error: missing required param 'path'; add it to the schedule's "
       "params\n"
       "DIR/server.yaml:13:37: error: param 'keep_days' must be an int, not 'a week'\n"
       "DIR/server.yaml:13:45: error: unknown param 'keep_day'; did you mean 'keep_days'?\n"
       "DIR/server.yaml:19:18: error: param 'keep_days' is 0, less than its min 1\n");
}

TEST_CASE("a runbook with confirm steps needs auto_approve in a server config") {
  Fixture f;
  const std::string text = R"(runbooks_dir: runbooks
schedules:
  - name: purge
    cron: "@daily"
    runbook: disk-cleanup.yaml
    params: {host: db1}
)";
  CHECK(f.errors(text) ==
        "DIR/server.yaml:5:14: error: runbook 'disk-cleanup' asks for confirmation (step 'purge') "
        "but a schedule runs unattended; set 'auto_approve: true' on schedule 'purge' to answer "
        "yes\n");
  CHECK(f.errors(text + "    auto_approve: false\n") == f.errors(text));
  const ServerConfigResult approved = f.load(text + "    auto_approve: true\n");
  INFO(approved.diagnostics.format());
  REQUIRE(approved.ok());
  CHECK(approved.config->schedules[0].auto_approve);
}

TEST_CASE("a server config that is not a map, or not YAML, is refused") {
  CHECK(load_server_config_text("- listen: a\n", "s.yaml").diagnostics.format() ==
        "s.yaml:1:1: error: a server config must be a YAML map of keys like 'listen' and "
        "'schedules', not a list\n");
  const ServerConfigResult bad = load_server_config_text("listen: [a\n", "s.yaml");
  CHECK_FALSE(bad.ok());
  REQUIRE(bad.diagnostics.size() == 1);
  CHECK(bad.diagnostics.items()[0].message.starts_with("invalid YAML: "));
}

TEST_CASE("a server config is read from its file, and a missing one is refused") {
  Fixture f;
  f.dir.write("server.yaml",
              "listen: 127.0.0.1:1\nschedules:\n  - {name: a, cron: \"@daily\", "
              "runbook: runbooks/log-cleanup.yaml, params: {path: /tmp}}\n");
  const ServerConfigResult r = load_server_config(f.config);
  INFO(r.diagnostics.format());
  REQUIRE(r.ok());
  CHECK(r.config->listen == "127.0.0.1:1");
  CHECK(r.config->schedules.at(0).runbook->name == "log-cleanup");

  CHECK(f.without_dir(load_server_config(f.dir.str() + "/nope.yaml").diagnostics.format()) ==
        "DIR/nope.yaml: error: cannot read file: No such file or directory\n");
  CHECK(f.without_dir(load_server_config(f.dir.str()).diagnostics.format()) ==
        "DIR: error: is a directory, not a server config file\n");
}
