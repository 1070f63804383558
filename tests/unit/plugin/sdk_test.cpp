// The plugin SDK's C++ helper (plugins/sdk/runbook/plugin.hpp): what plugin
// authors build on.

#include "runbook/plugin.hpp"

#include <doctest/doctest.h>

using runbook::sdk::Json;

TEST_CASE("the SDK's JSON keeps strings, integers and nesting, and writes them back") {
  Json::Object o{{"name", "web"}, {"port", 8080}, {"ok", true}};
  CHECK(Json(o).dump() == R"({"name":"web","ok":true,"port":8080})");
  std::optional<Json> parsed = Json::parse(R"({"a": [1, 2.5, "x\u00e9", null], "b": {}})");
  REQUIRE(parsed);
  CHECK(parsed->get("a").as_array()[0].as_int() == 1);
  CHECK(parsed->get("a").as_array()[2].as_string() == "x\xc3\xa9");
  CHECK(parsed->get("missing").is_null());
  CHECK(Json("${{ params.url }}").is_deferred());
}

TEST_CASE("the SDK's JSON refuses malformed text and broken surrogate pairs") {
  std::string error;
  CHECK_FALSE(Json::parse("{\"a\": }", &error));
  CHECK(error.find("offset") != std::string::npos);
  CHECK_FALSE(Json::parse(R"("\ud800\u0041")", &error));
  CHECK(error.find("surrogate") != std::string::npos);
  CHECK(Json::parse(R"("\ud83d\ude00")")->as_string() == "\xf0\x9f\x98\x80");
}

TEST_CASE("the SDK reads durations as runbooks write them") {
  using runbook::sdk::parse_duration_ms;
  CHECK(parse_duration_ms("250ms") == 250);
  CHECK(parse_duration_ms("1h30m") == 5'400'000);
  CHECK(parse_duration_ms("1.5s") == 1500);
  CHECK(parse_duration_ms("30") == 30'000);
  CHECK_FALSE(parse_duration_ms("30m1h"));
  CHECK_FALSE(parse_duration_ms("soon"));
  CHECK_FALSE(parse_duration_ms(""));
}

TEST_CASE("the SDK suggests the nearest argument name for a typo, and none for a stranger") {
  using runbook::sdk::nearest_name;
  CHECK(nearest_name("timout", {"timeout", "interval", "port"}) == "timeout");
  CHECK(nearest_name("intreval", {"timeout", "interval", "port"}) == "interval");
  CHECK(nearest_name("xyz", {"timeout", "interval"}).empty());
}
