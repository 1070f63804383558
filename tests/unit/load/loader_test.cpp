#include <doctest/doctest.h>

#include "runbook/load.hpp"

using namespace runbook;
using namespace std::chrono_literals;

namespace {

std::string errors_of(const LoadResult& r) {
  return r.diagnostics.format();
}

// The whole runbook of the format's design, as users will write it.
constexpr std::string_view kRestartService = R"(version: 1
name: restart-service
description: Restart a unit behind the load balancer and check it serves.
params:
  service:   {type: string, required: true, pattern: '^[a-z0-9@._-]+$', description: systemd unit}
  url:       {type: string, default: "http://127.0.0.1:8080/healthz"}
  batch:     {type: int, default: 1, min: 1, max: 10}
  mode:      {type: string, allowed: [graceful, hard], default: graceful}
  hosts:     {type: list, default: []}
  force:     {type: bool, default: false}
  api_token: {type: secret, env: API_TOKEN}
env:
  LC_ALL: C
  RETRIES: 3
defaults:
  timeout: 30s
  retry: {attempts: 1}
max_parallel: 4
timeout: 15m
lock: "restart-${{ params.service }}"
on_failure: rollback
steps:
  - id: drain
    run: lb drain "${{ params.service }}"
    rollback: lb undrain "${{ params.service }}"
  - id: restart
    needs: [drain]
    confirm: "Restart ${{ params.service }} now?"
    run: systemctl restart "${{ params.service }}"
    timeout: 60s
  - id: healthy
    needs: [restart]
    uses: http
    with: {url: "${{ params.url }}", expect_status: 200}
    retry: {attempts: 10, delay: 2s, backoff: 1.5, max_delay: 20s}
  - id: undrain
    needs: healthy
    run: lb undrain "${{ params.service }}"
hooks:
  on_success: []
  on_failure:
    - id: page
      run: notify-oncall "restart of ${{ params.service }} failed"
  finally: []
)";

}  // namespace

TEST_CASE("the runbook of the format's design loads with every field") {
  LoadResult r = load_runbook_text(kRestartService, "restart.yaml");
  INFO(errors_of(r));
  REQUIRE(r.ok());
  const Runbook& rb = *r.runbook;
  CHECK(rb.path == "restart.yaml");
  CHECK(rb.version == 1);
  CHECK(rb.name == "restart-service");
  CHECK(rb.description.starts_with("Restart a unit"));
  CHECK(rb.max_parallel == 4);
  CHECK(rb.timeout == Duration{15min});
  REQUIRE(rb.lock);
  CHECK(rb.lock->value == "restart-${{ params.service }}");
  CHECK(rb.lock->mark.line == 20);
  CHECK(rb.on_failure == OnFailure::rollback);

  REQUIRE(rb.env.size() == 2);
  CHECK(rb.env[0].first == "LC_ALL");
  CHECK(rb.env[1].second.value == "3");

  REQUIRE(rb.params.size() == 7);
  const Param* service = rb.find_param("service");
  REQUIRE(service);
  CHECK(service->required);
  CHECK(service->pattern == "^[a-z0-9@._-]+$");
  CHECK(service->description == "systemd unit");
  CHECK(service->mark.line == 5);
  const Param* batch = rb.find_param("batch");
  CHECK(batch->type == ParamType::integer);
  CHECK(batch->default_value == Value(1));
  CHECK(batch->min == 1.0);
  CHECK(batch->max == 10.0);
  CHECK(rb.find_param("mode")->allowed == std::vector<Value>{"graceful", "hard"});
  CHECK(rb.find_param("hosts")->default_value == Value(Value::List{}));
  CHECK(rb.find_param("force")->default_value == Value(false));
  CHECK(rb.find_param("api_token")->type == ParamType::secret);
  CHECK(rb.find_param("api_token")->from_env == "API_TOKEN");

  REQUIRE(rb.steps.size() == 4);
  const Step& drain = rb.steps[0];
  CHECK(drain.id == "drain");
  CHECK(drain.mark.line == 23);
  CHECK(drain.id_mark.line == 23);
  CHECK(drain.id_mark.column == 9);
  CHECK(drain.body.kind == ActionKind::run);
  CHECK(drain.body.run.value == "lb drain \"${{ params.service }}\"");
  CHECK(drain.body.timeout == Duration{30s});  // from defaults
  REQUIRE(drain.rollback);
  CHECK(drain.rollback->kind == ActionKind::run);
  CHECK(drain.rollback->run.value == "lb undrain \"${{ params.service }}\"");
  CHECK_FALSE(drain.rollback->timeout.has_value());  // defaults do not apply to rollbacks

  const Step& restart = rb.steps[1];
  CHECK(restart.needs == std::vector<std::string>{"drain"});
  CHECK(restart.needs_marks[0].line == 27);
  REQUIRE(restart.confirm);
  CHECK(restart.body.timeout == Duration{60s});  // the step wins over defaults

  const Step& healthy = rb.steps[2];
  CHECK(healthy.body.kind == ActionKind::uses);
  CHECK(healthy.body.uses == "http");
  CHECK(healthy.body.with ==
        Value(Value::Map{{"url", "${{ params.url }}"}, {"expect_status", 200}}));
  CHECK(healthy.body.retry.attempts == 10);
  CHECK(healthy.body.retry.delay == Duration{2s});
  CHECK(healthy.body.retry.backoff == 1.5);
  CHECK(healthy.body.retry.max_delay == Duration{20s});

  CHECK(rb.steps[3].needs == std::vector<std::string>{"healthy"});  // one id, not a list

  CHECK(rb.hooks.on_success.empty());
  REQUIRE(rb.hooks.on_failure.size() == 1);
  CHECK(rb.hooks.on_failure[0].id == "page");
  CHECK(rb.hooks.on_failure[0].body.timeout == Duration{30s});  // defaults apply to hooks
  CHECK(rb.find_step("page") != nullptr);
}

TEST_CASE("every step field is read") {
  LoadResult r = load_runbook_text(R"(version: 1
name: all-fields
params: {dir: {type: string}, go: {type: bool}, hosts: {type: list}}
steps:
  - id: a
    name: The A step
    description: does a
    exec: [ls, -l, "${{ params.dir }}"]
    env: {A: 1, B: "two", C: true, D: }
    workdir: /tmp
    timeout: 1.5
    deadline: 1h
    kill_grace: 250ms
    when: params.go == true
    retry: {attempts: 3, delay: 1s, backoff: 2, max_delay: 10s, jitter: 500ms, on: [timeout], exit_codes: [1, 75]}
    allow_failure: {exit_codes: [3]}
    confirm: Sure?
    for_each: [one, 2, true]
    max_parallel: 2
    idempotent: true
    rollback:
      uses: http
      with: {url: x}
      timeout: 5s
      retry: 2
      kill_grace: 1s
  - id: b
    shell: python3
    run: print("hi")
    for_each: "${{ params.hosts }}"
    allow_failure: true
    retry: 4
)",
                                   "t.yaml");
  INFO(errors_of(r));
  REQUIRE(r.ok());
  const Step& a = r.runbook->steps[0];
  CHECK(a.name == "The A step");
  CHECK(a.description == "does a");
  CHECK(a.body.kind == ActionKind::exec);
  REQUIRE(a.body.exec.size() == 3);
  CHECK(a.body.exec[2].value == "${{ params.dir }}");
  REQUIRE(a.body.env.size() == 4);
  CHECK(a.body.env[0].second.value == "1");
  CHECK(a.body.env[2].second.value == "true");
  CHECK(a.body.env[3].second.value.empty());
  CHECK(a.body.workdir->value == "/tmp");
  CHECK(a.body.timeout == Duration{1500});
  CHECK(a.deadline == Duration{1h});
  CHECK(a.body.kill_grace == Duration{250});
  CHECK(a.when->value == "params.go == true");
  CHECK(a.body.retry.attempts == 3);
  CHECK(a.body.retry.backoff == 2.0);
  CHECK(a.body.retry.jitter == Duration{500});
  CHECK_FALSE(a.body.retry.on_failure);
  CHECK(a.body.retry.on_timeout);
  CHECK(a.body.retry.exit_codes == std::vector<int>{1, 75});
  CHECK(a.allow_failure.exit_codes == std::vector<int>{3});
  CHECK_FALSE(a.allow_failure.any);
  CHECK(a.confirm->value == "Sure?");
  CHECK_FALSE(a.for_each);
  CHECK(a.for_each_list == Value(Value::List{"one", 2, true}));
  CHECK(a.for_each_parallel == 2);
  CHECK(a.idempotent);
  REQUIRE(a.rollback);
  CHECK(a.rollback->kind == ActionKind::uses);
  CHECK(a.rollback->with == Value(Value::Map{{"url", "x"}}));
  CHECK(a.rollback->timeout == Duration{5s});
  CHECK(a.rollback->retry.attempts == 2);
  CHECK(a.rollback->kill_grace == Duration{1s});

  const Step& b = r.runbook->steps[1];
  CHECK(b.body.shell == "python3");
  CHECK(b.body.kind == ActionKind::run);
  CHECK(b.for_each->value == "${{ params.hosts }}");
  CHECK(b.allow_failure.any);
  CHECK(b.body.retry.attempts == 4);
  CHECK(b.body.kill_grace == Duration{10s});
}

TEST_CASE("defaults fill what a step leaves unset, field by field") {
  LoadResult r = load_runbook_text(R"(version: 1
name: d
defaults:
  timeout: 10s
  retry: {attempts: 2}
  env: {A: from-defaults}
  run: echo default
steps:
  - id: plain
  - id: own
    timeout: 1s
    env: {B: own}
    exec: [true]
)",
                                   "t.yaml");
  INFO(errors_of(r));
  REQUIRE(r.ok());
  const Step& plain = r.runbook->steps[0];
  CHECK(plain.body.kind == ActionKind::run);
  CHECK(plain.body.run.value == "echo default");
  CHECK(plain.body.timeout == Duration{10s});
  CHECK(plain.body.retry.attempts == 2);
  const Step& own = r.runbook->steps[1];
  CHECK(own.body.kind == ActionKind::exec);  // its own action: none from defaults
  CHECK(own.body.timeout == Duration{1s});
  REQUIRE(own.body.env.size() == 1);
  CHECK(own.body.env[0].first == "B");
  CHECK(own.body.retry.attempts == 2);
}

TEST_CASE("a problem in defaults is reported once, where it is written") {
  LoadResult r = load_runbook_text(R"(version: 1
name: d
defaults:
  timeout: soon
steps:
  - {id: a, run: "true"}
  - {id: b, run: "true"}
  - {id: c, run: "true"}
)",
                                   "t.yaml");
  CHECK(errors_of(r) ==
        "t.yaml:4:12: error: 'timeout' must be a duration like 30s, 5m or 1h30m, not 'soon'\n");
}

TEST_CASE("on_failure stop and a top-level extension key load") {
  LoadResult r = load_runbook_text(R"(version: 1
name: s
on_failure: stop
x-notes: {anything: [goes]}
steps: [{id: a, run: "true"}]
)",
                                   "t.yaml");
  INFO(errors_of(r));
  REQUIRE(r.ok());
  CHECK(r.runbook->on_failure == OnFailure::stop);
  CHECK(r.runbook->effective_max_parallel() == kDefaultMaxParallel);
}

TEST_CASE("a runbook with errors still yields its model") {
  LoadResult r = load_runbook_text(
      "version: 1\nname: x\nsteps: [{id: a, run: 'true', timeout: no}]\n", "t.yaml");
  CHECK_FALSE(r.ok());
  REQUIRE(r.runbook);
  CHECK(r.runbook->steps.size() == 1);
}
