#include "serve/listen_address.hpp"

#include <doctest/doctest.h>

using runbook::serve::parse_listen_address;

TEST_CASE("a listen address is host:port or [v6]:port, port 0 meaning any") {
  auto v4 = parse_listen_address("127.0.0.1:9095");
  REQUIRE(v4.ok());
  CHECK(v4.value().host == "127.0.0.1");
  CHECK(v4.value().port == 9095);
  auto v6 = parse_listen_address("[::1]:0");
  REQUIRE(v6.ok());
  CHECK(v6.value().host == "::1");
  CHECK(v6.value().port == 0);
  auto name = parse_listen_address("localhost:80");
  REQUIRE(name.ok());
  CHECK(name.value().host == "localhost");
}

TEST_CASE("a listen address that is not one says why") {
  CHECK(parse_listen_address("::1:9095").error() ==
        "an IPv6 address must be in brackets, like [::1]:9095");
  CHECK(parse_listen_address("127.0.0.1").error() == "the port is missing");
  CHECK(parse_listen_address("127.0.0.1:65536").error() ==
        "the port must be a number from 0 to 65535");
  CHECK(parse_listen_address("[::1:80").error() == "the ']' closing the IPv6 address is missing");
  CHECK(parse_listen_address(":80").error() == "the host is missing");
}
