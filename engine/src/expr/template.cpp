#include <cctype>

#include "expr/template.hpp"
#include "runbook/expr.hpp"

namespace runbook {

namespace {

constexpr std::string_view kOpen = "${{";
constexpr std::string_view kClose = "}}";

// The `}}` that closes the expression starting at `from`, skipping quoted
// strings so that `${{ '}}' }}` works; npos when there is none outside quotes.
size_t find_close(std::string_view text, size_t from) {
  size_t k = from;
  while (k < text.size()) {
    const char c = text[k];
    if (c == '\'') {
      const size_t end = text.find('\'', k + 1);
      if (end == std::string_view::npos) return std::string_view::npos;
      k = end + 1;  // '' inside a string is a close and an open: the loop sees both
    } else if (c == '"') {
      size_t j = k + 1;
      while (j < text.size() && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
      if (j >= text.size()) return std::string_view::npos;
      k = j + 1;
    } else if (text.substr(k, kClose.size()) == kClose) {
      return k;
    } else {
      ++k;
    }
  }
  return std::string_view::npos;
}

std::string_view trim(std::string_view s, size_t& offset) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
    ++offset;
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

namespace expr {

bool is_unclosed_template(const ExprError& e) {
  return e.message == kUnclosedTemplate;
}

}  // namespace expr

bool Template::has_expressions() const {
  for (const TemplatePart& p : parts) {
    if (p.expression) return true;
  }
  return false;
}

bool Template::is_single_expression() const {
  return parts.size() == 1 && parts.front().expression.has_value();
}

Expected<Template> parse_template(std::string_view text) {
  Template t;
  size_t at = 0;
  while (at < text.size()) {
    const size_t open = text.find(kOpen, at);
    if (open == std::string_view::npos) break;
    if (open > at) t.parts.push_back(TemplatePart{std::string(text.substr(at, open - at)), {}, at});
    const size_t body = open + kOpen.size();
    size_t close = find_close(text, body);
    if (close == std::string_view::npos) {
      // An unterminated string inside: let the parser say so, up to the first `}}`.
      close = text.find(kClose, body);
      if (close == std::string_view::npos) {
        return ExprError{std::string(expr::kUnclosedTemplate), "close it with '}}'", open};
      }
    }
    Expected<Expression> e = parse_expression(text.substr(body, close - body), body);
    if (!e) return e.error();
    t.parts.push_back(TemplatePart{{}, std::move(e).value(), open});
    at = close + kClose.size();
  }
  if (at < text.size()) t.parts.push_back(TemplatePart{std::string(text.substr(at)), {}, at});
  return t;
}

Expected<Expression> parse_condition(std::string_view text) {
  size_t offset = 0;
  const std::string_view bare = trim(text, offset);
  if (bare.find(kOpen) == std::string_view::npos) {
    if (bare.empty()) return ExprError{"empty expression", {}, 0};
    return parse_expression(bare, offset);
  }
  Expected<Template> t = parse_template(text);
  if (!t) return t.error();
  const Template& tpl = t.value();
  // Spaces around the one `${{ }}` do not count as text.
  const TemplatePart* only = nullptr;
  for (const TemplatePart& p : tpl.parts) {
    if (p.expression) {
      if (only != nullptr) {
        return ExprError{"a condition must be one expression, not a template with several",
                         "write it bare, like: params.a == 'x' && params.b", p.offset};
      }
      only = &p;
    } else {
      size_t ignored = 0;
      if (!trim(p.literal, ignored).empty()) {
        return ExprError{"a condition must be one expression, not text mixed with ${{ }}",
                         "write it bare, like: params.env == 'prod'", p.offset};
      }
    }
  }
  return *only->expression;
}

}  // namespace runbook
