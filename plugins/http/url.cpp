#include "url.hpp"

#include <algorithm>
#include <cctype>

namespace runbook::http {

namespace {

bool fail(std::string* why, const std::string& message) {
  if (why) *why = message;
  return false;
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

bool valid_port(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  int value = std::stoi(std::string(port));
  return value >= 1 && value <= 65535;
}

bool valid_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

// Splits "host[:port]" (IPv6 in brackets) into `url`.
bool parse_authority(std::string_view authority, Url& url, std::string* why) {
  if (authority.find('@') != std::string_view::npos)
    return fail(why, "credentials in the URL are not supported; set an Authorization header");
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail(why, "unclosed '[' in the host");
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail(why, "unexpected text after the host");
      port = rest.substr(1);
      has_port = true;
    }
    if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos)
      return fail(why, "malformed IPv6 address");
  } else {
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return fail(why, "the URL has no host");
    if (!std::all_of(host.begin(), host.end(), valid_host_char))
      return fail(why, "the host '" + std::string(host) + "' has characters a host cannot have");
  }
  if (has_port && !valid_port(port))
    return fail(why, "the port '" + std::string(port) + "' is not a number from 1 to 65535");
  url.host.assign(host);
  std::transform(url.host.begin(), url.host.end(), url.host.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  url.port = port.empty() ? (url.tls ? "443" : "80") : std::string(port);
  return true;
}

}  // namespace

std::string Url::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + port;
}

std::string Url::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port = port == (tls ? "443" : "80");
  return default_port ? h : h + ":" + port;
}

std::string Url::text() const {
  return (tls ? "https://" : "http://") + host_header() + target;
}

std::optional<Url> parse_url(std::string_view text, std::string* why) {
  Url url;
  if (starts_with_nocase(text, "http://")) {
    text.remove_prefix(7);
  } else if (starts_with_nocase(text, "https://")) {
    url.tls = true;
    text.remove_prefix(8);
  } else {
    fail(why, "must start with http:// or https://");
    return std::nullopt;
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      fail(why, "must not contain spaces or control characters");
      return std::nullopt;
    }
  }
  size_t end = text.find_first_of("/?#");
  if (!parse_authority(text.substr(0, end), url, why)) return std::nullopt;
  std::string_view rest = end == std::string_view::npos ? "" : text.substr(end);
  rest = rest.substr(0, rest.find('#'));
  url.target = rest.empty() || rest.front() != '/' ? "/" + std::string(rest) : std::string(rest);
  return url;
}

std::optional<Url> resolve_location(const Url& base, std::string_view location, std::string* why) {
  if (starts_with_nocase(location, "http://") || starts_with_nocase(location, "https://"))
    return parse_url(location, why);
  if (location.substr(0, 2) == "//")
    return parse_url(std::string(base.tls ? "https:" : "http:") + std::string(location), why);
  if (location.find("://") != std::string_view::npos) {
    fail(why, "redirect to a URL that is not http or https: " + std::string(location));
    return std::nullopt;
  }
  Url url = base;
  std::string_view rest = location.substr(0, location.find('#'));
  if (!rest.empty() && rest.front() == '/') {
    url.target = std::string(rest);
  } else if (!rest.empty() && rest.front() == '?') {
    url.target = base.target.substr(0, base.target.find('?')) + std::string(rest);
  } else {
    std::string path = base.target.substr(0, base.target.find('?'));
    url.target = path.substr(0, path.rfind('/') + 1) + std::string(rest);
  }
  if (url.target.empty()) url.target = "/";
  for (char c : url.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      fail(why, "the redirect's Location has spaces or control characters");
      return std::nullopt;
    }
  }
  return url;
}

}  // namespace runbook::http
