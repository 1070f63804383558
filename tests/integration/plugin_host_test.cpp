// Plugin steps through the real binary, with the test plugins in
// tests/plugins/: loading and its refusals, validation, outputs, failures and
// retries, timeouts, cancellation and plugins that ignore it.

#include <sys/stat.h>

#include <doctest/doctest.h>

#include <filesystem>

#include "run_fixture.hpp"

using namespace runbook_test;

namespace {

// A private plugin directory holding copies of the named test plugins.
std::string plugin_dir(const TempDir& dir, const std::vector<std::string>& names,
                       const std::string& sub = "plugins") {
  std::string path = dir / sub;
  std::filesystem::create_directories(path);
  ::chmod(path.c_str(), 0755);
  for (const std::string& name : names) {
    std::string from = std::string(RUNBOOK_TEST_PLUGIN_DIR) + "/" + name + ".so";
    std::filesystem::copy_file(from, path + "/" + name + ".so",
                               std::filesystem::copy_options::overwrite_existing);
    ::chmod((path + "/" + name + ".so").c_str(), 0755);
  }
  return path;
}

Finished run_with(const TempDir& dir, const std::string& plugins, const std::string& yaml,
                  std::vector<std::string> extra = {},
                  std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  std::string file = dir.write("rb.yaml", yaml);
  std::vector<std::string> args{"--plugin-dir", plugins, "run", file};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_cli(dir, args, limit);
}

}  // namespace

TEST_CASE("a plugin step logs, sets outputs that later steps read, and sees its context" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string plugins = plugin_dir(dir, {"fixture_plugin"});
  Finished f = run_with(dir, plugins, R"(
version: 1
name: outputs
params:
  who: {type: string, default: world}
steps:
  - id: greet
    uses: fixture-echo
    with:
      message: "hello ${{ params.who }}"
      outputs: {greeting: "hi ${{ params.who }}", count: 3}
  - id: check
    needs: [greet]
    run: |
      test "${{ steps.greet.outputs.greeting }}" = "hi world"
      test "${{ steps.greet.outputs.count }}" = 3
      echo checked
)");
  INFO(f.output);
  CHECK(f.exit_code == 0);
  CHECK(f.output.find("hello world") != std::string::npos);
  // The step's log has the plugin's lines and its context.
  bool found = false;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir / "state/runs")) {
    if (entry.path().filename() != "greet.log") continue;
    std::string text = read_file(entry.path());
    found = text.find("hello world") != std::string::npos &&
            text.find("\"step_id\":\"greet\"") != std::string::npos &&
            text.find("\"attempt\":1") != std::string::npos;
  }
  CHECK(found);
}

TEST_CASE("a plain plugin failure is not retried, a retryable one is" * doctest::timeout(30)) {
  TempDir dir;
  std::string plugins = plugin_dir(dir, {"fixture_plugin"});
  Finished failed = run_with(dir, plugins, R"(
version: 1
name: fails
steps:
  - id: check
    uses: fixture-echo
    with: {fail: "expected 200, got 404"}
    retry: {attempts: 3, delay: 10ms}
)");
  INFO(failed.output);
  CHECK(failed.exit_code == 1);
  CHECK(failed.output.find("expected 200, got 404") != std::string::npos);
  CHECK(failed.output.find("attempt 2") == std::string::npos);

  Finished retried = run_with(dir, plugins, R"(
version: 1
name: retries
steps:
  - id: check
    uses: fixture-echo
    with: {retryable: "503 from server", succeed_on_attempt: 3}
    retry: {attempts: 5, delay: 10ms}
)",
                              {"--output", "json"});
  INFO(retried.output);
  CHECK(retried.exit_code == 0);
  size_t attempts = 0;
  for (size_t at = 0;
       (at = retried.output.find("\"event\":\"step.attempt.ended\"", at)) != std::string::npos;
       ++at)
    ++attempts;
  CHECK(attempts == 3);
}

TEST_CASE("a plugin step that outlives its timeout is cancelled and ends timed_out" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string plugins = plugin_dir(dir, {"fixture_plugin"});
  Finished f = run_with(dir, plugins, R"(
version: 1
name: slow
steps:
  - id: slow
    uses: fixture-sleep
    with: {ms: 20000}
    timeout: 500ms
)");
  INFO(f.output);
  CHECK(f.exit_code == 1);
  CHECK(f.output.find("timed out after 500ms") != std::string::npos);
  CHECK(f.seconds < 5);
}

TEST_CASE("a plugin that ignores its cancel flag is abandoned after kill_grace" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string plugins = plugin_dir(dir, {"fixture_plugin"});
  Finished f = run_with(dir, plugins, R"(
version: 1
name: stubborn
steps:
  - id: stubborn
    uses: fixture-sleep
    with: {ms: 20000, ignore_cancel: true}
    timeout: 300ms
    kill_grace: 300ms
)");
  INFO(f.output);
  CHECK(f.exit_code == 1);
  CHECK(f.output.find("abandoned") != std::string::npos);
  CHECK(f.seconds < 5);
}

TEST_CASE("Ctrl-C cancels a running plugin step promptly" * doctest::timeout(30)) {
  TempDir dir;
  std::string plugins = plugin_dir(dir, {"fixture_plugin"});
  std::string file = dir.write("rb.yaml", R"(
version: 1
name: cancel
steps:
  - id: slow
    uses: fixture-sleep
    with: {ms: 20000}
)");
  Background bg({"--plugin-dir", plugins, "run", file}, dir / "out.txt",
                {{"RUNBOOK_STATE_DIR", dir / "state"}, {"NO_COLOR", "1"}});
  // The step has started once its log says so.
  bool started = false;
  for (int i = 0; i < 300 && !started; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    started = read_file(dir / "out.txt").find("slow") != std::string::npos;
  }
  REQUIRE(started);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto t0 = std::chrono::steady_clock::now();
  bg.signal(SIGINT);
  int code = bg.wait(std::chrono::seconds(10));
  INFO(read_file(dir / "out.txt"));
  CHECK(code == 130);
  CHECK(seconds_since(t0) < 3);
}

TEST_CASE("validate reports an unknown step kind and a plugin's own errors at line:col" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string plugins = plugin_dir(dir, {"fixture_plugin"});
  std::string file = dir.write("rb.yaml", R"(version: 1
name: bad
steps:
  - id: a
    uses: fixture-ech
  - id: b
    uses: fixture-echo
    with:
      message: hi
      colour: red
  - id: c
    uses: fixture-sleep
    with: {ms: soon}
)");
  Finished f = run_cli(dir, {"--plugin-dir", plugins, "validate", file});
  INFO(f.output);
  CHECK(f.exit_code == 2);
  CHECK(f.output.find(file + ":5:5: error: unknown step kind 'fixture-ech' in step 'a'; did you "
                             "mean 'fixture-echo'?") != std::string::npos);
  CHECK(f.output.find(file + ":10:15: error: 'fixture-echo' in step 'b': with.colour: unknown "
                             "argument 'colour'") != std::string::npos);
  CHECK(f.output.find(file + ":13:16: error: 'fixture-sleep' in step 'c': with.ms: must be an "
                             "integer") != std::string::npos);
  // run refuses the same runbook before starting anything.
  Finished r = run_cli(dir, {"--plugin-dir", plugins, "run", file});
  CHECK(r.exit_code == 2);
  CHECK_FALSE(file_exists(dir / "state/runs"));
}

TEST_CASE("plugins list shows kinds, versions and paths" * doctest::timeout(30)) {
  TempDir dir;
  std::string plugins = plugin_dir(dir, {"fixture_plugin"});
  Finished f = run_cli(dir, {"--plugin-dir", plugins, "plugins", "list"});
  INFO(f.output);
  CHECK(f.exit_code == 0);
  CHECK(f.output.find("fixture-echo") != std::string::npos);
  CHECK(f.output.find("fixture-sleep") != std::string::npos);
  CHECK(f.output.find("0.1.0") != std::string::npos);
  CHECK(f.output.find(plugins + "/fixture_plugin.so") != std::string::npos);
}

TEST_CASE("a plugin built for another ABI version, or with no entry point, is refused by name" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string plugins = plugin_dir(dir, {"fixture_plugin", "bad_abi_plugin", "no_entry_plugin"});
  Finished f = run_cli(dir, {"--plugin-dir", plugins, "plugins", "list"});
  INFO(f.output);
  CHECK(f.exit_code == 1);
  CHECK(f.output.find("plugin " + plugins +
                      "/bad_abi_plugin.so is built for plugin ABI version 99, this engine has "
                      "version 1") != std::string::npos);
  CHECK(f.output.find("plugin " + plugins + "/no_entry_plugin.so has no entry point") !=
        std::string::npos);
  CHECK(f.output.find("fixture-echo") != std::string::npos);  // the good one still listed

  // A run that uses plugins does not start while one is broken.
  Finished r = run_with(dir, plugins, R"(
version: 1
name: x
steps:
  - {id: a, uses: fixture-echo, with: {message: hi}}
)");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("bad_abi_plugin.so") != std::string::npos);
}

TEST_CASE("two plugins claiming the same step kind are an error naming both files" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string plugins = plugin_dir(dir, {"fixture_plugin"});
  std::filesystem::copy_file(plugins + "/fixture_plugin.so", plugins + "/fixture_copy.so");
  ::chmod((plugins + "/fixture_copy.so").c_str(), 0755);
  Finished f = run_with(dir, plugins, R"(
version: 1
name: x
steps:
  - {id: a, uses: fixture-echo, with: {message: hi}}
)");
  INFO(f.output);
  CHECK(f.exit_code == 2);
  CHECK(f.output.find("step kind 'fixture-echo' is provided by more than one plugin: " + plugins +
                      "/fixture_copy.so and " + plugins + "/fixture_plugin.so") !=
        std::string::npos);
}

TEST_CASE("a plugin file or directory writable by group or others is refused" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string plugins = plugin_dir(dir, {"fixture_plugin"});
  ::chmod((plugins + "/fixture_plugin.so").c_str(), 0775);
  Finished f = run_cli(dir, {"--plugin-dir", plugins, "plugins", "list"});
  INFO(f.output);
  CHECK(f.exit_code == 1);
  CHECK(f.output.find("refusing plugin " + plugins + "/fixture_plugin.so") != std::string::npos);
  CHECK(f.output.find("is writable by its group (mode 0775") != std::string::npos);

  ::chmod((plugins + "/fixture_plugin.so").c_str(), 0755);
  ::chmod(plugins.c_str(), 0777);
  Finished g = run_cli(dir, {"--plugin-dir", plugins, "plugins", "list"});
  INFO(g.output);
  CHECK(g.exit_code == 1);
  CHECK(g.output.find("its directory " + plugins + " is writable by others") != std::string::npos);
}

TEST_CASE("a runbook without plugin steps runs with no plugin loaded" * doctest::timeout(30)) {
  TempDir dir;
  std::string plugins = plugin_dir(dir, {"bad_abi_plugin"});
  Finished f = run_with(dir, plugins, R"(
version: 1
name: plain
steps:
  - {id: a, run: echo plain}
)");
  INFO(f.output);
  CHECK(f.exit_code == 0);
}

TEST_CASE("the health-check example runs end to end with the shipped wait and http plugins" *
          doctest::timeout(60)) {
  TempDir dir;
  std::string port = std::to_string(20000 + unique_token() % 30000);
  Finished f = run_cli(dir,
                       {"run", std::string(RUNBOOK_SOURCE_DIR) + "/examples/health-check.yaml",
                        "-p", "port=" + port},
                       std::chrono::seconds(45));
  INFO(f.output);
  CHECK(f.exit_code == 0);
  CHECK(f.output.find("version 1.4.2 is healthy") != std::string::npos);
}

TEST_CASE("plugins list reports a --plugin-dir it cannot read, and advises moving out of /tmp" *
          doctest::timeout(30)) {
  TempDir dir;
  Finished missing = run_cli(dir, {"plugins", "list", "--plugin-dir", dir / "nope"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.output.find("plugin directory " + (dir / "nope") + " cannot be read") !=
        std::string::npos);

  // A shared sticky directory is meant to be writable: the advice is to move.
  std::string shared = plugin_dir(dir, {"fixture_plugin"}, "shared");
  ::chmod(shared.c_str(), 01777);
  Finished sticky = run_cli(dir, {"plugins", "list", "--plugin-dir", shared});
  INFO(sticky.output);
  CHECK(sticky.exit_code == 1);
  CHECK(sticky.output.find("move the plugin into a directory of its own") != std::string::npos);
  CHECK(sticky.output.find("chmod go-w") == std::string::npos);
}

TEST_CASE("a failed plugin step says why once, and the run's reason names the step" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string plugins = plugin_dir(dir, {"fixture_plugin"});
  Finished f = run_with(dir, plugins, R"(
version: 1
name: reason
steps:
  - id: check
    uses: fixture-echo
    with: {fail: "expected 200, got 404"}
)");
  INFO(f.output);
  CHECK(f.exit_code == 1);
  CHECK(f.output.find("failed: failed:") == std::string::npos);
  CHECK(f.output.find("reason: step 'check' failed: expected 200, got 404") != std::string::npos);
}

TEST_CASE("validate reports plugin problems in the same pass as the runbook's other errors" *
          doctest::timeout(30)) {
  TempDir dir;
  std::string plugins = plugin_dir(dir, {"fixture_plugin"});
  std::string file = dir.write("rb.yaml", R"(version: 1
name: both
steps:
  - id: a
    uses: fixture-ech
  - id: b
    needs: [nowhere]
    run: "true"
)");
  Finished f = run_cli(dir, {"--plugin-dir", plugins, "validate", file});
  INFO(f.output);
  CHECK(f.exit_code == 2);
  CHECK(f.output.find("unknown step kind 'fixture-ech'") != std::string::npos);
  CHECK(f.output.find("nowhere") != std::string::npos);
}
