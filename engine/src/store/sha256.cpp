// The low-level SHA-256 of OpenSSL: EVP would load OpenSSL's provider
// machinery on first use, which costs a short run about a millisecond.
#define OPENSSL_API_COMPAT 0x10100000L
#include <openssl/sha.h>

#include <stdexcept>
#include <string>
#include <string_view>

#include "runbook/store.hpp"

namespace runbook {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  constexpr unsigned int length = SHA256_DIGEST_LENGTH;
  SHA256_CTX ctx;
  if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, data.data(), data.size()) != 1 ||
      SHA256_Final(digest, &ctx) != 1)
    throw std::runtime_error("SHA-256 failed");  // only when OpenSSL itself is broken
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

}  // namespace runbook
