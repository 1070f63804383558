#include <doctest/doctest.h>

#include "load/validate.hpp"
#include "runbook/load.hpp"

using namespace runbook;

// Expression checks of the validator. The invalid-set test (tests/data/invalid)
// covers the same messages end to end; these pin the rules one by one.

namespace {

std::string errors(const std::string& steps, const std::string& extra = {}) {
  const std::string text =
      "version: 1\nname: t\nparams:\n  service: {type: string}\n"
      "  hosts: {type: list, default: []}\n" +
      extra + "steps:\n" + steps;
  LoadResult r = load_runbook_text(text, "t.yaml");
  return r.diagnostics.format();
}

}  // namespace

TEST_CASE("valid expressions give no diagnostics") {
  CHECK(errors(R"(  - id: build
    run: echo "${{ params.service }} ${{ env.HOME }} ${{ run.id }} ${{ alert.labels.x }}"
  - id: deploy
    needs: [build]
    when: steps.build.outputs.ok == 'true' && len(params.hosts) > 0
    run: echo "${{ steps.build.outputs.version }} ${{ steps.build.exit_code }}"
  - id: later
    needs: [deploy]
    run: echo "${{ steps.build.status }}"
  - id: loop
    for_each: ${{ params.hosts }}
    run: echo "${{ item }} ${{ index }}"
    rollback: echo "${{ steps.later.status }} ${{ item }}"
)") == "");
}

TEST_CASE("a syntax error is reported at its column in a plain scalar") {
  CHECK(errors("  - id: a\n    run: echo ${{ params.service == }}\n") ==
        "t.yaml:8:37: error: in 'run' of step 'a': expected a value, found the end of the "
        "expression\n");
}

TEST_CASE("an unknown param is reported with the nearest one") {
  CHECK(errors("  - id: a\n    run: echo ${{ params.servce }}\n") ==
        "t.yaml:8:26: error: in 'run' of step 'a': unknown param 'servce'; did you mean "
        "'service'?\n");
}

TEST_CASE("an unknown root name is reported, with a hint for a bare step id") {
  CHECK(errors("  - id: a\n    run: echo ${{ parms.service }}\n") ==
        "t.yaml:8:19: error: in 'run' of step 'a': unknown name 'parms'; did you mean "
        "'params'?\n");
  CHECK(
      errors(
          "  - id: a\n    run: echo\n  - id: b\n    needs: [a]\n    run: echo ${{ a.status }}\n") ==
      "t.yaml:11:19: error: in 'run' of step 'b': unknown name 'a'; did you mean "
      "'steps.a'?\n");
}

TEST_CASE("a step used without being needed is reported with the fix") {
  CHECK(errors("  - id: build\n    run: echo\n  - id: deploy\n    run: echo ${{ "
               "steps.build.outputs.x }}\n") ==
        "t.yaml:10:25: error: step 'deploy' uses steps.build.outputs.x in 'run' but does not need "
        "'build'; add 'build' to its needs\n");
}

TEST_CASE("a step needed through another step may be used") {
  CHECK(
      errors(
          "  - id: a\n    run: echo\n  - id: b\n    needs: [a]\n    run: echo\n"
          "  - id: c\n    needs: [b]\n    when: steps.a.status == 'succeeded'\n    run: echo\n") ==
      "");
}

TEST_CASE("a step may not use its own result, but its rollback may") {
  CHECK(errors("  - id: a\n    run: echo ${{ steps.a.outputs.x }}\n    rollback: echo ${{ "
               "steps.a.outputs.x }}\n") ==
        "t.yaml:8:25: error: step 'a' uses its own result steps.a.outputs.x in 'run'; a step's "
        "outputs, status and exit code exist only after it ends; a rollback may use them\n");
}

TEST_CASE("an unknown step is reported with the nearest id") {
  CHECK(errors("  - id: build\n    run: echo\n  - id: b\n    needs: [build]\n    run: echo ${{ "
               "steps.biuld.status }}\n") ==
        "t.yaml:11:25: error: in 'run' of step 'b': unknown step 'biuld' in steps.biuld.status; "
        "did you mean 'build'?\n");
}

TEST_CASE("a step field other than outputs, status and exit_code is reported") {
  CHECK(errors("  - id: a\n    run: echo\n  - id: b\n    needs: [a]\n    run: echo ${{ "
               "steps.a.output.x }}\n") ==
        "t.yaml:11:27: error: in 'run' of step 'b': steps.a has no field 'output'; did you mean "
        "'outputs'?\n");
}

TEST_CASE("hooks and rollbacks may use any step") {
  CHECK(errors("  - id: a\n    run: echo\n  - id: b\n    run: echo\n    rollback: echo ${{ "
               "steps.a.status }}\n",
               "hooks:\n  finally:\n    - id: h\n      run: echo ${{ steps.b.status }}\n") == "");
}

TEST_CASE("steps cannot be used in the top-level lock and env") {
  CHECK(errors("  - id: a\n    run: echo\n", "lock: x-${{ steps.a.status }}\n") ==
        "t.yaml:6:19: error: in 'lock': steps.a.status cannot be used here: the runbook's lock is "
        "resolved before any step runs\n");
}

TEST_CASE("item and index are only defined in a for_each step") {
  CHECK(errors("  - id: a\n    run: echo ${{ item }}\n") ==
        "t.yaml:8:19: error: in 'run' of step 'a': 'item' is only defined in a step with "
        "for_each\n");
  CHECK(errors("  - id: a\n    for_each: ${{ item }}\n    run: echo\n") ==
        "t.yaml:8:19: error: in 'for_each' of step 'a': 'item' cannot be used in for_each itself; "
        "for_each gives the items; 'item' and 'index' are for the step's other fields\n");
}

TEST_CASE("run and alert fields are checked") {
  CHECK(errors("  - id: a\n    run: echo ${{ run.trigger }} ${{ run.user }}\n") ==
        "t.yaml:8:42: error: in 'run' of step 'a': run has no field 'user'; use run.id or "
        "run.trigger\n");
  CHECK(errors("  - id: a\n    run: echo ${{ alert.label.x }}\n") ==
        "t.yaml:8:25: error: in 'run' of step 'a': alert has no field 'label'; did you mean "
        "'labels'?\n");
}

TEST_CASE("when takes a bare expression or one ${{ }}, not a template") {
  CHECK(errors("  - id: a\n    when: ${{ params.service }}\n    run: echo\n") == "");
  CHECK(errors("  - id: a\n    when: ${{ params.service }} == 'x'\n    run: echo\n") ==
        "t.yaml:8:32: error: in 'when' of step 'a': a condition must be one expression, not "
        "text mixed with ${{ }}; write it bare, like: params.env == 'prod'\n");
}

TEST_CASE("unknown functions and wrong arity are reported") {
  CHECK(errors("  - id: a\n    when: startswith(params.service, 'a')\n    run: echo\n") ==
        "t.yaml:8:11: error: in 'when' of step 'a': unknown function 'startswith'; did you mean "
        "'startsWith'?\n");
  CHECK(errors("  - id: a\n    when: len(params.service, 1)\n    run: echo\n") ==
        "t.yaml:8:11: error: in 'when' of step 'a': len() takes 1 argument, not 2\n");
}

TEST_CASE("strings in with are reported at the with map") {
  CHECK(errors("  - id: a\n    uses: http\n    with: {url: \"${{ params.nope }}\"}\n") ==
        "t.yaml:9:11: error: in 'with' of step 'a': unknown param 'nope'; declare it under "
        "params:\n");
}

TEST_CASE("with the source, columns are exact in quoted and block scalars") {
  const std::string text =
      "version: 1\nname: t\nsteps:\n"
      "  - id: a\n"
      "    run: \"echo \\\"x\\\" ${{ params.q }}\"\n"
      "  - id: b\n"
      "    run: 'it''s ${{ params.r }}'\n"
      "  - id: c\n"
      "    run: |\n"
      "      echo one\n"
      "        echo ${{ params.s }}\n";
  LoadResult r = load_runbook_text(text, "t.yaml");
  REQUIRE(r.runbook);
  Diagnostics diags;
  load::check_templates(*r.runbook, diags, text);
  CHECK(diags.format() ==
        "t.yaml:5:33: error: in 'run' of step 'a': unknown param 'q'; the runbook declares no "
        "params\n"
        "t.yaml:7:28: error: in 'run' of step 'b': unknown param 'r'; the runbook declares no "
        "params\n"
        "t.yaml:11:25: error: in 'run' of step 'c': unknown param 's'; the runbook declares no "
        "params\n");
}
