#include "runbook/diagnostics.hpp"

#include "runbook/plugin.hpp"

#include <algorithm>
#include <cctype>
#include <tuple>

namespace runbook {

std::string Diagnostic::format() const {
  std::string out;
  if (!file.empty()) out += file + ":";
  if (mark.line > 0) {
    out += std::to_string(mark.line) + ":";
    if (mark.column > 0) out += std::to_string(mark.column) + ":";
  }
  if (!out.empty()) out += " ";
  out += "error: " + message;
  if (!hint.empty()) out += "; " + hint;
  return out;
}

void Diagnostics::error(std::string file, Mark mark, std::string message, std::string hint) {
  items_.push_back(Diagnostic{std::move(file), mark, std::move(message), std::move(hint)});
}

void Diagnostics::append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

void Diagnostics::sort() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.file, a.mark.line, a.mark.column) <
           std::tie(b.file, b.mark.line, b.mark.column);
  });
}

std::string Diagnostics::format() const {
  std::string out;
  for (const Diagnostic& d : items_) out += d.format() + "\n";
  return out;
}

// One rule for typos everywhere, plugins included: the SDK's.
std::string nearest_word(std::string_view word, const std::vector<std::string_view>& known) {
  return sdk::nearest_name(word, known);
}

}  // namespace runbook
