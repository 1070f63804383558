#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace runbook {

// A JSON-like value: what params, `with:` maps and expressions work on.
class Value {
 public:
  using List = std::vector<Value>;
  using Map = std::map<std::string, Value>;
  using Storage = std::variant<std::monostate, bool, int64_t, double, std::string, List, Map>;

  Value() = default;
  Value(bool b) : v_(b) {}
  Value(int64_t i) : v_(i) {}
  Value(int i) : v_(int64_t{i}) {}
  Value(double d) : v_(d) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(List l) : v_(std::move(l)) {}
  Value(Map m) : v_(std::move(m)) {}

  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_int() const { return std::holds_alternative<int64_t>(v_); }
  bool is_double() const { return std::holds_alternative<double>(v_); }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_list() const { return std::holds_alternative<List>(v_); }
  bool is_map() const { return std::holds_alternative<Map>(v_); }

  // Accessors; calling the wrong one is a programmer error (std::bad_variant_access).
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_number() const { return is_int() ? double(as_int()) : std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const List& as_list() const { return std::get<List>(v_); }
  const Map& as_map() const { return std::get<Map>(v_); }
  List& as_list() { return std::get<List>(v_); }
  Map& as_map() { return std::get<Map>(v_); }

  const Storage& storage() const { return v_; }

  // JSON text. Strings are escaped; doubles print shortest-round-trip.
  std::string to_json() const;
  // How the value reads when put into a string: strings as they are, numbers and
  // booleans as JSON, null as "", lists and maps as JSON.
  std::string to_text() const;

  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }

 private:
  Storage v_;
};

}  // namespace runbook
