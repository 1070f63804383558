#include "http_step.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "arguments.hpp"
#include "client.hpp"
#include "expectations.hpp"

namespace runbook::http {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kBodyOutputLimit = size_t{64} * 1024;
constexpr size_t kBodyExcerpt = 1024;
constexpr int kMaxRedirects = 10;
constexpr std::chrono::milliseconds kHostMargin{250};

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

bool has_header(const ClientRequest& request, std::string_view name) {
  for (const auto& header : request.headers) {
    if (same_name(header.first, name)) return true;
  }
  return false;
}

// At most `limit` bytes of `text`, not ending inside a UTF-8 sequence.
std::string cut(const std::string& text, size_t limit) {
  if (text.size() <= limit) return text;
  size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// The request a redirect leads to; false with `why` set when it cannot.
bool redirect(ClientRequest& request, const ClientResponse& response, std::string& why) {
  std::optional<Url> next = resolve_location(request.url, response.location, &why);
  if (!next) return false;
  // 303, and 301/302 after a POST, turn into a GET without a body, as
  // browsers and curl -L do.
  if (response.status == 303 ||
      ((response.status == 301 || response.status == 302) && request.method == "POST")) {
    if (request.method != "HEAD") request.method = "GET";
    request.body.clear();
    request.has_body = false;
    std::erase_if(request.headers, [](const auto& h) {
      return same_name(h.first, "Content-Type") || same_name(h.first, "Content-Length");
    });
  }
  // Credentials go only where they were meant to.
  if (!next->same_origin(request.url)) {
    std::erase_if(request.headers, [](const auto& h) {
      return same_name(h.first, "Authorization") || same_name(h.first, "Cookie") ||
             same_name(h.first, "Proxy-Authorization");
    });
  }
  request.url = std::move(*next);
  return true;
}

ClientRequest make_request(const HttpArguments& args, const sdk::Json& context) {
  ClientRequest request;
  request.method = args.method;
  request.url = args.url;
  request.headers = args.headers;
  if (args.body) {
    request.body = *args.body;
    request.has_body = true;
    if (args.json_body && !has_header(request, "Content-Type"))
      request.headers.emplace_back("Content-Type", "application/json");
  }
  request.max_body = args.max_body;
  request.insecure = args.insecure;
  request.ca_file = args.ca_file;
  // A relative ca_file is read from the step's working directory.
  const sdk::Json& workdir = context.get("workdir");
  if (!request.ca_file.empty() && std::filesystem::path(request.ca_file).is_relative() &&
      workdir.is_string() && !workdir.as_string().empty()) {
    request.ca_file = (std::filesystem::path(workdir.as_string()) / request.ca_file).string();
  }
  return request;
}

int64_t ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// Ends the attempt on a check that does not hold, with the body's start in
// the log to show what came instead.
runbook_status unexpected(sdk::Attempt& attempt, const ClientResponse& response,
                          const std::string& message, bool retryable) {
  attempt.log_error(message + "\n");
  if (!response.body.empty()) {
    std::string excerpt = cut(response.body, kBodyExcerpt);
    if (excerpt.size() < response.body.size()) excerpt += "...";
    attempt.log_error("body: " + excerpt + (excerpt.back() == '\n' ? "" : "\n"));
  }
  return retryable ? attempt.retryable(message) : attempt.fail(message);
}

runbook_status check_answer(sdk::Attempt& attempt, const HttpArguments& args,
                            const ClientResponse& response) {
  attempt.output("status", std::to_string(response.status));
  attempt.output("body", cut(response.body, kBodyOutputLimit));

  if (auto problem = check_status(args.expect_status, response.status))
    return unexpected(attempt, response, *problem, response.status >= 500);
  if (args.expect_body) {
    if (auto problem = check_body(*args.expect_body, response.body))
      return unexpected(attempt, response, *problem, false);
  }
  if (args.expect_json.empty() && args.outputs.empty()) return RUNBOOK_SUCCEEDED;

  std::string parse_error;
  std::optional<sdk::Json> document = sdk::Json::parse(response.body, &parse_error);
  if (response.truncated && !document) parse_error += ", the body was cut at max_body";
  for (const JsonExpectation& expected : args.expect_json) {
    if (auto problem = check_json(expected, document, parse_error))
      return unexpected(attempt, response, *problem, false);
  }
  for (const auto& [name, path] : args.outputs) {
    if (!document) {
      std::string message = "output '" + name + "': body is not JSON (";
      message += parse_error + ")";
      return unexpected(attempt, response, message, false);
    }
    const sdk::Json* value = path.select(*document);
    if (!value) {
      return unexpected(attempt, response, "output '" + name + "': " + path.text() + " is missing",
                        false);
    }
    attempt.output(name, value->to_text());
  }
  return RUNBOOK_SUCCEEDED;
}

}  // namespace

void validate_http_step(const sdk::Json& with, sdk::Validation& validation) {
  std::vector<Problem> problems;
  read_arguments(with, true, problems);
  for (const Problem& problem : problems) validation.error(problem.path, problem.message);
}

runbook_status run_http_step(sdk::Attempt& attempt) {
  std::vector<Problem> problems;
  HttpArguments args = read_arguments(attempt.with(), false, problems);
  if (!problems.empty()) {
    const Problem& first = problems.front();
    return attempt.fail(first.path.empty() ? first.message : first.path + ": " + first.message);
  }

  // The host cancels the attempt when its own time is up, and then calls
  // the end a timeout of the step; ending at the same instant ourselves
  // would race with it and read as a plain failure. So the host's limit
  // gets a short margin as a backstop only.
  std::chrono::milliseconds limit = args.timeout;
  std::chrono::milliseconds backstop = args.timeout;
  if (std::optional<int64_t> remaining = attempt.remaining_ms()) {
    std::chrono::milliseconds left(std::max<int64_t>(*remaining, 0));
    limit = std::min(limit, left);
    backstop = std::min(backstop, left + kHostMargin);
  }
  Clock::time_point deadline = Clock::now() + backstop;
  auto cancelled = [&attempt] { return attempt.cancelled(); };

  ClientRequest request = make_request(args, attempt.context());
  for (int redirects = 0;; ++redirects) {
    Clock::time_point started = Clock::now();
    ClientResponse response = send_request(request, deadline, cancelled);
    std::string line = request.method + " " + request.url.text() + " -> ";
    int64_t took = ms_since(started);

    switch (response.failure) {
      case ClientFailure::none:
        break;
      case ClientFailure::cancelled:
        attempt.log(line + "cancelled after " + std::to_string(took) + " ms\n");
        return attempt.fail("cancelled");
      case ClientFailure::timeout: {
        std::string message = "request timed out after " + std::to_string(limit.count()) + " ms";
        attempt.log(line + message + "\n");
        return attempt.retryable(message);
      }
      default:
        attempt.log(line + "failed after " + std::to_string(took) + " ms: " + response.reason +
                    "\n");
        if (response.failure == ClientFailure::protocol || response.failure == ClientFailure::setup)
          return attempt.fail(response.reason);
        return attempt.retryable(response.reason);
    }

    line += std::to_string(response.status) + " (" + std::to_string(took) + " ms";
    if (response.truncated) line += ", body cut at " + std::to_string(args.max_body) + " bytes";
    attempt.log(line + ")\n");

    if (!args.follow_redirects || !is_redirect(response.status) || response.location.empty())
      return check_answer(attempt, args, response);
    if (redirects == kMaxRedirects)
      return attempt.fail("more than " + std::to_string(kMaxRedirects) + " redirects");
    std::string why;
    if (!redirect(request, response, why))
      return attempt.fail("cannot follow the redirect: " + why);
  }
}

}  // namespace runbook::http
