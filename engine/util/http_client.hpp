// SPDX-License-Identifier: MIT
#pragma once

// The project's one HTTP client: small, synchronous, with a deadline for the whole exchange.
// Boost.Beast/Asio/OpenSSL stay inside http_client.cpp; this header has no Boost includes.
// `http://` and `https://` URLs. TLS verifies the server's certificate chain (the system's CA
// store, or `ca_file`) and its name (RFC 6125 via OpenSSL's host check: DNS names and IP
// addresses), sends SNI, and fails with the reason ("certificate has expired", "hostname
// mismatch", "unable to get local issuer certificate"); `insecure` turns verification off.
// Transport failures (refused, timeout, unresolvable host, bad URL, TLS) are data in
// HttpResponse, never exceptions.

#include "util/duration.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace rollback::util {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// A parsed `http[s]://host[:port][/path][?query]` URL.
struct HttpUrl {
    std::string host{};       ///< without brackets for IPv6 literals
    std::uint16_t port = 80;  ///< 443 by default with https
    std::string target = "/"; ///< path and query, as sent in the request line
    bool tls = false;         ///< https://
};

/// Parses an http:// or https:// URL. On failure returns nullopt and, when `problem` is given,
/// stores why ("expected a URL starting with http:// or https://", "missing host", "invalid port
/// \"x\"", ...).
std::optional<HttpUrl> parse_http_url(std::string_view url, std::string* problem = nullptr);

/// `text` percent-encoded for a query component: RFC 3986 unreserved characters are kept, every
/// other byte becomes %XX (a space included).
std::string url_encode(std::string_view text);

/// Empty when `host` resolves (getaddrinfo), else the resolver's message. Sends nothing.
std::string resolve_host(const std::string& host);

/// How an https:// exchange verifies the server.
struct TlsOptions {
    std::string ca_file{}; ///< PEM file of the CAs to trust instead of the system's store
    bool insecure = false; ///< no certificate or name verification (`validate` warns)
};

struct HttpRequest {
    std::string method = "GET";
    std::string url{};     ///< http:// or https://
    HttpHeaders headers{}; ///< sent as given; Host, User-Agent and
                           ///< Content-Length are added when absent
    std::string body{};
    Millis timeout{std::chrono::seconds(10)}; ///< resolve + connect + write + read, in total
    std::size_t body_limit = 4 * 1024 * 1024; ///< larger response bodies fail with an error
    TlsOptions tls{};
};

/// How far an exchange got, in order. A failure in `url` or `resolve` (a timeout while resolving
/// included) never sent anything to the server: it is the caller's side that failed.
enum class HttpStage : std::uint8_t { url, resolve, connect, send, receive, done };

struct HttpResponse {
    int status = 0;        ///< HTTP status; 0 when no response was received (see `error`)
    HttpHeaders headers{}; ///< in received order
    std::string body{};
    Millis elapsed{0};   ///< from start of the request to the end of the response (or failure)
    std::string error{}; ///< empty on a received response; else "connection refused",
                         ///< "timed out after 2s", "cannot resolve host ...", "invalid URL ..."
    bool timed_out = false;
    HttpStage stage = HttpStage::url; ///< where the exchange ended; `done` when received
    std::error_code cause{}; ///< the system error of a transport failure (connection_refused,
                             ///< network_unreachable, ...); empty otherwise

    /// True when a response was received (whatever its status).
    bool received() const { return error.empty(); }
    /// The first header named `name` (case-insensitive), or nullopt.
    std::optional<std::string> header(std::string_view name) const;
};

/// Sends one request and waits for the response, `Connection: close`. Never throws for network
/// or protocol failures (they are in HttpResponse::error); may throw std::bad_alloc.
HttpResponse http_request(const HttpRequest& request);

/// The client interface for code that wants a fake in tests; RealHttpClient calls http_request.
class HttpClient {
  public:
    virtual ~HttpClient() = default;
    virtual HttpResponse send(const HttpRequest& request) = 0;
};

class RealHttpClient final : public HttpClient {
  public:
    HttpResponse send(const HttpRequest& request) override { return http_request(request); }
};

} // namespace rollback::util
