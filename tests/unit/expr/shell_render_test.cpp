#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "runbook/expr.hpp"

using namespace runbook;
namespace fs = std::filesystem;

namespace {

struct BashResult {
  std::string out;
  int status = -1;
};

// Runs `bash -c SCRIPT` with exactly `env` (plus PATH) and returns its stdout.
BashResult run_bash(const std::string& script,
                    const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<std::string> env_strings{"PATH=/usr/bin:/bin"};
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string bash = "bash", dash_c = "-c", body = script;
  char* argv[] = {bash.data(), dash_c.data(), body.data(), nullptr};

  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execve("/bin/bash", argv, envp.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  BashResult r;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

ShellScript render(std::string_view script, const ExprContext& context) {
  Expected<Template> t = parse_template(script);
  REQUIRE(t.ok());
  Expected<ShellScript> s = render_script(t.value(), context);
  REQUIRE(s.ok());
  return s.value();
}

}  // namespace

TEST_CASE("render_script puts references in the script and values in the environment") {
  Value::Map params{{"service", Value("web")}, {"batch", Value(3)}};
  ExprContext context;
  context.params = &params;
  const ShellScript s =
      render("systemctl restart \"${{ params.service }}\" --n=${{ params.batch }}", context);
  CHECK(s.script == "systemctl restart \"${RUNBOOK_EXPR_1}\" --n=${RUNBOOK_EXPR_2}");
  REQUIRE(s.env.size() == 2);
  CHECK(s.env[0] == std::pair<std::string, std::string>{"RUNBOOK_EXPR_1", "web"});
  CHECK(s.env[1] == std::pair<std::string, std::string>{"RUNBOOK_EXPR_2", "3"});
}

TEST_CASE("a script without expressions is unchanged and needs no variables") {
  const ShellScript s = render("echo \"$HOME\" ${HOME}", ExprContext{});
  CHECK(s.script == "echo \"$HOME\" ${HOME}");
  CHECK(s.env.empty());
}

TEST_CASE("hostile values are never run by the shell, quoted or not" * doctest::timeout(30)) {
  const fs::path dir = fs::temp_directory_path() / ("runbook-expr-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string marker = (dir / "pwned").string();
  const std::vector<std::string> hostile = {
      "$(touch " + marker + ")",
      "`touch " + marker + "`",
      "; touch " + marker,
      "\"; touch " + marker + "; \"",
      "x\ntouch " + marker,
      "' ; touch " + marker + " ; '",
      "${IFS}$(touch${IFS}" + marker + ")",
  };
  for (const std::string& value : hostile) {
    CAPTURE(value);
    Value::Map params{{"v", Value(value)}};
    ExprContext context;
    context.params = &params;

    // Inside double quotes: one word, exactly the value.
    ShellScript quoted = render("printf '%s' \"${{ params.v }}\"", context);
    BashResult r = run_bash(quoted.script, quoted.env);
    CHECK(r.status == 0);
    CHECK(r.out == value);

    // Unquoted: split into words like any variable, still never run.
    ShellScript bare = render("for w in ${{ params.v }}; do printf '[%s]' \"$w\"; done", context);
    r = run_bash(bare.script, bare.env);
    CHECK(r.status == 0);
    CHECK(r.out.find('[') != std::string::npos);

    CHECK_FALSE(fs::exists(marker));
  }
  fs::remove_all(dir);
}

TEST_CASE("an unquoted reference splits on spaces like a shell variable" * doctest::timeout(10)) {
  Value::Map params{{"v", Value("a b  c")}};
  ExprContext context;
  context.params = &params;
  ShellScript s = render("for w in ${{ params.v }}; do printf '[%s]' \"$w\"; done", context);
  CHECK(run_bash(s.script, s.env).out == "[a][b][c]");
}

TEST_CASE("a reference is kept apart from the text after it") {
  Value::Map params{{"v", Value("x")}};
  ExprContext context;
  context.params = &params;
  ShellScript s = render("echo ${{ params.v }}_suffix", context);
  CHECK(run_bash(s.script, s.env).out == "x_suffix\n");
}

TEST_CASE("a value holding a NUL byte cannot be passed to the shell") {
  Value::Map params{{"v", Value(std::string("a\0b", 3))}};
  ExprContext context;
  context.params = &params;
  Expected<Template> t = parse_template("echo ${{ params.v }}");
  REQUIRE(t.ok());
  Expected<ShellScript> s = render_script(t.value(), context);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message.find("NUL byte") != std::string::npos);
}
