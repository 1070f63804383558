#include <doctest/doctest.h>

#include "runbook/model.hpp"

using namespace runbook;

TEST_CASE("param types print as they are written in a runbook") {
  CHECK(std::string(to_string(ParamType::string)) == "string");
  CHECK(std::string(to_string(ParamType::integer)) == "int");
  CHECK(std::string(to_string(ParamType::boolean)) == "bool");
  CHECK(std::string(to_string(ParamType::list)) == "list");
  CHECK(std::string(to_string(ParamType::secret)) == "secret");
}

TEST_CASE("allow_failure allows any code when true, else only the listed codes") {
  AllowFailure none;
  CHECK_FALSE(none.enabled());
  CHECK_FALSE(none.allows(1));
  AllowFailure any{true, {}};
  CHECK(any.enabled());
  CHECK(any.allows(42));
  AllowFailure some{false, {3, 4}};
  CHECK(some.enabled());
  CHECK(some.allows(3));
  CHECK_FALSE(some.allows(1));
}

TEST_CASE("a runbook finds its steps, hook steps and params by name") {
  Runbook rb;
  rb.steps.resize(2);
  rb.steps[0].id = "build";
  rb.steps[1].id = "test";
  rb.hooks.finally.resize(1);
  rb.hooks.finally[0].id = "notify";
  rb.params.resize(1);
  rb.params[0].name = "service";
  REQUIRE(rb.find_step("test") != nullptr);
  CHECK(rb.find_step("test") == &rb.steps[1]);
  CHECK(rb.find_step("notify") == &rb.hooks.finally[0]);
  CHECK(rb.find_step("nope") == nullptr);
  CHECK(rb.find_param("service") == &rb.params[0]);
  CHECK(rb.find_param("nope") == nullptr);
  CHECK(rb.effective_max_parallel() == kDefaultMaxParallel);
}
