#pragma once

#include <utility>
#include <variant>

namespace runbook {

struct ExprError;  // runbook/expr.hpp, the default error

// A value or an error, like C++23's std::expected.
template <class T, class E = ExprError>
class Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Expected(E error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  // Calling the wrong one is a programmer error (std::bad_variant_access).
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

}  // namespace runbook
