#include <doctest/doctest.h>

#include "runbook/diagnostics.hpp"

using runbook::Diagnostic;
using runbook::Diagnostics;
using runbook::Mark;
using runbook::nearest_word;

TEST_CASE("a diagnostic formats as FILE:LINE:COL: error: MESSAGE; HINT") {
  Diagnostic d{"rb.yaml", Mark{7, 5}, "unknown key 'retires' in step 'build'",
               "did you mean 'retry'?"};
  CHECK(d.format() ==
        "rb.yaml:7:5: error: unknown key 'retires' in step 'build'; did you mean 'retry'?");
}

TEST_CASE("a diagnostic without a position or hint leaves them out") {
  CHECK(Diagnostic{"rb.yaml", Mark{}, "is a directory", ""}.format() ==
        "rb.yaml: error: is a directory");
  CHECK(Diagnostic{"rb.yaml", Mark{3, 0}, "bad", ""}.format() == "rb.yaml:3: error: bad");
  CHECK(Diagnostic{"", Mark{}, "bad", ""}.format() == "error: bad");
}

TEST_CASE("diagnostics sort by file, line and column and keep equal positions in order") {
  Diagnostics ds;
  ds.error("b.yaml", {1, 1}, "b");
  ds.error("a.yaml", {9, 1}, "a9");
  ds.error("a.yaml", {2, 7}, "a2-7 first");
  ds.error("a.yaml", {2, 3}, "a2-3");
  ds.error("a.yaml", {2, 7}, "a2-7 second");
  ds.sort();
  REQUIRE(ds.size() == 5);
  CHECK(ds.items()[0].message == "a2-3");
  CHECK(ds.items()[1].message == "a2-7 first");
  CHECK(ds.items()[2].message == "a2-7 second");
  CHECK(ds.items()[3].message == "a9");
  CHECK(ds.items()[4].message == "b");
  CHECK(ds.format() ==
        "a.yaml:2:3: error: a2-3\na.yaml:2:7: error: a2-7 first\na.yaml:2:7: error: a2-7 "
        "second\na.yaml:9:1: error: a9\nb.yaml:1:1: error: b\n");
}

TEST_CASE("appending diagnostics keeps both lists") {
  Diagnostics a, b;
  a.error("x", {}, "one");
  b.error("y", {}, "two");
  a.append(b);
  CHECK(a.size() == 2);
  CHECK_FALSE(a.empty());
}

TEST_CASE("nearest_word suggests the closest known word for a typo") {
  const std::vector<std::string_view> keys = {"retry", "run", "timeout", "needs", "rollback"};
  CHECK(nearest_word("retires", keys) == "retry");
  CHECK(nearest_word("timout", keys) == "timeout");
  CHECK(nearest_word("neds", keys) == "needs");
  CHECK(nearest_word("rollbcak", keys) == "rollback");  // a swapped pair is one edit
  CHECK(nearest_word("Timeout", keys) == "timeout");    // case does not count
}

TEST_CASE("nearest_word suggests nothing when no word is close") {
  const std::vector<std::string_view> keys = {"retry", "run", "timeout"};
  CHECK(nearest_word("banana", keys).empty());
  CHECK(nearest_word("xy", keys).empty());
  CHECK(nearest_word("", keys).empty());
  CHECK(nearest_word("anything", {}).empty());
}

TEST_CASE("nearest_word prefers the first of equally close words") {
  CHECK(nearest_word("ab", {"ax", "ay"}) == "ax");
}
