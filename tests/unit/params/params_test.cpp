#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "runbook/load.hpp"
#include "runbook/params.hpp"

using namespace runbook;
namespace fs = std::filesystem;

namespace {

const char* kRunbook = R"(version: 1
name: restart
params:
  service: {type: string, required: true, pattern: '^[a-z0-9@._-]+$', description: systemd unit}
  url:     {type: string, default: "http://127.0.0.1:8080/healthz"}
  batch:   {type: int, default: 1, min: 1, max: 10}
  mode:    {type: string, allowed: [graceful, hard], default: graceful}
  hosts:   {type: list, default: [], max: 3}
  force:   {type: bool, default: false}
  label:   {type: string, min: 2, max: 5}
steps:
  - id: a
    run: "true"
)";

Runbook load(const char* text = kRunbook) {
  LoadResult r = load_runbook_text(text, "rb.yaml");
  INFO(r.diagnostics.format());
  REQUIRE(r.ok());
  return *r.runbook;
}

struct Resolved {
  ResolvedParams params;
  Diagnostics diags;
  std::string errors() const { return diags.format(); }
};

Resolved resolve(const Runbook& rb, std::vector<std::string> pairs, std::string file = {}) {
  Resolved r;
  ParamSources sources;
  sources.pairs = std::move(pairs);
  sources.params_file = std::move(file);
  r.params = resolve_params(rb, sources, r.diags);
  return r;
}

// A file in a fresh temporary directory, removed with the object.
struct TempFile {
  fs::path path;
  explicit TempFile(const std::string& name, const std::string& content) {
    const fs::path dir =
        fs::temp_directory_path() / ("runbook-params-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    path = dir / name;
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempFile() { fs::remove(path); }
};

}  // namespace

TEST_CASE("-p values are typed by their param and defaults fill the rest") {
  const Runbook rb = load();
  Resolved r = resolve(rb, {"service=web", "batch=4", "force=yes", "hosts=a, b"});
  INFO(r.errors());
  REQUIRE(r.diags.empty());
  const Value::Map& v = r.params.values;
  CHECK(v.at("service") == Value("web"));
  CHECK(v.at("batch") == Value(4));
  CHECK(v.at("force") == Value(true));
  CHECK(v.at("hosts") == Value(Value::List{Value("a"), Value("b")}));
  CHECK(v.at("url") == Value("http://127.0.0.1:8080/healthz"));
  CHECK(v.at("mode") == Value("graceful"));
  CHECK(v.at("label").is_null());
}

TEST_CASE("bools take true, false, yes, no, 1 and 0") {
  const Runbook rb = load();
  for (auto [text, expected] : std::vector<std::pair<std::string, bool>>{{"true", true},
                                                                         {"False", false},
                                                                         {"yes", true},
                                                                         {"NO", false},
                                                                         {"1", true},
                                                                         {"0", false}}) {
    Resolved r = resolve(rb, {"service=web", "force=" + text});
    CAPTURE(text);
    REQUIRE(r.diags.empty());
    CHECK(r.params.values.at("force") == Value(expected));
  }
}

TEST_CASE("a list may be given as JSON") {
  const Runbook rb = load();
  Resolved r = resolve(rb, {"service=web", R"(hosts=["a,1", "b"])"});
  REQUIRE(r.diags.empty());
  CHECK(r.params.values.at("hosts") == Value(Value::List{Value("a,1"), Value("b")}));
}

TEST_CASE("a later -p wins") {
  const Runbook rb = load();
  Resolved r = resolve(rb, {"service=one", "service=two"});
  REQUIRE(r.diags.empty());
  CHECK(r.params.values.at("service") == Value("two"));
}

TEST_CASE("a missing required param is reported") {
  Resolved r = resolve(load(), {});
  CHECK(r.errors() ==
        "rb.yaml:4:3: error: missing required param 'service'; give it with -p service=VALUE\n");
}

TEST_CASE("an unknown param is reported with the nearest name") {
  Resolved r = resolve(load(), {"service=web", "servce=x"});
  CHECK(r.errors() == "error: unknown param 'servce'; did you mean 'service'?\n");
}

TEST_CASE("a value of the wrong type is reported") {
  Resolved r = resolve(load(), {"service=web", "batch=many", "force=maybe", "hosts=[1,"});
  CHECK(r.errors() ==
        "error: param 'batch' given by -p must be an int, not 'many'\n"
        "error: param 'hosts' given by -p must be a list, not '[1,'\n"
        "error: param 'force' given by -p must be a bool (true, false, yes, no, 1 or 0), not "
        "'maybe'\n");
}

TEST_CASE("pattern, allowed, min and max are checked and every problem reported") {
  Resolved r =
      resolve(load(), {"service=Web 1", "batch=11", "mode=soft", "hosts=a,b,c,d", "label=x"});
  CHECK(r.errors() ==
        "error: param 'service' given by -p 'Web 1' does not match its pattern "
        "'^[a-z0-9@._-]+$'\n"
        "error: param 'batch' given by -p is 11, more than its max 10\n"
        "error: param 'mode' given by -p 'soft' is not one of the allowed values: graceful, hard\n"
        "error: param 'hosts' given by -p has length 4, more than its max 3\n"
        "error: param 'label' given by -p has length 1, less than its min 2\n");
}

TEST_CASE("the pattern must match the whole value") {
  const Runbook rb = load(R"(version: 1
name: p
params:
  env: {type: string, pattern: 'prod|stage'}
steps:
  - id: a
    run: "true"
)");
  CHECK(resolve(rb, {"env=prod"}).diags.empty());
  CHECK_FALSE(resolve(rb, {"env=production"}).diags.empty());
}

TEST_CASE("a -p without = is reported") {
  Resolved r = resolve(load(), {"service"});
  CHECK(r.errors().find("error: -p 'service' must be NAME=VALUE\n") == 0);
}

TEST_CASE("a params file gives typed values and -p wins over it") {
  const Runbook rb = load();
  TempFile file("p.yaml", "service: api\nbatch: 5\nhosts: [x, y]\nforce: true\nurl: 8080\n");
  Resolved r = resolve(rb, {"batch=6"}, file.path.string());
  INFO(r.errors());
  REQUIRE(r.diags.empty());
  CHECK(r.params.values.at("service") == Value("api"));
  CHECK(r.params.values.at("batch") == Value(6));
  CHECK(r.params.values.at("hosts") == Value(Value::List{Value("x"), Value("y")}));
  CHECK(r.params.values.at("force") == Value(true));
  CHECK(r.params.values.at("url") == Value("8080"));
}

TEST_CASE("a JSON params file works too") {
  TempFile file("p.json", R"({"service": "api", "batch": 2, "hosts": ["a"]})");
  Resolved r = resolve(load(), {}, file.path.string());
  INFO(r.errors());
  REQUIRE(r.diags.empty());
  CHECK(r.params.values.at("batch") == Value(2));
}

TEST_CASE("problems in a params file are reported at their place in it") {
  TempFile file("bad.yaml", "service: api\nbatch: \"5\"\nservce: x\n");
  Resolved r = resolve(load(), {}, file.path.string());
  const std::string f = file.path.string();
  CHECK(r.errors() == f +
                          ":2:8: error: param 'batch' given by the params file must be an int, "
                          "not '5'\n" +
                          f + ":3:1: error: unknown param 'servce'; did you mean 'service'?\n");
}

TEST_CASE("a missing or malformed params file is reported") {
  Resolved missing = resolve(load(), {"service=x"}, "/nonexistent/params.yaml");
  CHECK(
      missing.errors() ==
      "/nonexistent/params.yaml: error: cannot read the params file: No such file or directory\n");
  TempFile list("list.yaml", "- a\n- b\n");
  Resolved r = resolve(load(), {"service=x"}, list.path.string());
  CHECK(r.errors().find("the params file must be a map") != std::string::npos);
}

TEST_CASE("typed values from a request are checked like the others") {
  const Runbook rb = load();
  ParamSources sources;
  sources.values = {{"service", Value("web")}, {"batch", Value("3")}, {"force", Value(1)}};
  Diagnostics diags;
  ResolvedParams p = resolve_params(rb, sources, diags);
  CHECK(diags.format() ==
        "error: param 'force' given by the request must be a bool (true, "
        "false, yes, no, 1 or 0), not 1\n");
  CHECK(p.values.at("batch") == Value(3));
}

namespace {

const char* kSecrets = R"(version: 1
name: s
params:
  token: {type: secret, env: RUNBOOK_TEST_TOKEN}
  key:   {type: secret, file: KEYFILE}
steps:
  - id: a
    run: "true"
)";

Runbook load_secrets(const std::string& keyfile) {
  std::string text = kSecrets;
  text.replace(text.find("KEYFILE"), 7, keyfile);
  return load(text.c_str());
}

}  // namespace

TEST_CASE("secrets are read from the environment and from files without the newline") {
  TempFile key("key", "file-secret\n");
  ::setenv("RUNBOOK_TEST_TOKEN", "env-secret", 1);
  Resolved r = resolve(load_secrets(key.path.string()), {});
  ::unsetenv("RUNBOOK_TEST_TOKEN");
  INFO(r.errors());
  REQUIRE(r.diags.empty());
  CHECK(r.params.values.at("token") == Value("env-secret"));
  CHECK(r.params.values.at("key") == Value("file-secret"));
  CHECK(r.params.secrets.size() == 2);
}

TEST_CASE("a secret given with -p wins over its environment variable") {
  TempFile key("key", "file-secret");
  ::setenv("RUNBOOK_TEST_TOKEN", "env-secret", 1);
  Resolved r = resolve(load_secrets(key.path.string()), {"token=cli-secret"});
  ::unsetenv("RUNBOOK_TEST_TOKEN");
  REQUIRE(r.diags.empty());
  CHECK(r.params.values.at("token") == Value("cli-secret"));
}

TEST_CASE("a secret shorter than four characters is refused") {
  TempFile key("key", "abc\n");
  Resolved r = resolve(load_secrets(key.path.string()), {"token=xyz1"});
  CHECK(r.errors() ==
        "rb.yaml:5:3: error: secret 'key' is too short to mask safely (under 4 characters)\n");
}

TEST_CASE("an unreadable secret file is reported") {
  Resolved r = resolve(load_secrets("/nonexistent/key"), {"token=long-enough"});
  CHECK(r.errors() ==
        "rb.yaml:5:3: error: cannot read secret 'key' from /nonexistent/key: No "
        "such file or directory\n");
}

TEST_CASE("a wrong secret is reported without its value") {
  const Runbook rb = load(R"(version: 1
name: s
params:
  token: {type: secret, pattern: '^tok-.*$'}
steps:
  - id: a
    run: "true"
)");
  Resolved r = resolve(rb, {"token=very-secret-value"});
  CHECK(r.errors() == "error: secret 'token' given by -p does not match its pattern '^tok-.*$'\n");
}

TEST_CASE("the params JSON shows secrets as ***") {
  const Runbook rb = load(R"(version: 1
name: s
params:
  token: {type: secret}
  user: {type: string}
  unset: {type: secret}
steps:
  - id: a
    run: "true"
)");
  Resolved r = resolve(rb, {"token=very-secret", "user=bob"});
  REQUIRE(r.diags.empty());
  CHECK(params_json_masked(rb, r.params.values) == R"({"token":"***","unset":null,"user":"bob"})");
}

TEST_CASE("--help-params lists each param for people") {
  CHECK(format_params_help(load()) ==
        "Params of runbook 'restart' (give them with -p NAME=VALUE):\n"
        "  service  string, required, pattern ^[a-z0-9@._-]+$\n"
        "           systemd unit\n"
        "  url      string, default \"http://127.0.0.1:8080/healthz\"\n"
        "  batch    int, default 1, min 1, max 10\n"
        "  mode     string, default \"graceful\", one of: graceful, hard\n"
        "  hosts    list, default [], length max 3\n"
        "  force    bool, default false\n"
        "  label    string, optional, length min 2, length max 5\n");
}
