#include "body_regex.hpp"

#include <boost/regex.hpp>
#include <exception>

namespace runbook::http {

struct BodyRegex::Compiled {
  boost::regex regex;
};

std::optional<BodyRegex> BodyRegex::compile(const std::string& pattern, std::string* why) {
  try {
    auto compiled = std::make_shared<Compiled>();
    compiled->regex.assign(pattern, boost::regex::ECMAScript);
    return BodyRegex(std::move(compiled));
  } catch (const std::exception& e) {
    // Boost's message goes on to quote the pattern, which the caller does.
    std::string message = e.what();
    *why = message.substr(0, message.find("  The error occurred"));
    return std::nullopt;
  }
}

std::optional<bool> BodyRegex::search(const std::string& text, std::string* why) const {
  try {
    return boost::regex_search(text, compiled_->regex);
  } catch (const std::exception& e) {
    *why = e.what();
    return std::nullopt;
  }
}

}  // namespace runbook::http
