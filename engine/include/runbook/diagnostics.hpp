#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace runbook {

// A position in a source file; both numbers are 1-based, 0 means unknown.
struct Mark {
  int line = 0;
  int column = 0;
};

// One problem found in user input (a runbook, a params file, a server config).
struct Diagnostic {
  std::string file;
  Mark mark;
  std::string message;  // "unknown key 'retires' in step 'x'"
  std::string hint;     // "did you mean 'retry'?"; may be empty

  // "FILE:LINE:COL: error: MESSAGE; HINT" (LINE:COL left out when unknown).
  std::string format() const;
};

// Every problem in one input, collected rather than thrown so that a user sees
// all of them at once.
class Diagnostics {
 public:
  void error(std::string file, Mark mark, std::string message, std::string hint = {});
  void add(Diagnostic d) { items_.push_back(std::move(d)); }
  void append(const Diagnostics& other);

  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  const std::vector<Diagnostic>& items() const { return items_; }

  // Orders by file, line, column (stable for equal positions).
  void sort();
  // One formatted diagnostic per line.
  std::string format() const;

 private:
  std::vector<Diagnostic> items_;
};

// The known word closest to `word` by edit distance, or "" when none is close
// enough to be a plausible typo.
std::string nearest_word(std::string_view word, const std::vector<std::string_view>& known);

}  // namespace runbook
