// SPDX-License-Identifier: MIT
#pragma once

// A tiny real HTTP/1.1 server on 127.0.0.1 for tests: a random free port, scripted responses per
// path, and a log of every request received. One thread accepts; each connection is served by
// its own thread, one request per connection (`Connection: close`).
//
//   rollback::test::HttpTestServer server;
//   server.on("/health/", {{.status = 500}, {.status = 200, .body = "ok"}}); // 500, then 200
//   forever server.on("/hook", [](const TestRequest& r) { return TestResponse{.status = 204}; });
//   ... http_request({.url = server.url("/health/")}) ...
//   CHECK(server.requests("/health/").size() == 2);
//
// Unscripted paths answer 404 with body "no route for <path>". The destructor stops the server
// and joins every thread (a pending `delay` is cut short).

#include "util/http_client.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace rollback::test {

struct TestRequest {
    std::string method{}; ///< "GET", "POST", ...
    std::string target{}; ///< as received: path and query
    std::string path{};   ///< target without the query
    util::HttpHeaders headers{};
    std::string body{};
    /// The first header named `name` (case-insensitive), or nullopt.
    std::optional<std::string> header(std::string_view name) const;
};

struct TestResponse {
    int status = 200;
    std::string body{};
    util::HttpHeaders headers{};        ///< Content-Length and Connection are set by the server
    std::chrono::milliseconds delay{0}; ///< wait this long before answering (timeouts, slowness)
    bool drop = false;                  ///< close the connection without answering
};

class HttpTestServer {
  public:
    using Handler = std::function<TestResponse(const TestRequest&)>;

    /// Listens on 127.0.0.1 on a free port chosen by the kernel and starts serving.
    HttpTestServer();
    ~HttpTestServer();
    HttpTestServer(const HttpTestServer&) = delete;
    HttpTestServer& operator=(const HttpTestServer&) = delete;

    std::uint16_t port() const { return m_port; }
    /// "http://127.0.0.1:<port><path>"; `path` should start with '/'.
    std::string url(std::string_view path = "/") const;

    /// Requests to `path` get `responses` in order; the last one repeats. Replaces earlier scripts.
    void on(const std::string& path, std::vector<TestResponse> responses);
    /// Requests to `path` are answered by `handler` (called on a connection thread).
    void on(const std::string& path, Handler handler);

    /// Every request received so far, in arrival order (optionally only those to `path`).
    std::vector<TestRequest> requests() const;
    std::vector<TestRequest> requests(std::string_view path) const;
    /// Waits until at least `n` requests arrived; false on timeout.
    bool wait_for_requests(size_t n, std::chrono::milliseconds timeout) const;

  private:
    struct Impl;
    void accept_loop();
    void serve(int fd);
    TestResponse respond(const TestRequest& request);

    std::unique_ptr<Impl> m_impl;
    std::uint16_t m_port = 0;
    std::atomic<bool> m_stopping{false};
    mutable std::mutex m_mutex;
    std::map<std::string, Handler> m_handlers;
    std::vector<TestRequest> m_requests;
    std::vector<std::thread> m_connections;
    std::thread m_acceptor;
};

/// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read, close), for
/// programs the test starts itself (supervisord, python3 -m http.server).
std::uint16_t free_tcp_port();

} // namespace rollback::test
