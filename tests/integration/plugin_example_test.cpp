// examples/plugin as its README tells an author to use it: configured and
// built out of tree with cmake (against the source tree's SDK, or against an
// installed engine found with find_package), then loaded by the real binary.

#include <doctest/doctest.h>

#include <filesystem>

#include "run_binary.hpp"
#include "run_fixture.hpp"

using namespace runbook_test;
using runbook::testing::run_binary;
using runbook::testing::RunOptions;
using runbook::testing::RunResult;
namespace fs = std::filesystem;

namespace {

const std::string kExample = std::string(RUNBOOK_SOURCE_DIR) + "/examples/plugin";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs cmake with `args`; its output goes into the test's report on failure.
bool cmake(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"cmake"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions options;
  options.timeout = std::chrono::seconds(100);
  RunResult r = run_binary(argv, options);
  INFO("cmake output:\n" << r.out << r.err);
  CHECK(r.exit_code == 0);
  return r.exit_code == 0;
}

// The engine refuses a plugin in a file or directory writable by group or
// others: whatever the umask the tests run with, make them safe.
void make_private(const std::string& path) {
  fs::permissions(path, fs::perms::group_write | fs::perms::others_write, fs::perm_options::remove);
}

// Configures and builds examples/plugin in `build` with `configure_args`;
// returns the directory holding env-check.so, or "" when that failed.
std::string build_example(const std::string& build,
                          const std::vector<std::string>& configure_args) {
  std::vector<std::string> configure{"-S", kExample, "-B", build};
  configure.insert(configure.end(), configure_args.begin(), configure_args.end());
  if (!cmake(configure) || !cmake({"--build", build})) return "";
  const std::string dir = build + "/plugins";
  if (!file_exists(dir + "/env-check.so")) return "";
  make_private(dir);
  make_private(dir + "/env-check.so");
  return dir;
}

// The example built once per test process, against the source tree's SDK.
const std::string& built_from_source_tree() {
  static TempDir dir;
  static const std::string plugins = build_example(
      dir / "build", {"-DRUNBOOK_SDK_DIR=" + std::string(RUNBOOK_SOURCE_DIR) + "/plugins/sdk"});
  return plugins;
}

}  // namespace

TEST_CASE("the example plugin builds out of tree against the source tree's SDK as NAME.so" *
          doctest::timeout(120)) {
  const std::string& plugins = built_from_source_tree();
  REQUIRE_FALSE(plugins.empty());
  CHECK(file_exists(plugins + "/env-check.so"));
  CHECK_FALSE(file_exists(plugins + "/libenv-check.so"));
}

TEST_CASE("runbook plugins list --plugin-dir lists the example plugin's kind" *
          doctest::timeout(120)) {
  const std::string& plugins = built_from_source_tree();
  REQUIRE_FALSE(plugins.empty());
  TempDir dir;
  auto f = run_cli(dir, {"plugins", "list", "--plugin-dir", plugins});
  INFO(f.output);
  CHECK(f.exit_code == 0);
  CHECK(contains(f.output, "env-check"));
  CHECK(contains(f.output, plugins + "/env-check.so"));
  CHECK(contains(f.output, "checks that environment variables are set for the step"));
}

TEST_CASE("the example runbook runs the example plugin and passes its output on" *
          doctest::timeout(120)) {
  const std::string& plugins = built_from_source_tree();
  REQUIRE_FALSE(plugins.empty());
  TempDir dir;
  auto f = run_cli(dir, {"run", kExample + "/example.yaml", "--plugin-dir", plugins});
  INFO(f.output);
  CHECK(f.exit_code == 0);
  CHECK(contains(f.output, "DEPLOY_ENV is set"));
  CHECK(contains(f.output, "deploying to staging after checking 2 variables"));
}

TEST_CASE("the example plugin fails its step when a required variable is empty" *
          doctest::timeout(120)) {
  const std::string& plugins = built_from_source_tree();
  REQUIRE_FALSE(plugins.empty());
  TempDir dir;
  auto f =
      run_cli(dir, {"run", kExample + "/example.yaml", "--plugin-dir", plugins, "-p", "target="});
  INFO(f.output);
  CHECK(f.exit_code == 1);
  CHECK(contains(f.output, "not set: DEPLOY_ENV"));
  CHECK_FALSE(contains(f.output, "deploying to"));
}

TEST_CASE("the example plugin's validate reports bad arguments at their line" *
          doctest::timeout(120)) {
  const std::string& plugins = built_from_source_tree();
  REQUIRE_FALSE(plugins.empty());
  TempDir dir;
  const std::string rb = dir.write("rb.yaml",
                                   "version: 1\nname: bad\nsteps:\n"
                                   "  - id: check\n    uses: env-check\n"
                                   "    with:\n      require: []\n");
  auto f = run_cli(dir, {"validate", rb, "--plugin-dir", plugins});
  INFO(f.output);
  CHECK(f.exit_code == 2);
  CHECK(contains(f.output, rb + ":7:"));
  CHECK(contains(f.output, "with.require: must be a non-empty list of variable names"));
}

TEST_CASE("the example plugin builds with find_package against an installed engine" *
          doctest::timeout(120)) {
  // RUNBOOK_PLUGIN_DIR is BUILD/lib/runbook/plugins.
  const fs::path build = fs::path(RUNBOOK_PLUGIN_DIR).parent_path().parent_path().parent_path();
  TempDir dir;
  const std::string prefix = dir / "prefix";
  RunOptions options;
  options.timeout = std::chrono::seconds(100);
  RunResult install =
      run_binary({"cmake", "--install", build.string(), "--prefix", prefix}, options);
  if (install.exit_code != 0) {
    // Installing needs every installed target built; a partial build cannot.
    MESSAGE("skipped: cmake --install of the build tree failed (not fully built?):\n"
            << install.out << install.err);
    return;
  }
  CHECK(file_exists(prefix + "/lib/cmake/runbook/runbookConfig.cmake"));
  CHECK(file_exists(prefix + "/lib/cmake/runbook/runbookConfigVersion.cmake"));
  CHECK(file_exists(prefix + "/include/runbook/plugin.hpp"));

  const std::string example_build = dir / "example-build";
  const std::string plugins = build_example(example_build, {"-DCMAKE_PREFIX_PATH=" + prefix});
  REQUIRE_FALSE(plugins.empty());
  // Found as a package, not through RUNBOOK_SDK_DIR.
  const std::string cache = read_file(example_build + "/CMakeCache.txt");
  CHECK(contains(cache, "runbook_DIR:PATH=" + prefix + "/lib/cmake/runbook"));

  // Installed into the engine's prefix, the plugin is found with no flags.
  REQUIRE(cmake({"--install", example_build, "--prefix", prefix}));
  const std::string installed_dir = prefix + "/lib/runbook/plugins";
  make_private(installed_dir);
  make_private(installed_dir + "/env-check.so");
  RunResult list = run_binary({prefix + "/bin/runbook", "plugins", "list"},
                              {{"RUNBOOK_PLUGIN_PATH", ""}, {"NO_COLOR", "1"}});
  INFO(list.out << list.err);
  CHECK(list.exit_code == 0);
  CHECK(contains(list.out, installed_dir + "/env-check.so"));
  CHECK(contains(list.out, installed_dir + "/wait.so"));
}
