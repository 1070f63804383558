// The `$RUNBOOK_OUTPUT` file, read like GitHub Actions reads `$GITHUB_OUTPUT`.

#include <cctype>

#include "runbook/expr.hpp"

namespace runbook {

namespace {

bool is_output_key(std::string_view key) {
  if (key.empty()) return false;
  const auto first = static_cast<unsigned char>(key.front());
  if (!std::isalpha(first) && key.front() != '_') return false;
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

std::string shorten(std::string_view s) {
  if (s.size() <= 40) return std::string(s);
  return std::string(s.substr(0, 37)) + "...";
}

// Splits text into lines without their '\n' (and a '\r' before it).
class Lines {
 public:
  explicit Lines(std::string_view text) : text_(text) {}
  bool next(std::string_view& line) {
    if (at_ >= text_.size()) return false;
    size_t end = text_.find('\n', at_);
    if (end == std::string_view::npos) end = text_.size();
    line = text_.substr(at_, end - at_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    at_ = end + 1;
    ++number_;
    return true;
  }
  int number() const { return number_; }

 private:
  std::string_view text_;
  size_t at_ = 0;
  int number_ = 0;
};

}  // namespace

std::string outputs_too_large(std::string_view step_id, uint64_t bytes) {
  return "outputs of step '" + std::string(step_id) + "' are over the 1 MiB limit (" +
         std::to_string(bytes) + " bytes)";
}

Expected<StringMap, std::string> parse_outputs(std::string_view file_text,
                                               std::string_view step_id) {
  if (file_text.size() > kMaxOutputBytes) return outputs_too_large(step_id, file_text.size());
  StringMap outputs;
  Lines lines(file_text);
  std::string_view line;
  auto bad = [&](int number, std::string message) -> std::string {
    return "outputs of step '" + std::string(step_id) + "', line " + std::to_string(number) + ": " +
           message;
  };
  while (lines.next(line)) {
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    const size_t heredoc = line.find("<<");
    const int number = lines.number();
    if (heredoc != std::string_view::npos && (eq == std::string_view::npos || heredoc < eq)) {
      const std::string_view key = line.substr(0, heredoc);
      const std::string_view delimiter = line.substr(heredoc + 2);
      if (!is_output_key(key)) {
        return bad(number,
                   "invalid output key '" + shorten(key) +
                       "': use letters, digits, '_' and '-', starting with a letter or '_'");
      }
      if (delimiter.empty()) return bad(number, "'" + std::string(key) + "<<' needs a delimiter");
      std::string value;
      bool closed = false, first = true;
      while (lines.next(line)) {
        if (line == delimiter) {
          closed = true;
          break;
        }
        if (!first) value += '\n';
        value += line;
        first = false;
      }
      if (!closed) {
        return bad(number, "'" + std::string(key) + "<<" + std::string(delimiter) +
                               "' is not closed by a line '" + std::string(delimiter) + "'");
      }
      outputs[std::string(key)] = std::move(value);
    } else if (eq != std::string_view::npos) {
      const std::string_view key = line.substr(0, eq);
      if (!is_output_key(key)) {
        return bad(number,
                   "invalid output key '" + shorten(key) +
                       "': use letters, digits, '_' and '-', starting with a letter or '_'");
      }
      outputs[std::string(key)] = std::string(line.substr(eq + 1));
    } else {
      return bad(number, "'" + shorten(line) + "' is not key=value or key<<DELIMITER");
    }
  }
  return outputs;
}

}  // namespace runbook
