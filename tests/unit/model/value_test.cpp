#include <doctest/doctest.h>

#include <limits>

#include "runbook/value.hpp"

using runbook::Value;

TEST_CASE("values print as JSON") {
  CHECK(Value().to_json() == "null");
  CHECK(Value(true).to_json() == "true");
  CHECK(Value(42).to_json() == "42");
  CHECK(Value(int64_t{-7}).to_json() == "-7");
  CHECK(Value(1.5).to_json() == "1.5");
  CHECK(Value(0.1).to_json() == "0.1");
  CHECK(Value("a\"b\\c\nd\x01").to_json() == "\"a\\\"b\\\\c\\nd\\u0001\"");
  CHECK(Value("héllo").to_json() == "\"héllo\"");
  CHECK(Value(Value::List{1, "x", Value()}).to_json() == "[1,\"x\",null]");
  CHECK(Value(Value::Map{{"b", 2}, {"a", Value::List{}}}).to_json() == "{\"a\":[],\"b\":2}");
}

TEST_CASE("a value that JSON cannot hold prints as null") {
  CHECK(Value(std::numeric_limits<double>::infinity()).to_json() == "null");
  CHECK(Value(std::numeric_limits<double>::quiet_NaN()).to_json() == "null");
}

TEST_CASE("values read as text: strings as they are, null empty, the rest as JSON") {
  CHECK(Value("plain \"text\"").to_text() == "plain \"text\"");
  CHECK(Value().to_text().empty());
  CHECK(Value(false).to_text() == "false");
  CHECK(Value(3).to_text() == "3");
  CHECK(Value(Value::List{"a", "b"}).to_text() == "[\"a\",\"b\"]");
}
