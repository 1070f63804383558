#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runbook/load.hpp"

using namespace runbook;
namespace fs = std::filesystem;

// tests/data/invalid holds one runbook per kind of problem, NAME.yaml, with
// NAME.expected beside it: the exact diagnostics, FILE standing for the path.
// Adding a pair adds a check.

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string expand(const std::string& expected, const std::string& path) {
  std::istringstream in(expected);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.starts_with("FILE")) line = path + line.substr(4);
    out += line + "\n";
  }
  return out;
}

std::vector<fs::path> invalid_runbooks() {
  std::vector<fs::path> files;
  for (const fs::directory_entry& e :
       fs::directory_iterator(fs::path(RUNBOOK_TEST_DATA) / "invalid")) {
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("every invalid runbook in the test data gives exactly its expected diagnostics") {
  const std::vector<fs::path> files = invalid_runbooks();
  CHECK(files.size() >= 20);
  for (const fs::path& file : files) {
    CAPTURE(file.filename().string());
    fs::path expected_path = file;
    expected_path.replace_extension(".expected");
    REQUIRE_MESSAGE(fs::exists(expected_path), "missing " << expected_path.filename().string());
    const LoadResult r = load_runbook_file(file.string());
    CHECK_FALSE(r.ok());
    CHECK(r.diagnostics.format() == expand(read_file(expected_path), file.string()));
  }
}

TEST_CASE("the example runbooks are valid") {
  const fs::path examples = fs::path(RUNBOOK_TEST_DATA).parent_path().parent_path() / "examples";
  for (const char* name : {"hello.yaml", "diamond.yaml", "retries.yaml", "rollback.yaml"}) {
    CAPTURE(name);
    const LoadResult r = load_runbook_file((examples / name).string());
    INFO(r.diagnostics.format());
    CHECK(r.ok());
  }
}
