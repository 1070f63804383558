#pragma once

// The shape of one audit line, shared by the writer and the verifier. See
// runbook/store.hpp for what `prev` and `hash` cover.

#include <optional>
#include <string>
#include <string_view>

namespace runbook::store {

inline constexpr std::string_view kZeroHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// `,"hash":"` + 64 hex + `"}`
inline constexpr size_t kHashMemberSize = 9 + 64 + 2;
// `,"prev":"` + 64 hex + `"`, just before the hash member
inline constexpr size_t kPrevMemberSize = 9 + 64 + 1;

// The parts of a line written in the canonical layout, found by position
// only; nothing is checked beyond the layout.
struct AuditLineParts {
  long long seq = 0;
  std::string_view prev;    // 64 hex
  std::string_view hash;    // 64 hex
  std::string_view hashed;  // the line up to the hash member; hash covers hashed + "}"
};

std::optional<AuditLineParts> split_audit_line(std::string_view line);

// The hash a line must carry: SHA-256 of `hashed` + "}".
std::string audit_line_hash(std::string_view hashed);

}  // namespace runbook::store
