#include <doctest/doctest.h>

#include <string>

#include "runbook/store.hpp"
#include "util/sha256.hpp"

using namespace runbook;

namespace {

std::string hex(const Sha256Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : d) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

}  // namespace

TEST_CASE("SHA-256 gives the digests of the FIPS 180-4 examples") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1'000'000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("SHA-256 gives the same digest however the input is cut") {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += char('a' + i % 26);
  const Sha256Digest whole = sha256(text);
  // Every length around the 55/56/64-byte padding edges, fed in pieces.
  for (size_t length : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 999}) {
    CAPTURE(length);
    Sha256 pieces;
    for (size_t at = 0; at < length; at += 7)
      pieces.update(std::string_view(text).substr(at, std::min<size_t>(7, length - at)));
    CHECK(hex(pieces.finish()) == hex(sha256(std::string_view(text).substr(0, length))));
  }
  CHECK(hex(whole) == sha256_hex(text));
}

TEST_CASE("HMAC-SHA256 gives the digests of RFC 4231") {
  CHECK(hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // A key longer than a block is hashed first.
  CHECK(hex(hmac_sha256(std::string(131, '\xaa'),
                        "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("constant-time comparison tells equal bytes from different ones") {
  const Sha256Digest a = sha256("a"), b = sha256("b");
  CHECK(equal_in_constant_time(a.data(), a.data(), a.size()));
  CHECK_FALSE(equal_in_constant_time(a.data(), b.data(), a.size()));
}
