#include <doctest/doctest.h>

#include "runbook/expr.hpp"

using namespace runbook;

namespace {

// A context with a bit of everything, owned by the fixture.
struct Fixture {
  Value::Map params{{"service", Value("web")},
                    {"batch", Value(3)},
                    {"hosts", Value(Value::List{Value("a"), Value("b")})},
                    {"force", Value(false)},
                    {"empty", Value("")},
                    {"ratio", Value(0.5)}};
  StringMap env{{"HOME", "/root"}};
  std::map<std::string, StepResult> steps{
      {"build",
       StepResult{"succeeded", 0, {{"version", "1.2.3"}, {"count", "10"}, {"ok", "true"}}}},
      {"check", StepResult{"failed", 3, {}}}};
  StringMap labels{{"instance", "db1:9100"}};
  StringMap annotations{{"summary", "disk full"}};
  Value item{Value::Map{{"name", Value("n1")}, {"port", Value(80)}}};
  ExprContext context;

  Fixture() {
    context.params = &params;
    context.env = &env;
    context.steps = &steps;
    context.run_id = "r-123";
    context.run_trigger = "cli";
    context.alert_labels = &labels;
    context.alert_annotations = &annotations;
    context.item = &item;
    context.index = 2;
  }

  Value eval(std::string_view source) const {
    Expected<Expression> e = parse_expression(source);
    REQUIRE_MESSAGE(e.ok(), (e.ok() ? "" : e.error().format()));
    Expected<Value> v = evaluate(e.value(), context);
    REQUIRE_MESSAGE(v.ok(), (v.ok() ? "" : v.error().format()));
    return v.value();
  }

  ExprError eval_error(std::string_view source) const {
    Expected<Expression> e = parse_expression(source);
    REQUIRE(e.ok());
    Expected<Value> v = evaluate(e.value(), context);
    REQUIRE_FALSE(v.ok());
    return v.error();
  }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "params are read by name, with dots or brackets") {
  CHECK(eval("params.service") == Value("web"));
  CHECK(eval("params['service']") == Value("web"));
  CHECK(eval("params.batch") == Value(3));
  CHECK(eval("params.hosts[1]") == Value("b"));
}

TEST_CASE_FIXTURE(Fixture, "step results give outputs, status and exit code") {
  CHECK(eval("steps.build.outputs.version") == Value("1.2.3"));
  CHECK(eval("steps['build'].outputs['version']") == Value("1.2.3"));
  CHECK(eval("steps.check.status") == Value("failed"));
  CHECK(eval("steps.check.exit_code") == Value(3));
}

TEST_CASE_FIXTURE(Fixture, "a missing output reads as an empty string") {
  CHECK(eval("steps.build.outputs.nope") == Value(""));
  CHECK(eval("steps.unknown.outputs.x") == Value(""));
}

TEST_CASE_FIXTURE(Fixture, "env, run and alert fields are read from the context") {
  CHECK(eval("env.HOME") == Value("/root"));
  CHECK(eval("env.NOT_SET") == Value(""));
  CHECK(eval("run.id") == Value("r-123"));
  CHECK(eval("run.trigger") == Value("cli"));
  CHECK(eval("alert.labels.instance") == Value("db1:9100"));
  CHECK(eval("alert.annotations.summary") == Value("disk full"));
  CHECK(eval("alert.labels.missing") == Value(""));
}

TEST_CASE_FIXTURE(Fixture, "item and index are read, and a map item has fields") {
  CHECK(eval("item.name") == Value("n1"));
  CHECK(eval("item['port']") == Value(80));
  CHECK(eval("index") == Value(2));
}

TEST_CASE_FIXTURE(Fixture, "a missing key or index reads as null") {
  CHECK(eval("params.hosts[5]") == Value());
  CHECK(eval("params.hosts[-1]") == Value());
  CHECK(eval("item.nope") == Value());
  CHECK(eval("params.service.length") == Value());
}

TEST_CASE_FIXTURE(Fixture, "whole maps can be read and turned into JSON") {
  CHECK(eval("toJSON(item)") == Value(R"({"name":"n1","port":80})"));
  CHECK(eval("toJSON(steps.check)") == Value(R"({"exit_code":3,"outputs":{},"status":"failed"})"));
  CHECK(eval("len(params)") == Value(6));
}

TEST_CASE_FIXTURE(Fixture, "numbers compare numerically, ints and floats alike") {
  CHECK(eval("1 == 1.0") == Value(true));
  CHECK(eval("2 < 10") == Value(true));
  CHECK(eval("params.ratio <= 0.5") == Value(true));
  CHECK(eval("params.batch >= 4") == Value(false));
}

TEST_CASE_FIXTURE(Fixture, "a number and a numeric string compare as numbers") {
  CHECK(eval("steps.build.outputs.count == 10") == Value(true));
  CHECK(eval("steps.build.outputs.count > 9") == Value(true));
  CHECK(eval("'1.50' == 1.5") == Value(true));
  CHECK(eval("'abc' == 0") == Value(false));
}

TEST_CASE_FIXTURE(Fixture, "two strings compare byte-wise and case-sensitively") {
  CHECK(eval("'abc' == 'abc'") == Value(true));
  CHECK(eval("'abc' == 'ABC'") == Value(false));
  CHECK(eval("'10' < '9'") == Value(true));
  CHECK(eval("'a' != 'b'") == Value(true));
}

TEST_CASE_FIXTURE(Fixture, "a bool equals the string true or false") {
  CHECK(eval("steps.build.outputs.ok == true") == Value(true));
  CHECK(eval("'false' == false") == Value(true));
  CHECK(eval("'yes' == true") == Value(false));
}

TEST_CASE_FIXTURE(Fixture, "values of other kinds are never equal") {
  CHECK(eval("null == ''") == Value(false));
  CHECK(eval("null == 0") == Value(false));
  CHECK(eval("null == null") == Value(true));
  CHECK(eval("true == 1") == Value(false));
  CHECK(eval("params.hosts == 'a,b'") == Value(false));
}

TEST_CASE_FIXTURE(Fixture, "lists and maps compare deeply") {
  CHECK(eval("params.hosts == fromJSON('[\"a\",\"b\"]')") == Value(true));
  CHECK(eval("item == fromJSON('{\"port\": 80.0, \"name\": \"n1\"}')") == Value(true));
}

TEST_CASE_FIXTURE(Fixture, "ordering values that have no order is an error at the operator") {
  ExprError e = eval_error("params.hosts < 3");
  CHECK(e.message == "cannot compare a list with a number using '<'");
  CHECK(e.offset == 13);
  CHECK(eval_error("true > false").message == "cannot compare a bool with a bool using '>'");
}

TEST_CASE("false, null, zero, empty string, 'false', empty list and map are falsy") {
  CHECK_FALSE(is_truthy(Value(false)));
  CHECK_FALSE(is_truthy(Value()));
  CHECK_FALSE(is_truthy(Value(0)));
  CHECK_FALSE(is_truthy(Value(0.0)));
  CHECK_FALSE(is_truthy(Value("")));
  CHECK_FALSE(is_truthy(Value("false")));
  CHECK_FALSE(is_truthy(Value(Value::List{})));
  CHECK_FALSE(is_truthy(Value(Value::Map{})));
  CHECK(is_truthy(Value(true)));
  CHECK(is_truthy(Value(-1)));
  CHECK(is_truthy(Value("0")));
  CHECK(is_truthy(Value("no")));
  CHECK(is_truthy(Value(Value::List{Value()})));
}

TEST_CASE_FIXTURE(Fixture, "&& and || give one of their operands") {
  CHECK(eval("params.empty || 'default'") == Value("default"));
  CHECK(eval("params.service || 'default'") == Value("web"));
  CHECK(eval("params.service && params.batch") == Value(3));
  CHECK(eval("params.force && params.batch") == Value(false));
}

TEST_CASE_FIXTURE(Fixture, "&& and || do not evaluate their right side when not needed") {
  // The right side would be an error if evaluated.
  CHECK(eval("true || params.hosts < 1") == Value(true));
  CHECK(eval("false && params.hosts < 1") == Value(false));
}

TEST_CASE_FIXTURE(Fixture, "! gives a bool") {
  CHECK(eval("!params.force") == Value(true));
  CHECK(eval("!params.hosts") == Value(false));
}

TEST_CASE_FIXTURE(Fixture, "contains finds substrings, list members and map keys") {
  CHECK(eval("contains(params.service, 'we')") == Value(true));
  CHECK(eval("contains(params.service, 'WE')") == Value(false));
  CHECK(eval("contains(params.hosts, 'b')") == Value(true));
  CHECK(eval("contains(params.hosts, 'c')") == Value(false));
  CHECK(eval("contains(item, 'port')") == Value(true));
  CHECK(eval("contains(null, 'x')") == Value(false));
  CHECK(eval("contains(fromJSON('[1, 2]'), '2')") == Value(true));
}

TEST_CASE_FIXTURE(Fixture, "startsWith and endsWith compare the ends of strings") {
  CHECK(eval("startsWith(params.service, 'w')") == Value(true));
  CHECK(eval("startsWith(params.service, 'x')") == Value(false));
  CHECK(eval("endsWith(steps.build.outputs.version, '.3')") == Value(true));
  CHECK(eval("startsWith(params.batch, '3')") == Value(true));
}

TEST_CASE_FIXTURE(Fixture, "startsWith of a list is an error at the argument") {
  ExprError e = eval_error("startsWith(params.hosts, 'a')");
  CHECK(e.message == "startsWith() needs a string here, not a list");
  CHECK(e.offset == 11);
}

TEST_CASE_FIXTURE(Fixture, "len counts bytes of a string and items of a list or map") {
  CHECK(eval("len(params.service)") == Value(3));
  CHECK(eval("len(params.hosts)") == Value(2));
  CHECK(eval("len(item)") == Value(2));
  CHECK(eval("len(null)") == Value(0));
  CHECK(eval_error("len(params.batch)").message ==
        "len() needs a string, list or map, not a number");
}

TEST_CASE_FIXTURE(Fixture, "join joins list items as text, with ',' by default") {
  CHECK(eval("join(params.hosts, ' ')") == Value("a b"));
  CHECK(eval("join(params.hosts)") == Value("a,b"));
  CHECK(eval("join(fromJSON('[1, true, null]'), '-')") == Value("1-true-"));
  CHECK(eval("join(params.service, ',')") == Value("web"));
}

TEST_CASE_FIXTURE(Fixture, "toJSON and fromJSON round-trip values") {
  CHECK(eval("toJSON(params.hosts)") == Value(R"(["a","b"])"));
  CHECK(eval("toJSON('a\"b')") == Value(R"("a\"b")"));
  CHECK(eval("fromJSON('{\"a\": [1, 2.5, \"x\", null, true]}').a[1]") == Value(2.5));
  CHECK(eval("fromJSON(toJSON(params.hosts)) == params.hosts") == Value(true));
}

TEST_CASE_FIXTURE(Fixture, "fromJSON of bad JSON is an error") {
  ExprError e = eval_error("fromJSON('{nope')");
  CHECK(e.message == "fromJSON(): not valid JSON: expected a string key at byte 2");
  CHECK(e.offset == 9);
}
