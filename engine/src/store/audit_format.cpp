#include "store/audit_format.hpp"

#include <cctype>

#include "runbook/store.hpp"

namespace runbook::store {
namespace {

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::optional<AuditLineParts> split_audit_line(std::string_view line) {
  constexpr std::string_view kSeq = "{\"seq\":";
  if (line.size() < kSeq.size() + 2 + kPrevMemberSize + kHashMemberSize) return std::nullopt;
  if (line.substr(0, kSeq.size()) != kSeq) return std::nullopt;
  AuditLineParts parts;
  size_t pos = kSeq.size();
  size_t digits = pos;
  while (pos < line.size() && std::isdigit(static_cast<unsigned char>(line[pos])) &&
         pos - digits < 18) {
    parts.seq = parts.seq * 10 + (line[pos] - '0');
    ++pos;
  }
  if (pos == digits || line[pos] != ',') return std::nullopt;

  const size_t hash_at = line.size() - kHashMemberSize;
  const size_t prev_at = hash_at - kPrevMemberSize;
  if (prev_at <= pos) return std::nullopt;
  std::string_view hash_member = line.substr(hash_at);
  std::string_view prev_member = line.substr(prev_at, kPrevMemberSize);
  if (hash_member.substr(0, 9) != ",\"hash\":\"" || hash_member.substr(73) != "\"}")
    return std::nullopt;
  if (prev_member.substr(0, 9) != ",\"prev\":\"" || prev_member.back() != '"') return std::nullopt;
  parts.hash = hash_member.substr(9, 64);
  parts.prev = prev_member.substr(9, 64);
  if (!is_hex64(parts.hash) || !is_hex64(parts.prev)) return std::nullopt;
  parts.hashed = line.substr(0, hash_at);
  return parts;
}

std::string audit_line_hash(std::string_view hashed) {
  std::string text;
  text.reserve(hashed.size() + 1);
  text.append(hashed);
  text += '}';
  return sha256_hex(text);
}

}  // namespace runbook::store
