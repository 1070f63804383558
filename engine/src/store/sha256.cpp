#include <string>
#include <string_view>

#include "runbook/store.hpp"
#include "util/sha256.hpp"

namespace runbook {

std::string sha256_hex(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  const Sha256Digest digest = sha256(data);
  std::string hex;
  hex.reserve(digest.size() * 2);
  for (uint8_t byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0xf];
  }
  return hex;
}

}  // namespace runbook
