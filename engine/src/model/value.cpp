#include "runbook/value.hpp"
#include "util/json_text.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace runbook {

namespace {

void append_double(std::string& out, double d) {
  // JSON has no NaN or infinity.
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
  out.append(buf.data(), ec == std::errc{} ? end : buf.data());
}

void append_json(std::string& out, const Value& v) {
  const Value::Storage& s = v.storage();
  if (std::holds_alternative<std::monostate>(s)) {
    out += "null";
  } else if (const bool* b = std::get_if<bool>(&s)) {
    out += *b ? "true" : "false";
  } else if (const int64_t* i = std::get_if<int64_t>(&s)) {
    out += std::to_string(*i);
  } else if (const double* d = std::get_if<double>(&s)) {
    append_double(out, *d);
  } else if (const std::string* str = std::get_if<std::string>(&s)) {
    append_json_string(out, *str);
  } else if (const Value::List* list = std::get_if<Value::List>(&s)) {
    out += '[';
    for (size_t k = 0; k < list->size(); ++k) {
      if (k > 0) out += ',';
      append_json(out, (*list)[k]);
    }
    out += ']';
  } else if (const Value::Map* map = std::get_if<Value::Map>(&s)) {
    out += '{';
    bool first = true;
    for (const auto& [key, item] : *map) {
      if (!first) out += ',';
      first = false;
      append_json_string(out, key);
      out += ':';
      append_json(out, item);
    }
    out += '}';
  }
}

}  // namespace

std::string Value::to_json() const {
  std::string out;
  append_json(out, *this);
  return out;
}

std::string Value::to_text() const {
  if (is_null()) return {};
  if (is_string()) return as_string();
  return to_json();
}

}  // namespace runbook
