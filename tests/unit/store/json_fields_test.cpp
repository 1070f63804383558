#include <doctest/doctest.h>

#include "store/json_fields.hpp"

using runbook::store::JsonMember;
using runbook::store::parse_json_object;

TEST_CASE("the members of a flat object are read in order, strings decoded") {
  auto members = parse_json_object(
      R"({"seq":12,"event":"step.ended","msg":"a \"b\"\n\u00e9","ok":true,"x":null,"p":{"a":[1,"}"]}})");
  REQUIRE(members);
  REQUIRE(members->size() == 6);
  CHECK((*members)[0].name == "seq");
  CHECK((*members)[0].kind == JsonMember::Kind::number);
  CHECK((*members)[0].value == "12");
  CHECK((*members)[2].value == "a \"b\"\n\xc3\xa9");
  CHECK((*members)[3].kind == JsonMember::Kind::boolean);
  CHECK((*members)[4].kind == JsonMember::Kind::null);
  CHECK((*members)[5].kind == JsonMember::Kind::compound);
  CHECK((*members)[5].value == R"({"a":[1,"}"]})");
}

TEST_CASE("text that is not exactly one JSON object is refused") {
  CHECK_FALSE(parse_json_object(""));
  CHECK_FALSE(parse_json_object("{\"a\":1"));
  CHECK_FALSE(parse_json_object("{\"a\":1}x"));
  CHECK_FALSE(parse_json_object("{\"a\":[1}"));
  CHECK_FALSE(parse_json_object("[1]"));
  CHECK_FALSE(parse_json_object("{a:1}"));
  CHECK(parse_json_object(" {} "));
}
