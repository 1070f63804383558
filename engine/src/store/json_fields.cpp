#include "store/json_fields.hpp"

#include <cctype>
#include <cstdlib>

namespace runbook::store {
namespace {

// A recursive-descent reader over `text`; every method returns false on
// malformed input and leaves `pos` somewhere inside it.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  bool object(std::vector<JsonMember>& members) {
    skip_space();
    if (!eat('{')) return false;
    skip_space();
    if (eat('}')) return at_end();
    while (true) {
      JsonMember m;
      skip_space();
      if (!string(&m.name)) return false;
      skip_space();
      if (!eat(':')) return false;
      skip_space();
      if (!value(m)) return false;
      members.push_back(std::move(m));
      skip_space();
      if (eat(',')) continue;
      if (!eat('}')) return false;
      return at_end();
    }
  }

 private:
  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool value(JsonMember& m) {
    if (pos_ >= text_.size()) return false;
    size_t start = pos_;
    char c = text_[pos_];
    if (c == '"') {
      m.kind = JsonMember::Kind::string;
      return string(&m.value);
    }
    if (c == '{' || c == '[') {
      m.kind = JsonMember::Kind::compound;
      if (!skip_compound()) return false;
    } else if (c == 't' || c == 'f') {
      m.kind = JsonMember::Kind::boolean;
      if (!literal(c == 't' ? "true" : "false")) return false;
    } else if (c == 'n') {
      m.kind = JsonMember::Kind::null;
      if (!literal("null")) return false;
    } else {
      m.kind = JsonMember::Kind::number;
      if (!number()) return false;
    }
    m.value.assign(text_.substr(start, pos_ - start));
    return true;
  }

  bool number() {
    size_t start = pos_;
    eat('-');
    size_t digits = pos_;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    if (pos_ == digits) return false;
    if (eat('.')) {
      size_t frac = pos_;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      if (pos_ == frac) return false;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (!eat('+')) eat('-');
      size_t exp = pos_;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      if (pos_ == exp) return false;
    }
    return pos_ > start;
  }

  // Skips a nested object or array, strings included, checking only that
  // brackets and quotes balance: the store writes these with a real encoder.
  bool skip_compound() {
    std::string closers;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '"') {
        if (!string(nullptr)) return false;
        continue;
      }
      ++pos_;
      if (c == '{') closers += '}';
      if (c == '[') closers += ']';
      if (c == '}' || c == ']') {
        if (closers.empty() || closers.back() != c) return false;
        closers.pop_back();
        if (closers.empty()) return true;
      }
    }
    return false;
  }

  static void append_utf8(std::string& out, unsigned long cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xc0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += char(0xe0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3f));
      out += char(0x80 | (cp & 0x3f));
    } else {
      out += char(0xf0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3f));
      out += char(0x80 | ((cp >> 6) & 0x3f));
      out += char(0x80 | (cp & 0x3f));
    }
  }

  bool hex4(unsigned long* out) {
    if (pos_ + 4 > text_.size()) return false;
    std::string digits(text_.substr(pos_, 4));
    char* end = nullptr;
    *out = std::strtoul(digits.c_str(), &end, 16);
    if (end != digits.c_str() + 4) return false;
    pos_ += 4;
    return true;
  }

  // Reads a string literal; decodes it into `out` unless that is null.
  bool string(std::string* out) {
    if (!eat('"')) return false;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        if (out) *out += c;
        continue;
      }
      if (pos_ >= text_.size()) return false;
      char e = text_[pos_++];
      char plain = 0;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          plain = e;
          break;
        case 'n':
          plain = '\n';
          break;
        case 't':
          plain = '\t';
          break;
        case 'r':
          plain = '\r';
          break;
        case 'b':
          plain = '\b';
          break;
        case 'f':
          plain = '\f';
          break;
        case 'u': {
          unsigned long cp = 0;
          if (!hex4(&cp)) return false;
          if (cp >= 0xd800 && cp < 0xdc00 && text_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            unsigned long low = 0;
            if (!hex4(&low)) return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          if (out) append_utf8(*out, cp);
          continue;
        }
        default:
          return false;
      }
      if (out) *out += plain;
    }
    return false;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<std::vector<JsonMember>> parse_json_object(std::string_view text) {
  std::vector<JsonMember> members;
  Reader reader(text);
  if (!reader.object(members)) return std::nullopt;
  return members;
}

const JsonMember* find_member(const std::vector<JsonMember>& members, std::string_view name) {
  for (const JsonMember& m : members)
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace runbook::store
