// `runbook validate` on the examples and on tests/data/invalid, as a user
// runs it: exit codes, `ok FILE` on stdout, diagnostics on stderr.

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "run_binary.hpp"

using runbook::testing::run_binary;
using runbook::testing::RunResult;
namespace fs = std::filesystem;

namespace {

const fs::path kExamples = fs::path(RUNBOOK_SOURCE_DIR) / "examples";
const fs::path kInvalid = fs::path(RUNBOOK_TEST_DATA) / "invalid";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

RunResult validate(const std::vector<std::string>& files) {
  std::vector<std::string> args = {RUNBOOK_BINARY, "validate"};
  args.insert(args.end(), files.begin(), files.end());
  return run_binary(args);
}

std::vector<std::string> example_files() {
  return {(kExamples / "hello.yaml").string(), (kExamples / "diamond.yaml").string(),
          (kExamples / "retries.yaml").string(), (kExamples / "rollback.yaml").string()};
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("runbook-validate-test-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("validate prints ok for each valid example and exits 0" * doctest::timeout(60)) {
  const std::vector<std::string> files = example_files();
  RunResult r = validate(files);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  std::string expected;
  for (const std::string& f : files) expected += "ok " + f + "\n";
  CHECK(r.out == expected);
}

TEST_CASE("validate prints each invalid runbook's diagnostics and exits 2" *
          doctest::timeout(120)) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(kInvalid)) {
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 20);
  for (const fs::path& file : files) {
    CAPTURE(file.filename().string());
    fs::path expected_path = file;
    expected_path.replace_extension(".expected");
    std::string expected;
    std::istringstream lines(read_file(expected_path));
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("FILE")) line = file.string() + line.substr(4);
      expected += line + "\n";
    }
    RunResult r = validate({file.string()});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == expected);
  }
}

TEST_CASE("validate checks every file, valid and invalid, and exits 2 if any is invalid" *
          doctest::timeout(60)) {
  const std::string good = (kExamples / "hello.yaml").string();
  const std::string bad = (kInvalid / "unknown-key.yaml").string();
  RunResult r = validate({bad, good});
  CHECK(r.exit_code == 2);
  CHECK(r.out == "ok " + good + "\n");
  CHECK(r.err.find(bad +
                   ":7:5: error: unknown key 'retires' in step 'build'; did you mean 'retry'?\n") !=
        std::string::npos);
}

TEST_CASE("validate reports a missing file, a directory and an oversized file in one line each" *
          doctest::timeout(60)) {
  TempDir dir;
  const std::string missing = (dir.path / "missing.yaml").string();
  const std::string big = (dir.path / "big.yaml").string();
  std::ofstream(big) << std::string(16 * 1024 * 1024 + 5, '#');
  RunResult r = validate({missing, dir.path.string(), big});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err ==
        missing + ": error: cannot read file: No such file or directory\n" + dir.path.string() +
            ": error: is a directory, not a runbook file\n" + big +
            ": error: file is 16777221 bytes, over the limit of 16777216 bytes (16 MiB)\n");
}

TEST_CASE("validate without a file is a usage error" * doctest::timeout(60)) {
  RunResult r = validate({});
  CHECK(r.exit_code == 2);
  CHECK_FALSE(r.err.empty());
}

TEST_CASE("run_binary passes extra environment and stdin to the child" * doctest::timeout(60)) {
  RunResult r =
      run_binary({"sh", "-c", "printf '%s|' \"$RB_TEST_VALUE\"; cat; echo oops >&2; exit 3"},
                 {{"RB_TEST_VALUE", "hello"}}, std::string("from stdin"));
  CHECK(r.exit_code == 3);
  CHECK(r.out == "hello|from stdin");
  CHECK(r.err == "oops\n");
}
