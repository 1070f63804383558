#include "client.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <exception>
#include <optional>

namespace runbook::http {

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

// How often the exchange looks at `cancelled()`: the ABI asks for 100 ms.
constexpr auto kPoll = std::chrono::milliseconds(50);
constexpr size_t kChunk = size_t{16} * 1024;

std::string describe(const error_code& ec) {
  std::string text = ec.message();
  if (!text.empty()) text[0] = char(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

bool is_http_error(const error_code& ec) {
  return &ec.category() == &bhttp::make_error_code(bhttp::error::end_of_stream).category();
}

// One exchange, start to end, on an io_context of its own. The watchdog
// closes the socket when the deadline passes or the attempt is cancelled;
// every step checks `stopped_` after it resumes, since a close between two
// operations would otherwise go unnoticed.
class Exchange {
 public:
  Exchange(const ClientRequest& request, Clock::time_point deadline,
           const std::function<bool()>& cancelled)
      : request_(request), deadline_(deadline), cancelled_(cancelled) {}

  ClientResponse run() {
    asio::co_spawn(io_, talk(), [this](const std::exception_ptr& error) {
      done_ = true;
      watchdog_.cancel();
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        fail(ClientFailure::transport, std::string("request failed: ") + e.what());
      } catch (...) {
        fail(ClientFailure::transport, "request failed");
      }
    });
    watch();
    io_.run();
    if (stopped_ != ClientFailure::none) {
      response_ = ClientResponse{};
      response_.failure = stopped_;
      response_.reason = stopped_ == ClientFailure::timeout ? "timed out" : "cancelled";
    }
    return response_;
  }

 private:
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : plain_; }
  bool stopped() const { return stopped_ != ClientFailure::none; }

  void fail(ClientFailure failure, std::string reason) {
    response_.failure = failure;
    response_.reason = std::move(reason);
  }

  void watch() {
    if (done_) return;
    if (cancelled_()) return stop(ClientFailure::cancelled);
    Clock::time_point now = Clock::now();
    if (now >= deadline_) return stop(ClientFailure::timeout);
    watchdog_.expires_after(std::min<Clock::duration>(kPoll, deadline_ - now));
    watchdog_.async_wait([this](const error_code& ec) {
      if (!ec) watch();
    });
  }

  void stop(ClientFailure why) {
    stopped_ = why;
    error_code ignored;
    resolver_.cancel();
    socket().close(ignored);
  }

  bool setup_tls(bool host_is_address) {
    const Url& url = request_.url;
    error_code ec;
    tls_context_.emplace(ssl::context::tls_client);
    if (request_.insecure) {
      tls_context_->set_verify_mode(ssl::verify_none, ec);
    } else {
      tls_context_->set_verify_mode(ssl::verify_peer, ec);
      tls_context_->set_default_verify_paths(ec);
      if (!request_.ca_file.empty()) {
        tls_context_->load_verify_file(request_.ca_file, ec);
        if (ec) {
          fail(ClientFailure::setup,
               "cannot load ca_file '" + request_.ca_file + "': " + describe(ec));
          return false;
        }
      }
    }
    tls_.emplace(io_, *tls_context_);
    if (!request_.insecure) tls_->set_verify_callback(ssl::host_name_verification(url.host));
    if (!host_is_address) SSL_set_tlsext_host_name(tls_->native_handle(), url.host.c_str());
    return true;
  }

  asio::awaitable<void> talk() {
    const Url& url = request_.url;
    error_code ec;
    error_code not_address;
    asio::ip::address address = asio::ip::make_address(url.host, not_address);
    if (url.tls && !setup_tls(!not_address)) co_return;

    std::vector<tcp::endpoint> endpoints;
    auto port = static_cast<unsigned short>(std::stoi(url.port));
    if (!not_address) {
      endpoints.emplace_back(address, port);
    } else {
      auto results = co_await resolver_.async_resolve(
          url.host, url.port, asio::redirect_error(asio::use_awaitable, ec));
      if (stopped()) co_return;
      if (ec) {
        fail(ClientFailure::resolve, "cannot resolve '" + url.host + "': " + describe(ec));
        co_return;
      }
      for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }

    co_await asio::async_connect(socket(), endpoints,
                                 asio::redirect_error(asio::use_awaitable, ec));
    if (stopped()) co_return;
    if (ec) {
      fail(ClientFailure::connect, describe(ec) + " (" + url.authority() + ")");
      co_return;
    }
    if (tls_) {
      co_await tls_->async_handshake(ssl::stream_base::client,
                                     asio::redirect_error(asio::use_awaitable, ec));
      if (stopped()) co_return;
      if (ec) {
        fail(ClientFailure::tls,
             "TLS handshake with " + url.authority() + " failed: " + describe(ec));
        co_return;
      }
      co_await exchange(*tls_);
    } else {
      co_await exchange(plain_);
    }
  }

  template <class Stream>
  asio::awaitable<void> exchange(Stream& stream) {
    const Url& url = request_.url;
    error_code ec;
    bhttp::request<bhttp::string_body> req;
    req.version(11);
    req.method_string(request_.method);
    req.target(url.target);
    req.set(bhttp::field::host, url.host_header());
    req.set(bhttp::field::user_agent, "runbook-http/1.0");
    req.set(bhttp::field::accept, "*/*");
    req.set(bhttp::field::connection, "close");
    for (const auto& [name, value] : request_.headers) req.set(name, value);
    if (request_.has_body) {
      req.body() = request_.body;
      req.prepare_payload();
    }
    co_await bhttp::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (stopped()) co_return;
    if (ec) {
      fail(ClientFailure::transport,
           "connection lost while sending (" + url.authority() + "): " + describe(ec));
      co_return;
    }

    boost::beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(boost::none);  // max_body is applied below, by cutting
    if (request_.method == "HEAD") parser.skip(true);
    co_await bhttp::async_read_header(stream, buffer, parser,
                                      asio::redirect_error(asio::use_awaitable, ec));
    if (stopped()) co_return;
    if (ec) co_return read_failed(ec);
    response_.status = int(parser.get().result_int());
    response_.location = std::string(parser.get()[bhttp::field::location]);

    std::string& body = response_.body;
    std::vector<char> chunk(kChunk);
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      co_await bhttp::async_read(stream, buffer, parser,
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (stopped()) co_return;
      if (ec == bhttp::error::need_buffer) ec = {};
      // A TLS peer that closes without close_notify ends a body that runs
      // to the end of the connection; that is how such bodies end.
      if (ec == ssl::error::stream_truncated && parser.need_eof()) parser.put_eof(ec);
      if (ec) co_return read_failed(ec);
      size_t got = chunk.size() - parser.get().body().size;
      size_t room = request_.max_body - body.size();
      body.append(chunk.data(), std::min(got, room));
      if (got > room || (body.size() == request_.max_body && !parser.is_done())) {
        response_.truncated = true;
        break;
      }
    }
  }

  void read_failed(const error_code& ec) {
    const Url& url = request_.url;
    response_.status = 0;
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == ssl::error::stream_truncated) {
      fail(ClientFailure::transport,
           "connection closed before a full answer (" + url.authority() + ")");
    } else if (is_http_error(ec)) {
      fail(ClientFailure::protocol, "malformed HTTP answer: " + describe(ec));
    } else {
      fail(ClientFailure::transport, describe(ec) + " (" + url.authority() + ")");
    }
  }

  const ClientRequest& request_;
  Clock::time_point deadline_;
  const std::function<bool()>& cancelled_;
  asio::io_context io_{1};
  tcp::resolver resolver_{io_};
  tcp::socket plain_{io_};
  std::optional<ssl::context> tls_context_;
  std::optional<ssl::stream<tcp::socket>> tls_;
  asio::steady_timer watchdog_{io_};
  ClientFailure stopped_ = ClientFailure::none;  // why stop() closed the socket
  bool done_ = false;
  ClientResponse response_;
};

}  // namespace

ClientResponse send_request(const ClientRequest& request,
                            std::chrono::steady_clock::time_point deadline,
                            const std::function<bool()>& cancelled) {
  Exchange exchange(request, deadline, cancelled);
  return exchange.run();
}

}  // namespace runbook::http
