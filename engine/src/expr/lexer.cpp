#include "expr/lexer.hpp"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>

namespace runbook::expr {

namespace {

bool is_name_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

bool is_digit(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

class Lexer {
 public:
  Lexer(std::string_view source, size_t offset) : src_(source), base_(offset) {}

  Expected<std::vector<Token>> run() {
    std::vector<Token> tokens;
    while (true) {
      while (pos_ < src_.size() && std::isspace(static_cast<unsigned char>(src_[pos_]))) ++pos_;
      if (pos_ >= src_.size()) break;
      const bool after_dot = !tokens.empty() && tokens.back().kind == Tok::dot;
      std::optional<ExprError> error = next(tokens, after_dot);
      if (error) return std::move(*error);
    }
    tokens.push_back(Token{Tok::end, base_ + src_.size(), {}, {}});
    return tokens;
  }

 private:
  ExprError error_at(size_t pos, std::string message, std::string hint = {}) const {
    return ExprError{std::move(message), std::move(hint), base_ + pos};
  }

  std::optional<ExprError> next(std::vector<Token>& out, bool after_dot) {
    const size_t start = pos_;
    const char c = src_[pos_];
    auto simple = [&](Tok kind, size_t length) {
      out.push_back(Token{kind, base_ + start, {}, {}});
      pos_ += length;
    };
    auto peek = [&](size_t k) { return pos_ + k < src_.size() ? src_[pos_ + k] : '\0'; };

    // After '.', a field name may start with a digit: step ids like `1st`.
    if (after_dot && (is_name_char(c) && c != '-')) {
      while (pos_ < src_.size() && is_name_char(src_[pos_])) ++pos_;
      out.push_back(
          Token{Tok::identifier, base_ + start, std::string(src_.substr(start, pos_ - start)), {}});
      return std::nullopt;
    }
    if (is_name_start(c)) {
      while (pos_ < src_.size() && is_name_char(src_[pos_])) ++pos_;
      out.push_back(
          Token{Tok::identifier, base_ + start, std::string(src_.substr(start, pos_ - start)), {}});
      return std::nullopt;
    }
    if (is_digit(c)) return number(out);
    switch (c) {
      case '\'':
        return single_quoted(out);
      case '"':
        return double_quoted(out);
      case '.':
        simple(Tok::dot, 1);
        return std::nullopt;
      case ',':
        simple(Tok::comma, 1);
        return std::nullopt;
      case '(':
        simple(Tok::lparen, 1);
        return std::nullopt;
      case ')':
        simple(Tok::rparen, 1);
        return std::nullopt;
      case '[':
        simple(Tok::lbracket, 1);
        return std::nullopt;
      case ']':
        simple(Tok::rbracket, 1);
        return std::nullopt;
      case '-':
        simple(Tok::minus, 1);
        return std::nullopt;
      case '!':
        if (peek(1) == '=') {
          simple(Tok::not_equal, 2);
        } else {
          simple(Tok::bang, 1);
        }
        return std::nullopt;
      case '=':
        if (peek(1) == '=') {
          simple(Tok::equal, 2);
          return std::nullopt;
        }
        return error_at(start, "unexpected '='", "compare with '=='");
      case '<':
        if (peek(1) == '=') {
          simple(Tok::less_equal, 2);
        } else {
          simple(Tok::less, 1);
        }
        return std::nullopt;
      case '>':
        if (peek(1) == '=') {
          simple(Tok::greater_equal, 2);
        } else {
          simple(Tok::greater, 1);
        }
        return std::nullopt;
      case '&':
        if (peek(1) == '&') {
          simple(Tok::and_and, 2);
          return std::nullopt;
        }
        return error_at(start, "unexpected '&'", "use '&&'");
      case '|':
        if (peek(1) == '|') {
          simple(Tok::or_or, 2);
          return std::nullopt;
        }
        return error_at(start, "unexpected '|'", "use '||'");
      default:
        break;
    }
    std::string shown(1, c);
    if (static_cast<unsigned char>(c) < 0x20) shown = "\\x" + std::to_string(int(c));
    return error_at(start, "unexpected character '" + shown + "'");
  }

  std::optional<ExprError> number(std::vector<Token>& out) {
    const size_t start = pos_;
    bool is_float = false;
    while (pos_ < src_.size() && is_digit(src_[pos_])) ++pos_;
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' && is_digit(src_[pos_ + 1])) {
      is_float = true;
      ++pos_;
      while (pos_ < src_.size() && is_digit(src_[pos_])) ++pos_;
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      size_t k = pos_ + 1;
      if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) ++k;
      if (k < src_.size() && is_digit(src_[k])) {
        is_float = true;
        pos_ = k;
        while (pos_ < src_.size() && is_digit(src_[pos_])) ++pos_;
      }
    }
    if (pos_ < src_.size() && is_name_char(src_[pos_]) && src_[pos_] != '-') {
      return error_at(
          start, "malformed number '" + std::string(src_.substr(start, pos_ + 1 - start)) + "'");
    }
    const std::string_view digits = src_.substr(start, pos_ - start);
    Token t{Tok::number, base_ + start, std::string(digits), {}};
    if (!is_float) {
      int64_t i = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), i);
      if (ec == std::errc{} && end == digits.data() + digits.size()) {
        t.number = Value(i);
        out.push_back(std::move(t));
        return std::nullopt;
      }
      // Too large for int64: read it as a float, like JSON readers do.
    }
    double d = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), d);
    if (ec != std::errc{} || end != digits.data() + digits.size()) {
      return error_at(start, "number '" + std::string(digits) + "' is out of range");
    }
    t.number = Value(d);
    out.push_back(std::move(t));
    return std::nullopt;
  }

  std::optional<ExprError> single_quoted(std::vector<Token>& out) {
    const size_t start = pos_++;
    std::string value;
    while (pos_ < src_.size()) {
      const char c = src_[pos_++];
      if (c != '\'') {
        value += c;
      } else if (pos_ < src_.size() && src_[pos_] == '\'') {
        value += '\'';  // '' is a quote, as in GitHub Actions
        ++pos_;
      } else {
        out.push_back(Token{Tok::string, base_ + start, std::move(value), {}});
        return std::nullopt;
      }
    }
    return error_at(start, "unterminated string", "end it with ' (write '' for a quote inside it)");
  }

  std::optional<ExprError> double_quoted(std::vector<Token>& out) {
    const size_t start = pos_++;
    std::string value;
    while (pos_ < src_.size()) {
      const char c = src_[pos_++];
      if (c == '"') {
        out.push_back(Token{Tok::string, base_ + start, std::move(value), {}});
        return std::nullopt;
      }
      if (c != '\\') {
        value += c;
        continue;
      }
      if (pos_ >= src_.size()) break;
      const char e = src_[pos_++];
      switch (e) {
        case 'n':
          value += '\n';
          break;
        case 't':
          value += '\t';
          break;
        case 'r':
          value += '\r';
          break;
        case '"':
        case '\\':
        case '\'':
          value += e;
          break;
        default:
          return error_at(pos_ - 2, std::string("unknown escape '\\") + e + "' in a string",
                          "use \\\\, \\\", \\n, \\t or \\r");
      }
    }
    return error_at(start, "unterminated string", "end it with \"");
  }

  std::string_view src_;
  size_t base_;
  size_t pos_ = 0;
};

}  // namespace

std::string describe(const Token& t) {
  switch (t.kind) {
    case Tok::end:
      return "the end of the expression";
    case Tok::identifier:
      return "'" + t.text + "'";
    case Tok::number:
      return "the number " + t.text;
    case Tok::string:
      return "a string";
    case Tok::dot:
      return "'.'";
    case Tok::comma:
      return "','";
    case Tok::lparen:
      return "'('";
    case Tok::rparen:
      return "')'";
    case Tok::lbracket:
      return "'['";
    case Tok::rbracket:
      return "']'";
    case Tok::bang:
      return "'!'";
    case Tok::minus:
      return "'-'";
    case Tok::and_and:
      return "'&&'";
    case Tok::or_or:
      return "'||'";
    case Tok::equal:
      return "'=='";
    case Tok::not_equal:
      return "'!='";
    case Tok::less:
      return "'<'";
    case Tok::less_equal:
      return "'<='";
    case Tok::greater:
      return "'>'";
    case Tok::greater_equal:
      return "'>='";
  }
  return "a token";
}

Expected<std::vector<Token>> tokenize(std::string_view source, size_t offset) {
  return Lexer(source, offset).run();
}

}  // namespace runbook::expr
