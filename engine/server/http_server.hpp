// SPDX-License-Identifier: MIT
#pragma once

// A small HTTP/1.1 server (Boost.Beast) on its own thread, for `rollback monitor`: bounded
// connections, a read timeout, a body limit (413), bearer-token authentication compared in
// constant time (401), and one handler for everything that passes. It never calls back into
// the caller except through the handler, which must be quick and thread-safe.

#include "server/metrics.hpp"
#include "util/duration.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace rollback::server {

struct Request {
    std::string method; ///< "GET", "POST", ...
    std::string path;   ///< the target without its query string
    std::string body;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    /// What the request came to, for the metrics: "accepted", "bad_request", ... ("" = none).
    std::string outcome;
};

struct ServerOptions {
    std::string host = "127.0.0.1"; ///< an IP literal
    uint16_t port = 9095;           ///< 0: any free port (see HttpServer::port)
    std::string token;              ///< "" = no authentication
    /// Paths answered without a token even when one is set (a liveness probe).
    std::vector<std::string> open_paths = {"/healthz"};
    /// Paths named in the metrics' `path` label (others are "other", so a scanner cannot grow
    /// the series without bound).
    std::vector<std::string> paths = {"/healthz", "/metrics"};
    /// Paths whose requests are also counted in rollback_webhook_requests_total{outcome}.
    std::vector<std::string> webhook_paths;
    uint64_t max_body = 1024 * 1024;
    int max_connections = 32;
    util::Millis read_timeout{std::chrono::seconds(10)};
};

using Handler = std::function<Response(const Request&)>;

class HttpServer {
  public:
    /// Binds and listens (so a taken port is an error now, not later); does not serve yet.
    /// `metrics` receives rollback_http_requests_total{path,code},
    /// rollback_http_auth_failures_total{reason} and rollback_webhook_requests_total{outcome}.
    /// Throws util::Error when it cannot listen.
    HttpServer(ServerOptions options, Handler handler, Metrics& metrics);
    ~HttpServer(); ///< stops
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// The port listened on.
    uint16_t port() const;
    /// Serves on a new thread (all signals blocked on it).
    void start();
    /// Stops serving and joins the thread; open connections are closed.
    void stop();

  private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

/// True when `given` equals `expected`, in time independent of where they differ (both are
/// hashed first, so their lengths do not leak either).
bool token_equal(std::string_view given, std::string_view expected);

} // namespace rollback::server
