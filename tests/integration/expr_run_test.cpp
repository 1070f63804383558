// `runbook run` with params, `${{ }}` expressions, outputs, `when:` and
// secrets, on real processes: values never run as shell code, outputs flow
// along the DAG, bad params are refused before anything starts, and a secret
// never reaches the terminal, the events or the state directory.

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;

namespace {

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// `text` with every `@DIR@` replaced by `dir`.
std::string with_dir(std::string text, const std::string& dir) {
  const std::string token = "@DIR@";
  for (size_t at = text.find(token); at != std::string::npos; at = text.find(token, at)) {
    text.replace(at, token.size(), dir);
    at += dir.size();
  }
  return text;
}

// The words an unquoted `${NAME}` splits into with the default IFS, one per
// line, as `printf '%s\n' ${NAME}` prints them (none of the test values has a
// glob character).
std::string split_words(const std::string& value) {
  std::string out, word;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\n') {
      if (!word.empty()) out += word + "\n";
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) out += word + "\n";
  return out;
}

// Every regular file under `root`, recursively, as (path, contents).
std::vector<std::pair<std::string, std::string>> all_files(const std::string& root) {
  std::vector<std::pair<std::string, std::string>> files;
  std::error_code ec;
  if (!std::filesystem::exists(root, ec)) return files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root, ec)) {
    if (entry.is_regular_file(ec))
      files.emplace_back(entry.path().string(), read_file(entry.path()));
  }
  return files;
}

// The values that would run code if they were spliced into a script.
std::vector<std::string> injections(const std::string& dir) {
  return {
      "$(touch " + dir + "/pwned)",         "`touch " + dir + "/pwned2`",
      "; touch " + dir + "/pwned3",         "\"; touch " + dir + "/pwned4; \"",
      "line one\ntouch " + dir + "/pwned5",
  };
}

void check_nothing_ran(const TempDir& dir) {
  for (const char* name : {"pwned", "pwned2", "pwned3", "pwned4", "pwned5"}) {
    INFO("file: ", name);
    CHECK_FALSE(file_exists(dir / name));
  }
}

// The `step.ended` event of `step` in --output json, or "".
std::string ended_event(const std::string& output, const std::string& step) {
  size_t at = 0;
  while ((at = output.find("{\"event\":\"step.ended\"", at)) != std::string::npos) {
    size_t end = output.find('\n', at);
    std::string line = output.substr(at, end == std::string::npos ? end : end - at);
    if (has(line, "\"step_id\":\"" + step + "\"")) return line;
    at = end;
  }
  return "";
}

}  // namespace

// ---- The safety rule: a value is never spliced into shell code ----

TEST_CASE("a -p value used in run: is never executed and arrives intact, quoted or not" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml", with_dir(R"Y(version: 1
name: inject
params:
  v: {type: string, required: true}
steps:
  - id: quoted
    run: printf '%s' "${{ params.v }}" > @DIR@/quoted.txt
  - id: unquoted
    run: printf '%s\n' ${{ params.v }} > @DIR@/unquoted.txt
  - id: mixed
    run: printf '%s' "<${{ params.v }}>" > @DIR@/mixed.txt
  - id: fail
    needs: [quoted, unquoted, mixed]
    run: exit 1
    rollback: printf '%s' "${{ params.v }}" > @DIR@/rollback.txt; echo ${{ params.v }}
hooks:
  finally:
    - id: hook
      run: printf '%s' "${{ params.v }}" > @DIR@/hook.txt; echo ${{ params.v }}
)Y",
                                                 dir.path()));
  for (const std::string& value : injections(dir.path())) {
    CAPTURE(value);
    auto f = run_cli(dir, {"run", rb, "-p", "v=" + value});
    CHECK(f.exit_code == 1);  // `fail` fails on purpose, so that the rollback runs
    check_nothing_ran(dir);
    CHECK(read_file(dir / "quoted.txt") == value);
    CHECK(read_file(dir / "unquoted.txt") == split_words(value));
    CHECK(read_file(dir / "mixed.txt") == "<" + value + ">");
    CHECK(read_file(dir / "rollback.txt") == value);
    CHECK(read_file(dir / "hook.txt") == value);
  }
}

TEST_CASE("step outputs used in a later step's run: are never executed and arrive intact" *
          doctest::timeout(30)) {
  TempDir dir;
  std::vector<std::string> values = injections(dir.path());
  // Step `a` copies this file to its outputs: x1..x4 as key=value, x5 (which
  // has a newline) as a heredoc.
  std::string outputs;
  for (size_t i = 0; i < 4; ++i) outputs += "x" + std::to_string(i + 1) + "=" + values[i] + "\n";
  outputs += "x5<<END_OF_VALUE\n" + values[4] + "\nEND_OF_VALUE\n";
  dir.write("outputs.txt", outputs);

  std::string steps;
  for (int i = 1; i <= 5; ++i) {
    std::string n = std::to_string(i);
    steps += "  - id: use" + n + "\n    needs: [a]\n    run: |\n" +
             "      printf '%s' \"${{ steps.a.outputs.x" + n + " }}\" > @DIR@/quoted" + n +
             ".txt\n" + "      printf '%s\\n' ${{ steps.a.outputs.x" + n + " }} > @DIR@/unquoted" +
             n + ".txt\n" + "      echo ${{ steps.a.outputs.x" + n + " }}\n";
  }
  std::string rb =
      dir.write("rb.yaml", with_dir("version: 1\nname: inject-outputs\nsteps:\n"
                                    "  - id: a\n"
                                    "    run: cat @DIR@/outputs.txt >> \"$RUNBOOK_OUTPUT\"\n" +
                                        steps,
                                    dir.path()));
  auto f = run_cli(dir, {"run", rb});
  CHECK(f.exit_code == 0);
  check_nothing_ran(dir);
  for (size_t i = 0; i < values.size(); ++i) {
    CAPTURE(values[i]);
    std::string n = std::to_string(i + 1);
    CHECK(read_file(dir / ("quoted" + n + ".txt")) == values[i]);
    CHECK(read_file(dir / ("unquoted" + n + ".txt")) == split_words(values[i]));
  }
}

// ---- Outputs ----

TEST_CASE("outputs, status and exit codes flow along a DAG a -> b, c -> d" * doctest::timeout(30)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml", with_dir(R"Y(version: 1
name: outputs-dag
steps:
  - id: a
    run: |
      echo "url=http://example.test/?a=b&c=d" >> "$RUNBOOK_OUTPUT"
      echo "name=first" >> "$RUNBOOK_OUTPUT"
      echo "name=second" >> "$RUNBOOK_OUTPUT"
      printf 'notes<<EOF\nline one\n\nline three\nEOF\n' >> "$RUNBOOK_OUTPUT"
  - id: b
    needs: [a]
    run: |
      name="${{ steps.a.outputs.name }}"
      echo "upper=${name^^}" >> "$RUNBOOK_OUTPUT"
  - id: c
    needs: [a]
    run: |
      printf '%s' "${{ steps.a.outputs.notes }}" > @DIR@/notes.txt
      echo "lines=$(wc -l < @DIR@/notes.txt)" >> "$RUNBOOK_OUTPUT"
      exit 3
    allow_failure: true
  - id: d
    needs: [b, c]
    run: |
      {
        echo "url=${{ steps.a.outputs.url }}"
        echo "upper=${{ steps.b.outputs.upper }}"
        echo "a=${{ steps.a.status }}/${{ steps.a.exit_code }}"
        echo "b=${{ steps.b.status }}/${{ steps.b.exit_code }}"
        echo "c=${{ steps.c.status }}/${{ steps.c.exit_code }}"
        echo "missing=[${{ steps.a.outputs.nope }}]"
        echo "notes=${{ len(steps.a.outputs.notes) }}"
      } > @DIR@/d.txt
)Y",
                                                 dir.path()));
  auto f = run_cli(dir, {"run", rb});
  CHECK(f.exit_code == 0);
  CHECK(read_file(dir / "notes.txt") == "line one\n\nline three");
  CHECK(read_file(dir / "d.txt") ==
        "url=http://example.test/?a=b&c=d\n"
        "upper=SECOND\n"
        "a=succeeded/0\n"
        "b=succeeded/0\n"
        "c=failed/3\n"
        "missing=[]\n"
        "notes=20\n");
}

TEST_CASE("rollbacks and hooks read outputs and statuses too" * doctest::timeout(30)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml", with_dir(R"Y(version: 1
name: outputs-rollback
steps:
  - id: make
    run: |
      mkdir -p @DIR@/made
      echo "dir=@DIR@/made" >> "$RUNBOOK_OUTPUT"
    rollback: rm -r "${{ steps.make.outputs.dir }}" && echo "${{ steps.make.status }}" > @DIR@/rollback.txt
  - id: fail
    needs: [make]
    run: exit 4
hooks:
  on_failure:
    - id: tell
      run: echo "${{ steps.make.outputs.dir }} ${{ steps.fail.status }} ${{ steps.fail.exit_code }}" > @DIR@/hook.txt
)Y",
                                                 dir.path()));
  auto f = run_cli(dir, {"run", rb});
  CHECK(f.exit_code == 1);
  CHECK_FALSE(file_exists(dir / "made"));
  CHECK(read_file(dir / "rollback.txt") == "succeeded\n");
  CHECK(read_file(dir / "hook.txt") == dir / "made failed 4\n");
}

TEST_CASE("outputs over 1 MiB fail the step with a clear message; 1 MiB exactly is fine" *
          doctest::timeout(30)) {
  TempDir dir;
  // "k=" + N bytes + "\n": 1 MiB exactly when N is 1048573.
  auto runbook = [&](int n) {
    return dir.write("rb.yaml", with_dir("version: 1\nname: big\nsteps:\n"
                                         "  - id: big\n"
                                         "    run: |\n"
                                         "      { printf 'k='; head -c " +
                                             std::to_string(n) +
                                             " /dev/zero | tr '\\0' a; echo; } >> "
                                             "\"$RUNBOOK_OUTPUT\"\n"
                                             "  - id: after\n"
                                             "    needs: [big]\n"
                                             "    run: echo ${{ len(steps.big.outputs.k) }} > "
                                             "@DIR@/after.txt\n",
                                         dir.path()));
  };
  SUBCASE("1 MiB and one byte") {
    auto f = run_cli(dir, {"run", runbook(1048574)});
    CHECK(f.exit_code == 1);
    CHECK(has(f.output, "outputs of step 'big' are over the 1 MiB limit (1048577 bytes)"));
    CHECK_FALSE(file_exists(dir / "after.txt"));
    CHECK(has(f.output, "not_run"));
  }
  SUBCASE("1 MiB") {
    auto f = run_cli(dir, {"run", runbook(1048573)});
    CHECK(f.exit_code == 0);
    CHECK(read_file(dir / "after.txt") == "1048573\n");
  }
}

// ---- when ----

TEST_CASE("when: false skips a step, its dependents still run and see it as skipped" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml", with_dir(R"Y(version: 1
name: when
params:
  go: {type: bool, default: false}
steps:
  - id: probe
    run: |
      echo "mode=fast" >> "$RUNBOOK_OUTPUT"
      echo "flag=false" >> "$RUNBOOK_OUTPUT"
  - id: maybe
    when: params.go
    run: touch @DIR@/maybe.txt
  - id: after
    needs: [maybe]
    run: echo "${{ steps.maybe.status }} ${{ steps.maybe.status == 'skipped' }} [${{ steps.maybe.exit_code }}]" > @DIR@/after.txt
  - id: fast
    needs: [probe]
    when: steps.probe.outputs.mode == 'fast'
    run: touch @DIR@/fast.txt
  - id: slow
    needs: [probe]
    when: "${{ steps.probe.outputs.mode == 'slow' }}"
    run: touch @DIR@/slow.txt
  - id: flagged
    needs: [probe]
    when: steps.probe.outputs.flag
    run: touch @DIR@/flagged.txt
  - id: last
    needs: [slow, flagged]
    run: touch @DIR@/last.txt
)Y",
                                                 dir.path()));
  SUBCASE("go false") {
    auto f = run_cli(dir, {"run", rb, "--output", "json"});
    CHECK(f.exit_code == 0);
    CHECK_FALSE(file_exists(dir / "maybe.txt"));
    CHECK(read_file(dir / "after.txt") == "skipped true []\n");
    CHECK(file_exists(dir / "fast.txt"));
    CHECK_FALSE(file_exists(dir / "slow.txt"));
    CHECK_FALSE(file_exists(dir / "flagged.txt"));  // the output 'false' is false
    CHECK(file_exists(dir / "last.txt"));
    CHECK(has(ended_event(f.output, "maybe"), "\"state\":\"skipped\""));
    CHECK(has(ended_event(f.output, "slow"), "\"state\":\"skipped\""));
  }
  SUBCASE("go true") {
    auto f = run_cli(dir, {"run", rb, "-p", "go=yes"});
    CHECK(f.exit_code == 0);
    CHECK(file_exists(dir / "maybe.txt"));
    CHECK(read_file(dir / "after.txt") == "succeeded false [0]\n");
  }
}

TEST_CASE("a when: that cannot be evaluated fails its step, with the reason and a real duration" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml", with_dir(R"Y(version: 1
name: when-error
steps:
  - id: bad
    when: "'abc' < true"
    run: touch @DIR@/bad.txt
)Y",
                                                 dir.path()));
  auto f = run_cli(dir, {"run", rb, "--output", "json"});
  CHECK(f.exit_code == 1);
  CHECK_FALSE(file_exists(dir / "bad.txt"));
  std::string ended = ended_event(f.output, "bad");
  CAPTURE(ended);
  CHECK(has(ended, "\"state\":\"failed\""));
  CHECK(has(ended, "cannot evaluate 'when' of step 'bad'"));
  // The step never started: its duration is nothing like the time since boot.
  size_t at = ended.find("\"duration_ms\":");
  REQUIRE(at != std::string::npos);
  CHECK(std::stol(ended.substr(at + 14)) < 10000);
}

// ---- Params ----

namespace {

const char* kParamsRunbook = R"Y(version: 1
name: params
params:
  service: {type: string, required: true, pattern: '^[a-z0-9._-]+$', description: the unit to restart}
  batch:   {type: int, default: 1, min: 1, max: 10, description: hosts at a time}
  mode:    {type: string, allowed: [graceful, hard], default: graceful}
  hosts:   {type: list, default: []}
  force:   {type: bool, default: false}
steps:
  - id: s
    run: echo "${{ params.service }} ${{ params.batch }} ${{ params.mode }} ${{ join(params.hosts, '+') }} ${{ params.force }}" > @DIR@/ran.txt
)Y";

}  // namespace

TEST_CASE("params are checked before anything runs; bad ones exit 2 saying why" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml", with_dir(kParamsRunbook, dir.path()));
  auto refused = [&](const std::vector<std::string>& args, const std::string& message) {
    std::vector<std::string> argv{"run", rb};
    argv.insert(argv.end(), args.begin(), args.end());
    auto f = run_cli(dir, argv);
    CAPTURE(f.output);
    CHECK(f.exit_code == 2);
    CHECK(has(f.output, message));
    CHECK_FALSE(file_exists(dir / "ran.txt"));
    CHECK_FALSE(file_exists(dir / "state/runs"));
  };
  SUBCASE("missing required") {
    refused({}, "missing required param 'service'");
  }
  SUBCASE("wrong type") {
    refused({"-p", "service=web", "-p", "batch=many"}, "param 'batch' given by -p must be an int");
    refused({"-p", "service=web", "-p", "force=maybe"}, "param 'force' given by -p must be a bool");
  }
  SUBCASE("over the max") {
    refused({"-p", "service=web", "-p", "batch=11"}, "more than its max 10");
  }
  SUBCASE("not allowed") {
    refused({"-p", "service=web", "-p", "mode=soft"}, "not one of the allowed values");
  }
  SUBCASE("pattern violated") {
    refused({"-p", "service=Web App"}, "does not match its pattern");
  }
  SUBCASE("unknown name, with the nearest one suggested") {
    refused({"-p", "service=web", "-p", "servce=web"},
            "unknown param 'servce'; did you mean 'service'?");
  }
  SUBCASE("every problem at once") {
    auto f = run_cli(dir, {"run", rb, "-p", "batch=0", "-p", "mode=x"});
    CHECK(f.exit_code == 2);
    CHECK(has(f.output, "missing required param 'service'"));
    CHECK(has(f.output, "param 'batch'"));
    CHECK(has(f.output, "param 'mode'"));
  }
}

TEST_CASE("params come from -p and --params-file, a later -p winning" * doctest::timeout(30)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml", with_dir(kParamsRunbook, dir.path()));
  SUBCASE("-p only, defaults for the rest") {
    auto f = run_cli(dir, {"run", rb, "-p", "service=web"});
    CHECK(f.exit_code == 0);
    CHECK(read_file(dir / "ran.txt") == "web 1 graceful  false\n");
  }
  SUBCASE("a YAML params file") {
    std::string pf =
        dir.write("params.yaml", "service: api.v2\nbatch: 3\nhosts: [h1, h2]\nforce: true\n");
    auto f = run_cli(dir, {"run", rb, "--params-file", pf});
    CHECK(f.exit_code == 0);
    CHECK(read_file(dir / "ran.txt") == "api.v2 3 graceful h1+h2 true\n");
  }
  SUBCASE("-p over the params file, lists as a,b") {
    std::string pf = dir.write("params.yaml", "service: api\nbatch: 3\n");
    auto f = run_cli(dir, {"run", rb, "--params-file", pf, "-p", "batch=4", "-p", "batch=5", "-p",
                           "hosts=a, b", "-p", "mode=hard"});
    CHECK(f.exit_code == 0);
    CHECK(read_file(dir / "ran.txt") == "api 5 hard a+b false\n");
  }
  SUBCASE("a params file value of the wrong type") {
    std::string pf = dir.write("params.yaml", "service: api\nbatch: [1]\n");
    auto f = run_cli(dir, {"run", rb, "--params-file", pf});
    CHECK(f.exit_code == 2);
    CHECK(has(f.output, "param 'batch'"));
    CHECK_FALSE(file_exists(dir / "ran.txt"));
  }
}

TEST_CASE("--help-params lists each param with its description and exits 0" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml", with_dir(kParamsRunbook, dir.path()));
  auto f = run_cli(dir, {"run", rb, "--help-params"});
  CHECK(f.exit_code == 0);
  for (const char* text : {"service", "required", "the unit to restart", "batch", "hosts at a time",
                           "mode", "graceful", "hosts", "force"}) {
    INFO("text: ", text);
    CHECK(has(f.output, text));
  }
  CHECK_FALSE(file_exists(dir / "ran.txt"));
}

// ---- Secrets ----

namespace {

const std::string kSecret = "S3cr3t-Value_42xyz";
const std::string kFileSecret = "FileSecret-9876";

const char* kSecretRunbook = R"Y(version: 1
name: secrets
params:
  token:  {type: secret, env: API_TOKEN, description: the API token}
  ftoken: {type: secret, file: @DIR@/token.txt}
steps:
  - id: a
    run: |
      echo "${{ params.token }}"
      echo "Authorization: Bearer ${{ params.token }}; file ${{ params.ftoken }}."
      echo "from env: $API_TOKEN" >&2
      echo "tok=${{ params.token }}" >> "$RUNBOOK_OUTPUT"
      echo "params=${{ toJSON(params) }}"
  - id: b
    needs: [a]
    exec: [echo, "exec ${{ params.token }}", "${{ steps.a.outputs.tok }}"]
    env:
      TOKEN: "${{ params.token }}"
  - id: c
    needs: [b]
    run: echo "env $TOKEN" >&2; exit 1
    env:
      TOKEN: "x${{ params.token }}x"
    rollback: echo "rollback ${{ params.token }}"
hooks:
  finally:
    - id: tell
      run: echo "hook ${{ params.token }}"; echo "failed with ${{ params.ftoken }}" >&2; exit 1
)Y";

void check_no_secret(const TempDir& dir, const std::string& output) {
  CHECK_FALSE(has(output, kSecret));
  CHECK_FALSE(has(output, kFileSecret));
  auto files = all_files(dir / "state");
  CHECK_FALSE(files.empty());
  for (const auto& [path, text] : files) {
    INFO("file: ", path);
    CHECK_FALSE(has(text, kSecret));
    CHECK_FALSE(has(text, kFileSecret));
  }
}

}  // namespace

TEST_CASE("a secret never appears in the output or under the state directory, only ***" *
          doctest::timeout(30)) {
  TempDir dir;
  dir.write("token.txt", kFileSecret + "\n");
  std::string rb = dir.write("rb.yaml", with_dir(kSecretRunbook, dir.path()));
  SUBCASE("text output") {
    auto f = run_cli(dir, {"run", rb}, 60s, {{"API_TOKEN", kSecret}});
    CHECK(f.exit_code == 1);  // `c` fails on purpose, so that the rollback runs
    check_no_secret(dir, f.output);
    CHECK(has(f.output, "Authorization: Bearer ***; file ***."));
    CHECK(has(f.output, "from env: ***"));
    CHECK(has(f.output, "exec *** ***"));
    CHECK(has(f.output, "env x***x"));
    CHECK(has(f.output, "rollback ***"));
    CHECK(has(f.output, "hook ***"));
  }
  SUBCASE("--output json") {
    auto f = run_cli(dir, {"run", rb, "--output", "json"}, 60s, {{"API_TOKEN", kSecret}});
    CHECK(f.exit_code == 1);
    check_no_secret(dir, f.output);
    CHECK(has(f.output, "\"line\":\"Authorization: Bearer ***; file ***.\""));
    CHECK(has(f.output, "\"line\":\"exec *** ***\""));
  }
  SUBCASE("given with -p") {
    auto f = run_cli(dir, {"run", rb, "-p", "token=" + kSecret, "--output", "json"});
    CHECK(f.exit_code == 1);
    check_no_secret(dir, f.output);
    CHECK(has(f.output, "Authorization: Bearer ***; file ***."));
  }
}

TEST_CASE("a secret on a line longer than the engine's line limit is still masked" *
          doctest::timeout(30)) {
  TempDir dir;
  dir.write("token.txt", kFileSecret + "\n");
  // 65534 bytes, then the secret, in one write with no newline: the engine
  // cuts lines at 64 KiB, right inside the secret.
  std::string rb = dir.write("rb.yaml", with_dir(R"Y(version: 1
name: long-line
params:
  token: {type: secret, env: API_TOKEN}
steps:
  - id: long
    run: |
      x=$(head -c 65534 /dev/zero | tr '\0' x)
      printf '%s%s' "$x" "${{ params.token }}"
      sleep 0.2
      echo " and more"
)Y",
                                                 dir.path()));
  auto f = run_cli(dir, {"run", rb, "--output", "json"}, 60s, {{"API_TOKEN", kSecret}});
  CHECK(f.exit_code == 0);
  // Neither the secret nor a telling piece of it.
  const std::string tail = kSecret.substr(4);
  CHECK_FALSE(has(f.output, tail));
  for (const auto& [path, text] : all_files(dir / "state")) {
    INFO("file: ", path);
    CHECK_FALSE(has(text, tail));
  }
}

TEST_CASE("a secret in the reason a command could not start is masked too" * doctest::timeout(30)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml", R"Y(version: 1
name: cannot-start
params:
  token: {type: secret, env: API_TOKEN}
steps:
  - id: program
    exec: ["no-such-program-${{ params.token }}"]
    allow_failure: true
  - id: workdir
    workdir: "/no/such/dir/${{ params.token }}"
    run: "true"
    allow_failure: true
)Y");
  for (std::string output : {"text", "json"}) {
    CAPTURE(output);
    auto f = run_cli(dir, {"run", rb, "--output", output}, 60s, {{"API_TOKEN", kSecret}});
    CHECK(f.exit_code == 0);
    CHECK(has(f.output, "command not found: no-such-program-***"));
    CHECK(has(f.output, "workdir /no/such/dir/*** is not a directory"));
    check_no_secret(dir, f.output);
  }
}

TEST_CASE("a secret shorter than 4 characters is refused before anything runs" *
          doctest::timeout(30)) {
  TempDir dir;
  dir.write("token.txt", kFileSecret + "\n");
  std::string rb = dir.write("rb.yaml", with_dir(kSecretRunbook, dir.path()));
  auto f = run_cli(dir, {"run", rb}, 60s, {{"API_TOKEN", "abc"}});
  CHECK(f.exit_code == 2);
  CHECK(has(f.output, "secret 'token' is too short"));
  CHECK_FALSE(has(f.output, "abc"));
  CHECK_FALSE(file_exists(dir / "state/runs"));
}

// ---- --dry-run ----

TEST_CASE("--dry-run shows scripts with param values resolved and secrets as ***" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml", with_dir(R"Y(version: 1
name: dry
params:
  service: {type: string, required: true}
  batch: {type: int, default: 2}
  token: {type: secret, env: API_TOKEN}
steps:
  - id: deploy
    run: |
      touch @DIR@/ran.txt
      deploy --service "${{ params.service }}" --batch ${{ params.batch }} --token "${{ params.token }}"
    rollback: undeploy "${{ params.service }}"
  - id: notify
    needs: [deploy]
    exec: [echo, "deployed ${{ params.service }} with ${{ params.token }}"]
)Y",
                                                 dir.path()));
  auto f =
      run_cli(dir, {"run", rb, "--dry-run", "-p", "service=web-1"}, 60s, {{"API_TOKEN", kSecret}});
  CAPTURE(f.output);
  CHECK(f.exit_code == 0);
  CHECK_FALSE(file_exists(dir / "ran.txt"));
  CHECK(has(f.output, "deploy --service \"web-1\" --batch 2 --token \"***\""));
  CHECK(has(f.output, "undeploy \"web-1\""));
  CHECK(has(f.output, "deployed web-1 with ***"));
  CHECK_FALSE(has(f.output, kSecret));
  CHECK_FALSE(has(f.output, "RUNBOOK_EXPR_"));
}

TEST_CASE("--dry-run without a required param is refused like a run" * doctest::timeout(30)) {
  TempDir dir;
  std::string rb = dir.write("rb.yaml", with_dir(kParamsRunbook, dir.path()));
  auto f = run_cli(dir, {"run", rb, "--dry-run"});
  CHECK(f.exit_code == 2);
  CHECK(has(f.output, "missing required param 'service'"));
}
