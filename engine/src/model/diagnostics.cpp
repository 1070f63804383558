#include "runbook/diagnostics.hpp"

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

namespace {

// Optimal string alignment distance (Damerau-Levenshtein without repeated
// edits of one substring), case-insensitive, so that a swapped pair of letters
// counts as one typo.
size_t edit_distance(std::string_view a, std::string_view b) {
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  const size_t n = a.size(), m = b.size();
  std::vector<size_t> two_back(m + 1), prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        cur[j] = std::min(cur[j], two_back[j - 2] + 1);
      }
    }
    std::swap(two_back, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

// How many edits still read as a typo of a word this long: one for very short
// words, up to three for long ones ("retires" -> "retry").
size_t typo_limit(size_t length) {
  if (length <= 3) return 1;
  if (length <= 5) return 2;
  return 3;
}

}  // namespace

std::string nearest_word(std::string_view word, const std::vector<std::string_view>& known) {
  if (word.empty()) return {};
  const size_t limit = typo_limit(word.size());
  std::string_view best;
  size_t best_distance = limit + 1;
  for (std::string_view candidate : known) {
    // The distance is at least the difference in length: skip the work.
    const size_t gap = candidate.size() > word.size() ? candidate.size() - word.size()
                                                      : word.size() - candidate.size();
    if (gap >= best_distance) continue;
    const size_t d = edit_distance(word, candidate);
    // A suggestion must keep something of the word: "ab" is not a typo of "xy".
    if (d < best_distance && d < std::max(word.size(), candidate.size())) {
      best = candidate;
      best_distance = d;
    }
  }
  return std::string(best);
}

}  // namespace runbook
