// runbooks/disk-cleanup.yaml run for real in a sandbox: a temporary directory
// with files aged by `touch -d`, allowed through `allowed_prefixes`. The tests
// check what happened to the files and the outputs the `report` step prints,
// not only exit codes.

#include <sys/stat.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "run_fixture.hpp"

using namespace runbook_test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kRunbook = std::string(RUNBOOK_SOURCE_DIR) + "/runbooks/disk-cleanup.yaml";

// A sandbox: `root` is the allowed prefix, `data` the directory cleaned.
struct Sandbox {
  TempDir dir;
  std::string root = dir / "allowed";
  std::string data = root + "/data";
  Sandbox() { fs::create_directories(data); }

  // Writes `size` bytes to data/NAME, last modified `age` ("10 days ago";
  // empty: now). Log-like text, so gzip has something to compress.
  std::string file(const std::string& name, std::size_t size, const std::string& age = "") const {
    std::string path = data + "/" + name;
    fs::create_directories(fs::path(path).parent_path());
    std::string text;
    for (int line = 0; text.size() < size; ++line)
      text += "2026-11-11T10:00:00Z worker " + std::to_string(line % 97) + " handled request\n";
    text.resize(size);
    std::ofstream(path, std::ios::binary) << text;
    if (!age.empty()) touch(path, age);
    return path;
  }

  static void touch(const std::string& path, const std::string& age) {
    std::string command = "touch -h -d '" + age + "' '" + path + "'";
    REQUIRE(std::system(command.c_str()) == 0);
  }

  // Every path under data, relative to it, sorted, one per line
  // (directories end with '/').
  std::string listing() const {
    std::set<std::string> names;
    for (auto& entry : fs::recursive_directory_iterator(data)) {
      std::string rel = entry.path().lexically_relative(data).string();
      names.insert(entry.is_directory() && !entry.is_symlink() ? rel + "/" : rel);
    }
    std::string text;
    for (const auto& name : names) text += name + "\n";
    return text;
  }

  std::string prefixes() const { return "allowed_prefixes=[\"" + root + "\"]"; }

  // runbook run disk-cleanup.yaml --yes -p path=DATA -p allowed_prefixes=[ROOT] -p PARAMS...
  Finished run(const std::vector<std::string>& params, const std::string& path = "") const {
    std::vector<std::string> args{
        "run", kRunbook, "--yes", "-p", "path=" + (path.empty() ? data : path), "-p", prefixes()};
    for (const auto& p : params) {
      args.push_back("-p");
      args.push_back(p);
    }
    return run_cli(dir, args, 90s);
  }
};

// The value of output KEY as the `report` step printed it ("report | KEY=VALUE"),
// or "<missing>".
std::string report(const Finished& f, const std::string& key) {
  std::string marker = "report | " + key + "=";
  auto at = f.output.find(marker);
  if (at == std::string::npos) return "<missing>";
  at += marker.size();
  return f.output.substr(at, f.output.find('\n', at) - at);
}

long long size_of(const std::string& path) {
  return static_cast<long long>(fs::file_size(path));
}

std::string gunzip(const std::string& path) {
  std::string out = path + ".plain";
  std::string command = "gzip -dc '" + path + "' > '" + out + "'";
  REQUIRE(std::system(command.c_str()) == 0);
  std::string text = read_file(out);
  fs::remove(out);
  return text;
}

}  // namespace

TEST_CASE("disk-cleanup deletes only old files matching the globs and reports the bytes freed" *
          doctest::timeout(90)) {
  Sandbox box;
  box.file("a.tmp", 1000, "10 days ago");
  box.file("sub/deeper/b.old", 2500, "10 days ago");
  box.file("fresh.tmp", 300);                 // too young
  box.file("notes.txt", 400, "10 days ago");  // no glob matches
  box.file("edge.tmp", 500, "6 days ago");    // younger than older_than_days=7
  // A link to a directory outside `path` holding an old matching file: find
  // must not follow it.
  std::string outside = box.dir / "outside";
  fs::create_directories(outside);
  std::ofstream(outside + "/precious.tmp") << "keep me";
  Sandbox::touch(outside + "/precious.tmp", "10 days ago");
  fs::create_directory_symlink(outside, box.data + "/link");

  auto f = box.run({"dry_run=false", "target_usage_percent=0", "older_than_days=7",
                    "delete_globs=[\"*.tmp\",\"*.old\"]", "log_globs="});
  INFO(f.output);
  REQUIRE(f.exit_code == 0);
  CHECK(box.listing() == "edge.tmp\nfresh.tmp\nlink\nnotes.txt\nsub/\nsub/deeper/\n");
  CHECK(file_exists(outside + "/precious.tmp"));
  CHECK(report(f, "bytes_freed") == "3500");
  CHECK(report(f, "files_deleted") == "2");
  CHECK(report(f, "files_compressed") == "0");
  CHECK(report(f, "dry_run") == "false");
  CHECK(f.output.find("deleted " + box.data + "/a.tmp (1000 bytes)") != std::string::npos);
}

TEST_CASE("disk-cleanup gzips old logs and leaves fresh and compressed ones alone" *
          doctest::timeout(90)) {
  Sandbox box;
  std::string log = box.file("app.log.1", 20000, "3 days ago");
  std::string original = read_file(log);
  box.file("app.log.12", 8000, "5 days ago");
  box.file("fresh.log.1", 5000);            // younger than 2 days
  box.file("app.log", 6000, "5 days ago");  // not a rotated log: the default globs skip it
  std::string gz = box.data + "/old.log.2.gz";
  REQUIRE(std::system(("printf 'old' | gzip > '" + gz + "'").c_str()) == 0);
  Sandbox::touch(gz, "5 days ago");
  long long gz_size = size_of(gz);

  auto f = box.run({"dry_run=false", "target_usage_percent=0", "delete_globs="});
  INFO(f.output);
  REQUIRE(f.exit_code == 0);
  CHECK(box.listing() == "app.log\napp.log.1.gz\napp.log.12.gz\nfresh.log.1\nold.log.2.gz\n");
  CHECK(gunzip(log + ".gz") == original);
  CHECK(size_of(gz) == gz_size);
  long long expected =
      (20000 - size_of(box.data + "/app.log.1.gz")) + (8000 - size_of(box.data + "/app.log.12.gz"));
  CHECK(report(f, "bytes_freed") == std::to_string(expected));
  CHECK(report(f, "files_compressed") == "2");
  CHECK(report(f, "files_deleted") == "0");
  // gzip keeps the modification time: the .gz is as old as the log was.
  struct stat st {};
  REQUIRE(::stat((log + ".gz").c_str(), &st) == 0);
  CHECK(std::time(nullptr) - st.st_mtime > 2 * 86400);
}

TEST_CASE("disk-cleanup by default is a dry run that changes nothing but reports what it would do" *
          doctest::timeout(90)) {
  Sandbox box;
  box.file("a.tmp", 1000, "20 days ago");
  box.file("b.old", 2000, "20 days ago");
  box.file("app.log.1", 3000, "3 days ago");
  auto before = box.listing();

  auto f = box.run({"target_usage_percent=0"});
  INFO(f.output);
  REQUIRE(f.exit_code == 0);
  CHECK(box.listing() == before);
  CHECK(report(f, "dry_run") == "true");
  CHECK(report(f, "bytes_freed") == "0");
  CHECK(report(f, "files_deleted") == "0");
  CHECK(report(f, "files_compressed") == "0");
  CHECK(report(f, "would_delete") == "2");
  CHECK(report(f, "would_delete_bytes") == "3000");
  CHECK(report(f, "would_compress") == "1");
  CHECK(report(f, "would_compress_bytes") == "3000");
  CHECK(f.output.find("would delete " + box.data + "/a.tmp") != std::string::npos);
}

TEST_CASE("disk-cleanup refuses the root directory before touching anything" *
          doctest::timeout(60)) {
  Sandbox box;
  box.file("a.tmp", 1000, "20 days ago");
  auto before = box.listing();

  auto f = box.run({"dry_run=false", "target_usage_percent=0"}, "/");
  INFO(f.output);
  CHECK(f.exit_code == 1);
  CHECK(f.output.find("REFUSED: path / is the root directory") != std::string::npos);
  CHECK(f.output.find("delete     not_run") != std::string::npos);
  CHECK(box.listing() == before);
}

TEST_CASE("disk-cleanup refuses '/' as an allowed prefix" * doctest::timeout(60)) {
  Sandbox box;
  box.file("a.tmp", 1000, "20 days ago");
  auto before = box.listing();

  auto f =
      run_cli(box.dir,
              {"run", kRunbook, "--yes", "-p", "path=" + box.data, "-p", "allowed_prefixes=[\"/\"]",
               "-p", "dry_run=false", "-p", "target_usage_percent=0"},
              60s);
  INFO(f.output);
  CHECK(f.exit_code == 1);
  CHECK(f.output.find("'/' cannot be an allowed prefix") != std::string::npos);
  CHECK(box.listing() == before);
}

TEST_CASE("disk-cleanup refuses a path outside the allowed prefixes before touching anything" *
          doctest::timeout(60)) {
  Sandbox box;
  box.file("a.tmp", 1000, "20 days ago");
  auto before = box.listing();
  // A sibling of the allowed prefix that merely starts with its name.
  std::string sibling = box.root + "-not";
  fs::create_directories(sibling);
  std::ofstream(sibling + "/b.tmp") << "x";
  Sandbox::touch(sibling + "/b.tmp", "20 days ago");

  auto outside = box.run({"dry_run=false", "target_usage_percent=0"}, sibling);
  INFO(outside.output);
  CHECK(outside.exit_code == 1);
  CHECK(outside.output.find("REFUSED: " + sibling + " is not inside any allowed prefix") !=
        std::string::npos);
  CHECK(file_exists(sibling + "/b.tmp"));

  // Through .. out of the prefix.
  auto dotdot =
      box.run({"dry_run=false", "target_usage_percent=0"}, box.data + "/../../allowed-not");
  CHECK(dotdot.exit_code == 1);
  CHECK(file_exists(sibling + "/b.tmp"));
  CHECK(box.listing() == before);
}

TEST_CASE("disk-cleanup resolves a symbolic link before checking the allowed prefixes" *
          doctest::timeout(60)) {
  Sandbox box;
  std::string elsewhere = box.dir / "elsewhere";
  fs::create_directories(elsewhere);
  std::ofstream(elsewhere + "/old.tmp") << "precious";
  Sandbox::touch(elsewhere + "/old.tmp", "20 days ago");
  fs::create_directory_symlink(elsewhere, box.root + "/shortcut");

  auto f = box.run({"dry_run=false", "target_usage_percent=0"}, box.root + "/shortcut");
  INFO(f.output);
  CHECK(f.exit_code == 1);
  CHECK(f.output.find("is not inside any allowed prefix") != std::string::npos);
  CHECK(file_exists(elsewhere + "/old.tmp"));
}

TEST_CASE("disk-cleanup rejects a relative path before starting" * doctest::timeout(60)) {
  Sandbox box;
  auto f = box.run({"dry_run=false"}, "tmp/data");
  CHECK(f.exit_code == 2);
  CHECK(f.output.find("does not match its pattern") != std::string::npos);
}

TEST_CASE("disk-cleanup stops before deleting when usage is already under the target" *
          doctest::timeout(60)) {
  Sandbox box;
  box.file("a.tmp", 1000, "20 days ago");
  box.file("app.log.1", 3000, "3 days ago");
  auto before = box.listing();

  auto f = box.run({"dry_run=false", "target_usage_percent=100"});
  INFO(f.output);
  REQUIRE(f.exit_code == 0);
  CHECK(box.listing() == before);
  CHECK(report(f, "stopped_early") == "before_delete");
  CHECK(report(f, "bytes_freed") == "0");
  CHECK(report(f, "files_deleted") == "0");
  CHECK(f.output.find("delete     skipped") != std::string::npos);
  CHECK(f.output.find("compress   skipped") != std::string::npos);
}

TEST_CASE("disk-cleanup run a second time finds nothing left to do and changes nothing" *
          doctest::timeout(120)) {
  Sandbox box;
  box.file("a.tmp", 1000, "20 days ago");
  box.file("app.log.1", 9000, "3 days ago");
  box.file("fresh.tmp", 100);
  std::vector<std::string> params{"dry_run=false", "target_usage_percent=0", "older_than_days=7"};

  auto first = box.run(params);
  INFO(first.output);
  REQUIRE(first.exit_code == 0);
  CHECK(report(first, "files_deleted") == "1");
  CHECK(report(first, "files_compressed") == "1");
  auto after_first = box.listing();
  CHECK(after_first == "app.log.1.gz\nfresh.tmp\n");
  std::string gz = read_file(box.data + "/app.log.1.gz");

  auto second = box.run(params);
  INFO(second.output);
  REQUIRE(second.exit_code == 0);
  CHECK(report(second, "bytes_freed") == "0");
  CHECK(report(second, "files_deleted") == "0");
  CHECK(report(second, "files_compressed") == "0");
  CHECK(box.listing() == after_first);
  CHECK(read_file(box.data + "/app.log.1.gz") == gz);
}

TEST_CASE("disk-cleanup leaves a log alone when its .gz already exists" * doctest::timeout(60)) {
  Sandbox box;
  std::string log = box.file("app.log.1", 4000, "3 days ago");
  std::ofstream(log + ".gz") << "not really gzip: left by an interrupted run";
  std::string log_text = read_file(log);

  auto f = box.run({"dry_run=false", "target_usage_percent=0", "delete_globs="});
  INFO(f.output);
  REQUIRE(f.exit_code == 0);
  CHECK(read_file(log) == log_text);
  CHECK(read_file(log + ".gz") == "not really gzip: left by an interrupted run");
  CHECK(report(f, "files_compressed") == "0");
  CHECK(f.output.find(log + ".gz exists already") != std::string::npos);
}
