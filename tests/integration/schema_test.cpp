// `runbook schema`: the printed JSON Schema accepts every example and rejects
// the broken runbooks under tests/data/schema/, checked by Python's jsonschema.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "run_binary.hpp"

namespace {

namespace fs = std::filesystem;
using runbook::testing::run_binary;
using runbook::testing::RunResult;

// A private scratch directory, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "runbook-schema-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Checks the schema itself against the 2020-12 meta-schema, then prints one
// line per file: "valid PATH", "invalid PATH | every error" or
// "not-a-runbook PATH".
// Reads YAML 1.2 booleans only, like yaml-cpp and yaml-language-server, so
// that a retry policy's `on:` stays a key.
constexpr const char* kValidator = R"py(
import json, re, sys, yaml
from jsonschema import Draft202012Validator

class Yaml12Loader(yaml.SafeLoader):
    pass

Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))

with open(sys.argv[1]) as f:
    schema = json.load(f)
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)
for path in sys.argv[2:]:
    with open(path) as f:
        doc = yaml.load(f, Loader=Yaml12Loader)
    if not isinstance(doc, dict) or "steps" not in doc:
        print("not-a-runbook", path)
        continue
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        why = " ; ".join("/".join(str(p) for p in e.absolute_path) + ": " + e.message[:300]
                         for e in errors)
        print("invalid", path, "|", why.replace("\n", " "))
    else:
        print("valid", path)
)py";

bool python_can_validate() {
  return run_binary({"sh", "-c",
                     "command -v python3 >/dev/null && "
                     "python3 -c 'import jsonschema, yaml; jsonschema.Draft202012Validator'"})
             .exit_code == 0;
}

std::vector<std::string> yaml_files(const fs::path& dir, const std::string& prefix = {}) {
  std::vector<std::string> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".yaml" && name.rfind(prefix, 0) == 0)
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Verdict per file ("valid", "invalid", "not-a-runbook"), with the reasons in
// `report`.
std::map<std::string, std::string> validate(const std::vector<std::string>& files,
                                            std::string* report) {
  ScratchDir scratch;
  RunResult schema = run_binary({RUNBOOK_BINARY, "schema"});
  REQUIRE(schema.exit_code == 0);
  fs::path schema_file = scratch.path() / "runbook.schema.json";
  fs::path script = scratch.path() / "validate.py";
  std::ofstream(schema_file) << schema.out;
  std::ofstream(script) << kValidator;

  std::vector<std::string> command = {"python3", script.string(), schema_file.string()};
  command.insert(command.end(), files.begin(), files.end());
  RunResult r = run_binary(command);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  *report = r.out;

  std::map<std::string, std::string> verdicts;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string verdict, path;
    words >> verdict >> path;
    verdicts[path] = verdict;
  }
  return verdicts;
}

TEST_CASE("runbook schema prints a draft 2020-12 JSON Schema with an id" * doctest::timeout(30)) {
  RunResult r = run_binary({RUNBOOK_BINARY, "schema"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.rfind("{", 0) == 0);
  CHECK(contains(r.out, "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\""));
  CHECK(contains(r.out, "\"$id\":"));
  CHECK(r.out.back() == '\n');
}

TEST_CASE("every example runbook and valid test runbook passes the schema" * doctest::timeout(60)) {
  if (!python_can_validate()) {
    MESSAGE("skipped: python3 with the jsonschema and yaml modules is not available");
    return;
  }
  std::vector<std::string> files = yaml_files(fs::path(RUNBOOK_SOURCE_DIR) / "examples");
  if (files.empty()) MESSAGE("examples/ holds no .yaml files yet");
  for (const std::string& f : yaml_files(fs::path(RUNBOOK_TEST_DATA) / "schema", "valid-"))
    files.push_back(f);
  for (const std::string& f : yaml_files(fs::path(RUNBOOK_TEST_DATA) / "graph")) files.push_back(f);

  std::string report;
  std::map<std::string, std::string> verdicts = validate(files, &report);
  INFO(report);
  for (const std::string& f : files) {
    CAPTURE(f);
    CHECK(verdicts.count(f) == 1);
    if (verdicts[f] == "not-a-runbook") {
      MESSAGE("not a runbook (no steps), not checked: " << f);
      continue;
    }
    CHECK(verdicts[f] == "valid");
  }
}

TEST_CASE("runbooks with an unknown key, two actions or a bad duration fail the schema" *
          doctest::timeout(60)) {
  if (!python_can_validate()) {
    MESSAGE("skipped: python3 with the jsonschema and yaml modules is not available");
    return;
  }
  std::vector<std::string> files = yaml_files(fs::path(RUNBOOK_TEST_DATA) / "schema", "invalid-");
  REQUIRE(files.size() >= 3);
  std::string report;
  std::map<std::string, std::string> verdicts = validate(files, &report);
  INFO(report);
  for (const std::string& f : files) {
    CAPTURE(f);
    CHECK(verdicts[f] == "invalid");
  }
  CHECK(contains(report, "'retires' was unexpected"));
  CHECK(contains(report, "is valid under each of"));  // run and exec together
  CHECK(contains(report, "5 minutes"));
}

TEST_CASE("the loader and the schema agree on the runbooks under tests/data/schema" *
          doctest::timeout(60)) {
  // `runbook graph` loads the file as every command does: exit 0 when valid.
  for (const std::string& f : yaml_files(fs::path(RUNBOOK_TEST_DATA) / "schema")) {
    bool valid = fs::path(f).filename().string().rfind("valid-", 0) == 0;
    RunResult r = run_binary({RUNBOOK_BINARY, "graph", f});
    CAPTURE(f);
    INFO(r.err);
    CHECK(r.exit_code == (valid ? 0 : 2));
  }
}

}  // namespace
