#include <doctest/doctest.h>

#include "runbook/params.hpp"

using namespace runbook;

TEST_CASE("every occurrence of a secret is masked") {
  const SecretMasker m({"hunter2"});
  CHECK(m.mask("pw=hunter2 again hunter2.") == "pw=*** again ***.");
}

TEST_CASE("text without secrets is returned as it is") {
  const SecretMasker m({"hunter2"});
  CHECK(m.mask("nothing here, hunter3") == "nothing here, hunter3");
  CHECK(m.mask("") == "");
  CHECK(SecretMasker().mask("anything") == "anything");
}

TEST_CASE("the longer of two overlapping secrets is masked whole") {
  const SecretMasker m({"abcd", "abcdefgh"});
  CHECK(m.mask("xabcdefghx abcdx") == "x***x ***x");
}

TEST_CASE("secrets shorter than four characters are ignored") {
  const SecretMasker m({"abc", ""});
  CHECK(m.empty());
  CHECK(m.mask("abc") == "abc");
}

TEST_CASE("adjacent secrets and secrets at the ends are masked") {
  const SecretMasker m({"tok1", "tok2"});
  CHECK(m.mask("tok1tok2") == "******");
  CHECK(m.mask("tok") == "tok");
}

TEST_CASE("masking a long line is fast" * doctest::timeout(10)) {
  const SecretMasker m({"s3cr3t-value", "another-secret", "zzzz"});
  std::string line;
  for (int k = 0; k < 200000; ++k) line += "some output s3cr3t-valu ";
  line += "s3cr3t-value";
  const std::string masked = m.mask(line);
  CHECK(masked.ends_with("***"));
}
