#pragma once

// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for the audit log's hash
// chain, runbook digests and webhook signatures. The engine's own: a crypto
// library costs every start of the binary its initialisation (about 2 ms on
// a virtual machine, where each CPUID instruction it runs traps).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace runbook {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  void update(std::string_view data);
  Sha256Digest finish();

 private:
  void block(const uint8_t* p);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes hashed so far
};

Sha256Digest sha256(std::string_view data);
Sha256Digest hmac_sha256(std::string_view key, std::string_view message);

// Whether a and b hold the same bytes, in a time that does not depend on
// where they differ.
bool equal_in_constant_time(const uint8_t* a, const uint8_t* b, size_t size);

}  // namespace runbook
