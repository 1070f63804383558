#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "runbook/load.hpp"

using namespace runbook;
namespace fs = std::filesystem;

namespace {

// A directory of its own under the system's temporary directory, removed
// when the test ends.
struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("runbook-load-test-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path / name, std::ios::binary) << content;
    return (path / name).string();
  }
};

std::string only_error(const LoadResult& r) {
  REQUIRE(r.diagnostics.size() == 1);
  CHECK_FALSE(r.runbook.has_value());
  return r.diagnostics.items()[0].format();
}

}  // namespace

TEST_CASE("a missing file is one clear error") {
  TempDir dir;
  const std::string path = (dir.path / "nope.yaml").string();
  CHECK(only_error(load_runbook_file(path)) ==
        path + ": error: cannot read file: No such file or directory");
}

TEST_CASE("a directory is refused") {
  TempDir dir;
  CHECK(only_error(load_runbook_file(dir.path.string())) ==
        dir.path.string() + ": error: is a directory, not a runbook file");
}

TEST_CASE("an empty file or one with only comments is refused") {
  TempDir dir;
  for (const char* text : {"", "\n\n", "# just a comment\n", "---\n"}) {
    CAPTURE(text);
    const std::string path = dir.write("empty.yaml", text);
    CHECK(only_error(load_runbook_file(path)) ==
          path +
              ": error: the runbook is empty; a runbook needs at least 'version', 'name' and "
              "'steps'");
  }
}

TEST_CASE("a binary file is refused at its first NUL byte") {
  TempDir dir;
  const std::string path = dir.write("bin.yaml", std::string("version: 1\nna\0me", 16));
  CHECK(only_error(load_runbook_file(path)) ==
        path + ":2:3: error: file contains a NUL byte: it looks binary, not like a YAML runbook");
}

TEST_CASE("a file over the size limit is refused before parsing, naming size and limit") {
  TempDir dir;
  const std::string path = dir.write("big.yaml", std::string(kMaxRunbookBytes + 1, '#'));
  CHECK(only_error(load_runbook_file(path)) ==
        path + ": error: file is 16777217 bytes, over the limit of 16777216 bytes (16 MiB)");
  std::string text(kMaxRunbookBytes + 1, '#');
  CHECK(only_error(load_runbook_text(text, "mem.yaml")) ==
        "mem.yaml: error: file is 16777217 bytes, over the limit of 16777216 bytes (16 MiB)");
}

TEST_CASE("a YAML list or scalar at the top is not a runbook") {
  CHECK(only_error(load_runbook_text("- a\n- b\n", "t.yaml")) ==
        "t.yaml:1:1: error: a runbook must be a YAML map of keys like 'version', 'name' and "
        "'steps', not a list");
  CHECK(only_error(load_runbook_text("hello\n", "t.yaml")) ==
        "t.yaml:1:1: error: a runbook must be a YAML map of keys like 'version', 'name' and "
        "'steps', not 'hello'");
}

TEST_CASE("YAML nested deeper than the parser allows is one error, not a crash") {
  std::string text =
      "version: 1\nname: deep\nsteps: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  LoadResult r = load_runbook_text(text, "t.yaml");
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics.items()[0].message.find("nested too deeply") != std::string::npos);
  CHECK_FALSE(r.runbook.has_value());
}

TEST_CASE("deep nesting that the parser accepts stops at the loader's own limit") {
  std::string text =
      "version: 1\nname: deep\nsteps: [{id: a, uses: x, with: {v: " + std::string(100, '[') +
      std::string(100, ']') + "}}]\n";
  LoadResult r = load_runbook_text(text, "t.yaml");
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics.items()[0].message == "'with' is nested more than 64 levels deep");
}

TEST_CASE("a YAML syntax error points at the parser's position") {
  CHECK(only_error(load_runbook_text("version: 1\nsteps: [a, b\nname: x\n", "t.yaml")) ==
        "t.yaml:3:5: error: invalid YAML: did not find expected ',' or ']' (while parsing a "
        "flow sequence)");
}

TEST_CASE("several YAML documents in one file are refused") {
  CHECK(only_error(load_runbook_text("version: 1\n---\nversion: 1\n", "t.yaml")) ==
        "t.yaml: error: file holds 2 YAML documents; a runbook is exactly one");
}
