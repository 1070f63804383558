#include <algorithm>

#include "runbook/params.hpp"

namespace runbook {

SecretMasker::SecretMasker(std::vector<std::string> secrets) {
  std::erase_if(secrets, [](const std::string& s) { return s.size() < kMinSecretLength; });
  // Longest first: where one secret contains another, the whole of it is masked.
  std::sort(secrets.begin(), secrets.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  for (const std::string& s : secrets) first_byte_[static_cast<unsigned char>(s.front())] = true;
  secrets_ = std::move(secrets);
}

std::string SecretMasker::mask(std::string_view text) const {
  std::string out;
  if (secrets_.empty()) return std::string(text);
  out.reserve(text.size());
  size_t k = 0;
  while (k < text.size()) {
    // Copy the run of bytes that cannot start a secret in one go.
    size_t next = k;
    while (next < text.size() && !first_byte_[static_cast<unsigned char>(text[next])]) ++next;
    out.append(text.substr(k, next - k));
    k = next;
    if (k >= text.size()) break;
    const std::string_view rest = text.substr(k);
    bool masked = false;
    for (const std::string& s : secrets_) {
      if (rest.starts_with(s)) {
        out += kMask;
        k += s.size();
        masked = true;
        break;
      }
    }
    if (!masked) out += text[k++];
  }
  return out;
}

}  // namespace runbook
