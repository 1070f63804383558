#include <doctest/doctest.h>

#include "runbook/expr.hpp"
#include "runbook/params.hpp"

using namespace runbook;

namespace {

struct Fixture {
  Value::Map params{{"service", Value("web")},
                    {"batch", Value(3)},
                    {"hosts", Value(Value::List{Value("a"), Value("b")})},
                    {"token", Value("s3cret-token")}};
  ExprContext context;
  Fixture() { context.params = &params; }

  Template parse(std::string_view text) const {
    Expected<Template> t = parse_template(text);
    REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().format()));
    return t.value();
  }
  std::string render(std::string_view text) const {
    Expected<std::string> s = render_text(parse(text), context);
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().format()));
    return s.value();
  }
};

}  // namespace

TEST_CASE("a string without ${{ is one literal part") {
  Expected<Template> t = parse_template("echo hello $HOME {{ x }}");
  REQUIRE(t.ok());
  CHECK_FALSE(t.value().has_expressions());
  REQUIRE(t.value().parts.size() == 1);
  CHECK(t.value().parts[0].literal == "echo hello $HOME {{ x }}");
}

TEST_CASE("a template splits into literals and expressions with their offsets") {
  Expected<Template> t = parse_template("a ${{ params.x }} b ${{params.y}}");
  REQUIRE(t.ok());
  const auto& parts = t.value().parts;
  REQUIRE(parts.size() == 4);
  CHECK(parts[0].literal == "a ");
  REQUIRE(parts[1].expression);
  CHECK(parts[1].expression->source() == " params.x ");
  CHECK(parts[1].offset == 2);
  CHECK(parts[1].expression->offset() == 5);
  CHECK(parts[2].literal == " b ");
  CHECK(parts[3].expression->source() == "params.y");
}

TEST_CASE("a }} inside a quoted string does not close the expression") {
  Expected<Template> t = parse_template("${{ '}}' }}");
  REQUIRE(t.ok());
  CHECK(t.value().is_single_expression());
}

TEST_CASE_FIXTURE(Fixture, "a literal ${{ is written as an expression giving the text") {
  CHECK(render("x ${{ '${{ y }}' }} z") == "x ${{ y }} z");
}

TEST_CASE("an unclosed ${{ is an error at the ${{") {
  Expected<Template> t = parse_template("ok ${{ params.x }} then ${{ params.y");
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().message == "'${{' without '}}'");
  CHECK(t.error().offset == 24);
}

TEST_CASE("a syntax error inside a template is at its place in the whole text") {
  Expected<Template> t = parse_template("echo ${{ params.a === 1 }}");
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().offset == 20);
}

TEST_CASE("an unterminated string inside a template is reported as such") {
  Expected<Template> t = parse_template("echo ${{ 'abc }}");
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().message == "unterminated string");
  CHECK(t.error().offset == 9);
}

TEST_CASE_FIXTURE(Fixture, "render_text substitutes each value as text") {
  CHECK(render("restart ${{ params.service }} x${{ params.batch }}") == "restart web x3");
  CHECK(render("${{ params.hosts }}") == R"(["a","b"])");
  CHECK(render("[${{ params.nope }}]") == "[]");
}

TEST_CASE_FIXTURE(Fixture, "render_value keeps the type of a lone expression") {
  Expected<Value> v = render_value(parse("${{ params.batch }}"), context);
  REQUIRE(v.ok());
  CHECK(v.value() == Value(3));
  Expected<Value> s = render_value(parse("n=${{ params.batch }}"), context);
  REQUIRE(s.ok());
  CHECK(s.value() == Value("n=3"));
}

TEST_CASE_FIXTURE(Fixture, "render_with renders every string in a with map") {
  Value with(Value::Map{{"url", Value("http://${{ params.service }}/")},
                        {"count", Value("${{ params.batch }}")},
                        {"list", Value(Value::List{Value("${{ params.hosts[0] }}"), Value(7)})}});
  Expected<Value> v = render_with(with, context);
  REQUIRE(v.ok());
  CHECK(v.value().to_json() == R"({"count":3,"list":["a",7],"url":"http://web/"})");
}

TEST_CASE("a condition may be bare or wholly inside ${{ }}") {
  Expected<Expression> bare = parse_condition("params.a == 'x'");
  REQUIRE(bare.ok());
  CHECK(bare.value().offset() == 0);
  Expected<Expression> wrapped = parse_condition("  ${{ params.a == 'x' }} ");
  REQUIRE(wrapped.ok());
  CHECK(wrapped.value().offset() == 5);
}

TEST_CASE("a condition mixing text and ${{ }} is an error") {
  Expected<Expression> e = parse_condition("${{ params.a }} == 'x'");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().message == "a condition must be one expression, not text mixed with ${{ }}");
  Expected<Expression> two = parse_condition("${{ a }}${{ b }}");
  REQUIRE_FALSE(two.ok());
}

TEST_CASE_FIXTURE(Fixture, "evaluate_condition applies truthiness") {
  Expected<bool> yes = evaluate_condition(Text{"params.batch > 2", {}}, context);
  REQUIRE(yes.ok());
  CHECK(yes.value());
  Expected<bool> no = evaluate_condition(Text{"${{ params.nope }}", {}}, context);
  REQUIRE(no.ok());
  CHECK_FALSE(no.value());
}

TEST_CASE_FIXTURE(Fixture, "for_each gives a literal list, a list value or a JSON list string") {
  Step literal;
  literal.id = "a";
  literal.for_each_list = Value(Value::List{Value(1), Value(2)});
  Expected<Value::List> l = expand_for_each(literal, context);
  REQUIRE(l.ok());
  CHECK(l.value().size() == 2);

  Step from_param;
  from_param.id = "b";
  from_param.for_each = Text{"${{ params.hosts }}", {}};
  Expected<Value::List> p = expand_for_each(from_param, context);
  REQUIRE(p.ok());
  CHECK(Value(p.value()) == params["hosts"]);

  StringMap outputs_env;
  std::map<std::string, StepResult> steps{
      {"list", StepResult{"succeeded", 0, {{"hosts", R"(["x","y","z"])"}}}}};
  ExprContext with_steps = context;
  with_steps.steps = &steps;
  Step from_output;
  from_output.id = "c";
  from_output.for_each = Text{"steps.list.outputs.hosts", {}};
  Expected<Value::List> o = expand_for_each(from_output, with_steps);
  REQUIRE(o.ok());
  CHECK(o.value().size() == 3);
}

TEST_CASE_FIXTURE(Fixture, "for_each of something that is not a list is a clear error") {
  Step step;
  step.id = "loop";
  step.for_each = Text{"${{ params.service }}", {}};
  Expected<Value::List> l = expand_for_each(step, context);
  REQUIRE_FALSE(l.ok());
  CHECK(l.error().message == "for_each of step 'loop' must give a list, not a string (\"web\")");
}

TEST_CASE_FIXTURE(Fixture, "the display form shows values with secrets masked") {
  const SecretMasker masker({"s3cret-token"});
  Expected<std::string> s = render_script_for_display(
      parse("curl -H 'X: ${{ params.token }}' ${{ params.service }}"), context, masker);
  REQUIRE(s.ok());
  CHECK(s.value() == "curl -H 'X: ***' web");
}
