#include <doctest/doctest.h>

#include "expr/ast.hpp"
#include "runbook/expr.hpp"

using namespace runbook;

namespace {

Value eval(std::string_view source) {
  Expected<Expression> e = parse_expression(source);
  REQUIRE_MESSAGE(e.ok(), (e.ok() ? "" : e.error().format()));
  const ExprContext context;
  Expected<Value> v = evaluate(e.value(), context);
  REQUIRE_MESSAGE(v.ok(), (v.ok() ? "" : v.error().format()));
  return v.value();
}

ExprError parse_error(std::string_view source) {
  Expected<Expression> e = parse_expression(source);
  REQUIRE_FALSE(e.ok());
  return e.error();
}

}  // namespace

TEST_CASE("literals are ints, floats, strings in either quote, booleans and null") {
  CHECK(eval("42") == Value(42));
  CHECK(eval("-7") == Value(-7));
  CHECK(eval("1.5") == Value(1.5));
  CHECK(eval("2e3") == Value(2000.0));
  CHECK(eval("'single'") == Value("single"));
  CHECK(eval("\"double\"") == Value("double"));
  CHECK(eval("true") == Value(true));
  CHECK(eval("false") == Value(false));
  CHECK(eval("null") == Value());
}

TEST_CASE("a doubled single quote is a quote inside a single-quoted string") {
  CHECK(eval("'it''s'") == Value("it's"));
  CHECK(eval("''''") == Value("'"));
}

TEST_CASE("double-quoted strings take backslash escapes") {
  CHECK(eval(R"("a\"b\\c\nd")") == Value("a\"b\\c\nd"));
}

TEST_CASE("|| binds looser than &&") {
  // true || (false && false) is true; (true || false) && false would be false.
  CHECK(eval("true || false && false") == Value(true));
  CHECK(eval("false && true || true") == Value(true));
}

TEST_CASE("&& binds looser than == and !=") {
  CHECK(eval("1 == 1 && 2 != 3") == Value(true));
}

TEST_CASE("== binds looser than < and >") {
  CHECK(eval("1 < 2 == true") == Value(true));
  CHECK(eval("true == 2 > 1") == Value(true));
}

TEST_CASE("! binds tighter than comparisons") {
  // (!0) == true, not !(0 == true)
  CHECK(eval("!0 == true") == Value(true));
  CHECK(eval("!(1 == 1)") == Value(false));
  CHECK(eval("!!'x'") == Value(true));
}

TEST_CASE("parentheses group") {
  CHECK(eval("(true || false) && false") == Value(false));
}

TEST_CASE("a syntax error points at the offending token") {
  ExprError e = parse_error("params.a == == 1");
  CHECK(e.message == "expected a value, found '=='");
  CHECK(e.offset == 12);
}

TEST_CASE("a single = is refused with a hint") {
  ExprError e = parse_error("params.a = 1");
  CHECK(e.message == "unexpected '='");
  CHECK(e.hint == "compare with '=='");
  CHECK(e.offset == 9);
}

TEST_CASE("single & and | are refused with a hint") {
  CHECK(parse_error("a & b").hint == "use '&&'");
  CHECK(parse_error("a | b").hint == "use '||'");
}

TEST_CASE("an unterminated string is an error at its quote") {
  ExprError e = parse_error("x == 'abc");
  CHECK(e.message == "unterminated string");
  CHECK(e.offset == 5);
}

TEST_CASE("a missing closing parenthesis is reported at the end") {
  ExprError e = parse_error("(1 == 1");
  CHECK(e.message == "expected ')', found the end of the expression");
  CHECK(e.offset == 7);
}

TEST_CASE("two values in a row are an error with a hint") {
  ExprError e = parse_error("params.a params.b");
  CHECK(e.message == "unexpected 'params' after a complete expression");
  CHECK(e.offset == 9);
}

TEST_CASE("an unknown function is an error naming the nearest one") {
  ExprError e = parse_error("lenght(params.x)");
  CHECK(e.message == "unknown function 'lenght'");
  CHECK(e.hint == "did you mean 'len'?");
  CHECK(e.offset == 0);
}

TEST_CASE("a function called with the wrong number of arguments is an error") {
  CHECK(parse_error("contains('a')").message == "contains() takes 2 arguments, not 1");
  CHECK(parse_error("len()").message == "len() takes 1 argument, not 0");
  CHECK(parse_error("join(a, b, c)").message == "join() takes 1 or 2 arguments, not 3");
}

TEST_CASE("offsets count from where the expression starts in its text") {
  Expected<Expression> e = parse_expression("a ==", 10);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().offset == 14);
}

TEST_CASE("an empty expression is an error") {
  CHECK(parse_error("   ").message == "empty expression");
}

TEST_CASE("deep nesting is refused rather than overflowing the stack") {
  std::string deep(10000, '(');
  CHECK(parse_error(deep).message.find("nested too deeply") != std::string::npos);
  std::string nots(10000, '!');
  CHECK(parse_error(nots + "x").message.find("nested too deeply") != std::string::npos);
  std::string chain = "x";
  for (int k = 0; k < 5000; ++k) chain += " || x";
  CHECK_FALSE(parse_expression(chain).ok());
}

TEST_CASE("names after a dot may start with a digit or hold a hyphen") {
  Expected<Expression> e = parse_expression("steps.1st-step.outputs.my-key");
  REQUIRE(e.ok());
  CHECK(e.value().root().kind == expr::NodeKind::member);
  CHECK(e.value().root().name == "my-key");
}
