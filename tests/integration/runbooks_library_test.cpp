// The library of ready runbooks in runbooks/: every one is valid, and
// runbooks/README.md is what runbooks/gen-readme.py generates from them, so
// the README cannot drift from the files. Also the generator's own failures.

#include <sys/wait.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kRunbooks = std::string(RUNBOOK_SOURCE_DIR) + "/runbooks";

std::vector<std::string> runbook_files() {
  std::vector<std::string> files;
  for (auto& entry : fs::directory_iterator(kRunbooks))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

struct Shell {
  int exit_code = -1;
  std::string output;
};

// Runs `command` with sh, stdout and stderr into a file of `dir`.
Shell shell(const TempDir& dir, const std::string& command) {
  std::string out = dir / ("shell-" + std::to_string(unique_token()) + ".txt");
  int status = std::system((command + " > '" + out + "' 2>&1").c_str());
  Shell s;
  s.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  s.output = read_file(out);
  return s;
}

// A copy of gen-readme.py in a directory of its own, with `runbooks` (file
// name to text) beside it: the generator reads the directory it is in.
std::string generator_in(const TempDir& dir, const std::map<std::string, std::string>& runbooks) {
  fs::create_directories(dir / "runbooks");
  fs::copy_file(kRunbooks + "/gen-readme.py", dir / "runbooks/gen-readme.py");
  for (auto& [name, text] : runbooks) dir.write("runbooks/" + name, text);
  return dir / "runbooks/gen-readme.py";
}

const char* kGoodRunbook =
    "# tiny: a runbook for the generator's tests\n"
    "#\n"
    "# What: Prints hello.\n"
    "# When: Never.\n"
    "# Changes: Nothing.\n"
    "# Rollback: None needed.\n"
    "version: 1\n"
    "name: tiny\n"
    "params:\n"
    "  who: {type: string, default: world, pattern: '^[a-z|]+$', description: whom to greet}\n"
    "steps:\n"
    "  - id: hello\n"
    "    run: echo hello\n"
    "    timeout: 5s\n";

}  // namespace

TEST_CASE("runbook library: every runbook in runbooks/ passes runbook validate" *
          doctest::timeout(120)) {
  TempDir dir;
  auto files = runbook_files();
  auto has = [&](const std::string& name) {
    return std::find(files.begin(), files.end(), kRunbooks + "/" + name) != files.end();
  };
  CHECK(has("disk-cleanup.yaml"));
  CHECK(has("kill-runaway.yaml"));
  for (const auto& file : files) {
    auto f = run_cli(dir, {"validate", file}, 60s);
    INFO(file, "\n", f.output);
    CHECK(f.exit_code == 0);
    CHECK(f.output.find("ok " + file) != std::string::npos);
  }
}

TEST_CASE(
    "runbook library: runbooks/README.md is exactly what gen-readme.py generates from the "
    "runbooks" *
    doctest::timeout(60)) {
  TempDir dir;
  auto s = shell(dir, "python3 '" + kRunbooks + "/gen-readme.py' --check");
  INFO(s.output);
  CHECK(s.exit_code == 0);
  // Every runbook has its section, with its params in the table.
  std::string readme = read_file(kRunbooks + "/README.md");
  for (const auto& file : runbook_files()) {
    std::string name = fs::path(file).stem().string();
    CHECK(readme.find("\n## " + name + "\n") != std::string::npos);
  }
  CHECK(readme.find("| `allowed_prefixes` | list | `[/var/log, /var/tmp, /tmp]` | no |") !=
        std::string::npos);
  CHECK(readme.find("| `grace_seconds` | int | `10` | no |") != std::string::npos);
}

TEST_CASE(
    "runbook library: gen-readme.py --check exits 1 with a diff when README.md is out of date" *
    doctest::timeout(60)) {
  TempDir dir;
  std::string script = generator_in(dir, {{"tiny.yaml", kGoodRunbook}});
  REQUIRE(shell(dir, "python3 '" + script + "'").exit_code == 0);
  std::string readme = read_file(dir / "runbooks/README.md");
  CHECK(readme.find("**What:** Prints hello.") != std::string::npos);
  CHECK(readme.find("| `who` | string | `world` | no | whom to greet | pattern `^[a-z\\|]+$` |") !=
        std::string::npos);
  REQUIRE(shell(dir, "python3 '" + script + "' --check").exit_code == 0);

  // A param changes in the runbook but not in the README.
  std::string changed = kGoodRunbook;
  changed.replace(changed.find("default: world"), 14, "default: there");
  dir.write("runbooks/tiny.yaml", changed);
  auto s = shell(dir, "python3 '" + script + "' --check");
  INFO(s.output);
  CHECK(s.exit_code == 1);
  CHECK(s.output.find("-| `who` | string | `world`") != std::string::npos);
  CHECK(s.output.find("+| `who` | string | `there`") != std::string::npos);
  CHECK(read_file(dir / "runbooks/README.md") == readme);  // --check writes nothing
}

TEST_CASE("runbook library: gen-readme.py fails loudly when a runbook's header lacks a section" *
          doctest::timeout(60)) {
  TempDir dir;
  std::string text = kGoodRunbook;
  text.erase(text.find("# Rollback: None needed.\n"),
             std::string("# Rollback: None needed.\n").size());
  std::string script = generator_in(dir, {{"tiny.yaml", text}});
  auto s = shell(dir, "python3 '" + script + "'");
  INFO(s.output);
  CHECK(s.exit_code == 2);
  CHECK(s.output.find("tiny.yaml: the header comment lacks Rollback:") != std::string::npos);
  CHECK_FALSE(file_exists(dir / "runbooks/README.md"));
}

TEST_CASE("runbook library: gen-readme.py fails loudly when a param has no description" *
          doctest::timeout(60)) {
  TempDir dir;
  std::string text = kGoodRunbook;
  text.replace(text.find(", description: whom to greet"), 28, "");
  std::string script = generator_in(dir, {{"tiny.yaml", text}});
  auto s = shell(dir, "python3 '" + script + "'");
  INFO(s.output);
  CHECK(s.exit_code == 2);
  CHECK(s.output.find("param 'who' has no description") != std::string::npos);
  CHECK_FALSE(file_exists(dir / "runbooks/README.md"));
}
