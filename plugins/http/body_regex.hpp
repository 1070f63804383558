#pragma once

// The regex of expect_body: ECMAScript syntax, searched anywhere in the
// body, with ^ and $ matching at line ends too.
//
// Boost.Regex, not std::regex: libstdc++'s matcher recurses once per
// character and overflows the thread's stack (killing the engine with it)
// on a pattern like ".*z" over a body of some 30 KB. Boost's matcher keeps
// its state on the heap and gives up, with an error, on a pathological
// pattern instead of running for ever.

#include <memory>
#include <optional>
#include <string>

namespace runbook::http {

class BodyRegex {
 public:
  // Compiles `pattern`; nullopt with `why` set when it is not a regex.
  static std::optional<BodyRegex> compile(const std::string& pattern, std::string* why);

  // Whether the pattern matches somewhere in `text`; nullopt with `why` set
  // when matching was given up as too complex.
  std::optional<bool> search(const std::string& text, std::string* why) const;

 private:
  struct Compiled;
  explicit BodyRegex(std::shared_ptr<const Compiled> compiled) : compiled_(std::move(compiled)) {}
  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace runbook::http
