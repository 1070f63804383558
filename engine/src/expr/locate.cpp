// Mapping a byte of a Text's value back to the runbook: the Text carries the
// mark of its YAML scalar; the scalar's style decides how value bytes and
// source bytes line up.

#include "runbook/expr.hpp"

namespace runbook {

std::string ExprError::format() const {
  return hint.empty() ? message : message + "; " + hint;
}

namespace {

enum class Style { plain, single_quoted, double_quoted };

// The start of 1-based `line` in `source`, or npos.
size_t line_start(std::string_view source, int line) {
  size_t at = 0;
  for (int k = 1; k < line; ++k) {
    at = source.find('\n', at);
    if (at == std::string_view::npos) return at;
    ++at;
  }
  return at;
}

std::string_view line_at(std::string_view source, size_t start) {
  size_t end = source.find('\n', start);
  if (end == std::string_view::npos) end = source.size();
  std::string_view line = source.substr(start, end - start);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Walks a flow scalar (plain or quoted) from `p`, its first content byte at
// `at`, until `offset` bytes of value have passed. Line breaks fold into one
// space (or n-1 newlines for n breaks) and the indentation after them is not
// part of the value.
Mark walk_flow(std::string_view src, size_t p, Mark at, Style style, size_t offset) {
  size_t v = 0;
  auto advance = [&](size_t n) {
    for (size_t k = 0; k < n && p < src.size(); ++k, ++p) {
      if (src[p] == '\n') {
        ++at.line;
        at.column = 1;
      } else {
        ++at.column;
      }
    }
  };
  while (v < offset && p < src.size()) {
    const char c = src[p];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      size_t end = p, breaks = 0;
      while (end < src.size() &&
             (src[end] == ' ' || src[end] == '\t' || src[end] == '\r' || src[end] == '\n')) {
        if (src[end] == '\n') ++breaks;
        ++end;
      }
      if (breaks == 0) {
        advance(1);
        ++v;
        continue;
      }
      advance(end - p);
      v += breaks == 1 ? 1 : breaks - 1;
      continue;
    }
    if (style == Style::single_quoted && c == '\'' && p + 1 < src.size() && src[p + 1] == '\'') {
      advance(2);
    } else if (style == Style::double_quoted && c == '\\' && p + 1 < src.size()) {
      const char e = src[p + 1];
      advance(e == 'x' ? 4 : e == 'u' ? 6 : e == 'U' ? 10 : 2);
    } else {
      advance(1);
    }
    ++v;
  }
  return at;
}

}  // namespace

Mark locate(const Text& text, size_t offset, std::string_view source) {
  const Mark mark = text.mark;
  if (mark.line <= 0 || mark.column <= 0) return mark;
  const bool single_line = text.value.find('\n') == std::string::npos;
  if (source.empty()) {
    if (single_line) return Mark{mark.line, mark.column + static_cast<int>(offset)};
    return mark;
  }
  const size_t start = line_start(source, mark.line);
  if (start == std::string_view::npos) return mark;
  const size_t p = start + static_cast<size_t>(mark.column - 1);
  if (p >= source.size()) return mark;
  const char c = source[p];
  if (c == '"' || c == '\'') {
    const Style style = c == '"' ? Style::double_quoted : Style::single_quoted;
    return walk_flow(source, p + 1, Mark{mark.line, mark.column + 1}, style, offset);
  }
  if (c == '|') {
    // A literal block: value line k is source line mark.line + 1 + k without
    // its indentation.
    int k = 0;
    size_t line_begin = 0;
    for (size_t i = 0; i < offset && i < text.value.size(); ++i) {
      if (text.value[i] == '\n') {
        ++k;
        line_begin = i + 1;
      }
    }
    size_t value_end = text.value.find('\n', line_begin);
    if (value_end == std::string::npos) value_end = text.value.size();
    const size_t value_length = value_end - line_begin;
    const size_t src_start = line_start(source, mark.line + 1 + k);
    if (src_start == std::string_view::npos) return mark;
    const std::string_view line = line_at(source, src_start);
    if (line.size() < value_length) return mark;
    const size_t indent = line.size() - value_length;
    return Mark{mark.line + 1 + k, static_cast<int>(indent + (offset - line_begin)) + 1};
  }
  if (c == '>') return mark;  // folded blocks: the scalar's mark is the best we can do
  return walk_flow(source, p, mark, Style::plain, offset);
}

Diagnostic expr_diagnostic(const std::string& file, const Text& text, const ExprError& error,
                           std::string_view where, std::string_view source) {
  std::string message = error.message;
  if (!where.empty()) message = "in " + std::string(where) + ": " + message;
  return Diagnostic{file, locate(text, error.offset, source), std::move(message), error.hint};
}

}  // namespace runbook
