#include "serve/auth_files.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

using namespace runbook;
using namespace runbook::serve;
namespace fs = std::filesystem;

namespace {

// A fresh directory, removed with the object.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("runbook-auth-files-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string write(const std::string& name, std::string_view content,
                    fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) {
    const fs::path file = path / name;
    std::ofstream(file, std::ios::binary) << content;
    fs::permissions(file, perms);
    return file.string();
  }
  std::string str() const { return path.string(); }
};

std::string token_errors(const std::string& path) {
  Diagnostics diags;
  CHECK_FALSE(load_bearer_tokens(path, diags).has_value());
  return diags.format();
}

}  // namespace

TEST_CASE("the bearer tokens file of a server config holds one token per line") {
  TempDir dir;
  const std::string path = dir.write("tokens",
                                     "# ops team\n  tok-ABC.123_x~+/=  \n\n"
                                     "\t# old\nsecond-token\r\ntok-ABC.123_x~+/=\n");
  Diagnostics diags;
  const std::optional<std::vector<std::string>> tokens = load_bearer_tokens(path, diags);
  INFO(diags.format());
  REQUIRE(tokens.has_value());
  CHECK(diags.empty());
  CHECK(*tokens == std::vector<std::string>{"tok-ABC.123_x~+/=", "second-token"});
}

TEST_CASE("the bearer tokens file of a server config is refused when missing, empty or bad") {
  TempDir dir;
  const std::string d = dir.str();
  CHECK(token_errors(d + "/none") ==
        d + "/none: error: cannot read the bearer tokens file: No such file or directory\n");
  CHECK(token_errors(d) == d + ": error: the bearer tokens file is not a regular file\n");
  const std::string empty = dir.write("empty", "# no tokens yet\n\n");
  CHECK(token_errors(empty) ==
        empty +
            ": error: the bearer tokens file holds no token; write one token per line; lines "
            "starting with # are comments\n");
  const std::string spaced = dir.write("spaced", "good\n  two words\nsecret\x01x\n");
  const std::string errors = token_errors(spaced);
  CHECK(errors ==
        spaced +
            ":2:6: error: a token must be printable ASCII without blanks inside; one token "
            "per line\n" +
            spaced +
            ":3:7: error: a token must be printable ASCII without blanks inside; one token per "
            "line\n");
  CHECK(errors.find("words") == std::string::npos);  // tokens never shown
}

TEST_CASE("a bearer tokens file of a server config that group or others may read is refused") {
  TempDir dir;
  const std::string path = dir.write("tokens", "abc\n",
                                     fs::perms::owner_read | fs::perms::owner_write |
                                         fs::perms::group_read | fs::perms::others_read);
  CHECK(token_errors(path) ==
        path +
            ": error: permissions 0644 of the bearer tokens file are too open: it must not be "
            "accessible by group or others; chmod 600 " +
            path + "\n");
  fs::permissions(path, fs::perms::owner_read | fs::perms::group_write);
  CHECK(token_errors(path).find("permissions 0420") != std::string::npos);
  fs::permissions(path, fs::perms::owner_read);
  Diagnostics diags;
  CHECK(load_bearer_tokens(path, diags) == std::vector<std::string>{"abc"});
}

TEST_CASE("the HMAC secret file of a server config is read whole, under the same rules") {
  TempDir dir;
  Diagnostics diags;
  const std::string path = dir.write("hmac", "s3cr3t with spaces\n");
  CHECK(load_hmac_secret(path, diags) == std::string("s3cr3t with spaces"));
  CHECK(diags.empty());

  const std::string empty = dir.write("empty", "\n");
  CHECK_FALSE(load_hmac_secret(empty, diags).has_value());
  const std::string open =
      dir.write("open", "secret", fs::perms::owner_all | fs::perms::others_read);
  CHECK_FALSE(load_hmac_secret(open, diags).has_value());
  CHECK(diags.format() ==
        empty + ": error: the HMAC secret file is empty\n" + open +
            ": error: permissions 0704 of the HMAC secret file are too open: it must not be "
            "accessible by group or others; chmod 600 " +
            open + "\n");
}
