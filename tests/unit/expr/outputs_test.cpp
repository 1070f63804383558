#include <doctest/doctest.h>

#include "runbook/expr.hpp"

using namespace runbook;

TEST_CASE("key=value lines become outputs, the value kept as written") {
  auto r = parse_outputs("version=1.2.3\nurl=http://x/?a=b\nempty=\n", "build");
  REQUIRE(r.ok());
  CHECK(r.value() == StringMap{{"version", "1.2.3"}, {"url", "http://x/?a=b"}, {"empty", ""}});
}

TEST_CASE("a heredoc gives a value of several lines") {
  auto r = parse_outputs("notes<<EOF\nline one\n\nline = three\nEOF\nafter=1\n", "s");
  REQUIRE(r.ok());
  CHECK(r.value().at("notes") == "line one\n\nline = three");
  CHECK(r.value().at("after") == "1");
}

TEST_CASE("an = before << makes a plain value") {
  auto r = parse_outputs("k=a<<b\n", "s");
  REQUIRE(r.ok());
  CHECK(r.value().at("k") == "a<<b");
}

TEST_CASE("CRLF line ends, blank lines and a missing last newline are accepted") {
  auto r = parse_outputs("\r\na=1\r\n\nb<<X\r\nv\r\nX\r\nc=3", "s");
  REQUIRE(r.ok());
  CHECK(r.value() == StringMap{{"a", "1"}, {"b", "v"}, {"c", "3"}});
}

TEST_CASE("a later key wins") {
  auto r = parse_outputs("a=1\na=2\n", "s");
  REQUIRE(r.ok());
  CHECK(r.value().at("a") == "2");
}

TEST_CASE("an unterminated heredoc is an error naming its line") {
  auto r = parse_outputs("a=1\nnotes<<EOF\ntext\n", "build");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == "outputs of step 'build', line 2: 'notes<<EOF' is not closed by a line 'EOF'");
}

TEST_CASE("a line that is neither form is an error naming its line") {
  auto r = parse_outputs("a=1\njust text\n", "build");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() ==
        "outputs of step 'build', line 2: 'just text' is not key=value or key<<DELIMITER");
}

TEST_CASE("invalid keys are refused") {
  for (const char* text : {"1a=x\n", "=x\n", "a b=x\n", "a.b=x\n"}) {
    CAPTURE(text);
    auto r = parse_outputs(text, "s");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().find("invalid output key") != std::string::npos);
  }
  auto ok = parse_outputs("_a-b_9=x\n", "s");
  CHECK(ok.ok());
}

TEST_CASE("a heredoc without a delimiter is refused") {
  auto r = parse_outputs("a<<\n", "s");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == "outputs of step 's', line 1: 'a<<' needs a delimiter");
}

TEST_CASE("outputs over 1 MiB are refused with their size") {
  std::string big = "a=" + std::string(kMaxOutputBytes, 'x') + "\n";
  auto r = parse_outputs(big, "x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() ==
        "outputs of step 'x' are over the 1 MiB limit (" + std::to_string(big.size()) + " bytes)");
  CHECK(parse_outputs(std::string(kMaxOutputBytes - 2, 'x').insert(0, "a="), "x").ok());
}
