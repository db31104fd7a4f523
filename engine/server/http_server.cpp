// SPDX-License-Identifier: MIT
#include "server/http_server.hpp"

#include "util/encode.hpp"

#include "util/error.hpp"
#include "util/files.hpp"
#include "util/log.hpp"
#include "util/media_type.hpp"
#include "util/sha256.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <csignal>
#include <list>
#include <pthread.h>
#include <thread>

namespace rollback::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

bool token_equal(std::string_view given, std::string_view expected) {
    const std::string a = util::sha256_hex(given);
    const std::string b = util::sha256_hex(expected);
    unsigned char diff = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    }
    return diff == 0 && a.size() == b.size();
}

namespace {

std::string error_body(std::string_view error) {
    std::string s = "{\"error\":\"";
    for (char c : util::valid_utf8(error)) { // the request's bytes may be any (docs/journal.md)
        if (c == '"' || c == '\\') {
            s += '\\';
            s += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            s += ' ';
        } else {
            s += c;
        }
    }
    return s + "\"}\n";
}

Response reject(int status, std::string_view error, std::string outcome) {
    Response r;
    r.status = status;
    r.body = error_body(error);
    r.outcome = std::move(outcome);
    return r;
}

} // namespace

struct HttpServer::Impl {
    ServerOptions opt;
    Handler handler;
    Metrics& metrics;
    asio::io_context io;
    tcp::acceptor acceptor{io};
    std::thread thread;
    std::atomic<int> connections{0};
    /// The connections waiting for (the rest of) a request, oldest first: at the bound the oldest
    /// is closed for a new one, so idle or slow clients cannot keep Alertmanager, scrapes and
    /// /healthz out. Touched only on the io thread.
    struct Waiting {
        beast::tcp_stream* stream;
        bool listed = true;
    };
    std::list<Waiting*> waiting;
    bool started = false;

    Impl(ServerOptions o, Handler h, Metrics& m)
        : opt(std::move(o)), handler(std::move(h)), metrics(m) {}

    static bool among(const std::vector<std::string>& v, const std::string& s) {
        return std::find(v.begin(), v.end(), s) != v.end();
    }

    void count(const std::string& path, const Response& resp) {
        const bool known = among(opt.paths, path) || among(opt.webhook_paths, path);
        metrics.add("rollback_http_requests_total",
                    {{"path", known ? path : "other"}, {"code", std::to_string(resp.status)}});
        if (among(opt.webhook_paths, path)) {
            metrics.add("rollback_webhook_requests_total",
                        {{"outcome", resp.outcome.empty() ? "other" : resp.outcome}});
        }
    }

    Response authorize_and_handle(const http::request<http::string_body>& req, const Request& r) {
        const bool open = among(opt.open_paths, r.path);
        if (!opt.token.empty() && !open) {
            auto it = req.find(http::field::authorization);
            if (it == req.end()) {
                metrics.add("rollback_http_auth_failures_total", {{"reason", "missing"}});
                return reject(401, "a bearer token is required", "unauthorized");
            }
            std::string_view v(it->value().data(), it->value().size());
            constexpr std::string_view bearer = "Bearer "; // any case (RFC 9110 §11.1)
            if (!util::ascii_istarts_with(v, bearer) ||
                !token_equal(v.substr(bearer.size()), opt.token)) {
                metrics.add("rollback_http_auth_failures_total", {{"reason", "wrong"}});
                log::warn("http: wrong token for {} {}", r.method, r.path);
                return reject(401, "wrong token", "unauthorized");
            }
        }
        try {
            return handler(r);
        } catch (const std::exception& e) {
            log::error("http: {} {}: {}", r.method, r.path, e.what());
            return reject(500, "internal error", "error");
        }
    }

    /// Writes `resp`; to a HEAD request (`head`) its header only, Content-Length included
    /// (RFC 9110 9.3.2: a keep-alive client would read a body as the next response).
    asio::awaitable<bool> send(beast::tcp_stream& stream, const Response& resp, bool keep_alive,
                               const std::string& path, bool head = false) {
        http::response<http::string_body> res{static_cast<http::status>(resp.status), 11};
        res.set(http::field::server, "rollback");
        res.set(http::field::content_type, resp.content_type);
        if (resp.status == 401) {
            res.set(http::field::www_authenticate, "Bearer");
        }
        res.keep_alive(keep_alive);
        res.body() = resp.body;
        res.prepare_payload();
        count(path, resp);
        stream.expires_after(opt.read_timeout);
        beast::error_code ec;
        if (head) {
            http::response<http::empty_body> header_only{std::move(res.base())};
            co_await http::async_write(stream, header_only,
                                       asio::redirect_error(asio::use_awaitable, ec));
        } else {
            co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
        }
        co_return !ec && keep_alive;
    }

    asio::awaitable<void> session(tcp::socket socket) {
        beast::tcp_stream stream(std::move(socket));
        beast::flat_buffer buffer;
        struct Release {
            std::atomic<int>& n;
            ~Release() { --n; }
        } release{connections};
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(16 * 1024);
            parser.body_limit(opt.max_body);
            stream.expires_after(opt.read_timeout);
            beast::error_code ec;
            Waiting w{&stream};
            const auto me = waiting.insert(waiting.end(), &w);
            co_await http::async_read(stream, buffer, parser,
                                      asio::redirect_error(asio::use_awaitable, ec));
            if (w.listed) {
                waiting.erase(me);
            }
            if (ec == asio::error::operation_aborted) {
                break; // closed for a newer connection (accept_loop)
            }
            if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
                ec == asio::error::connection_reset || ec == asio::error::eof) {
                break;
            }
            // The request line is parsed before a body limit or a bad header is noticed.
            std::string_view t(parser.get().target().data(), parser.get().target().size());
            std::string path = t.empty() ? "other" : std::string(t.substr(0, t.find('?')));
            if (ec == http::error::body_limit) {
                co_await send(stream,
                              reject(413,
                                     "the body is longer than max_body (" +
                                         std::to_string(opt.max_body) + " bytes)",
                                     "too_large"),
                              false, path);
                break;
            }
            if (ec) {
                co_await send(stream,
                              reject(400, "malformed HTTP request: " + ec.message(), "bad_request"),
                              false, path);
                break;
            }
            const auto& req = parser.get();
            Request r;
            r.method = std::string(req.method_string());
            r.path = path;
            r.body = req.body();
            Response resp = authorize_and_handle(req, r);
            if (!co_await send(stream, resp, req.keep_alive(), path,
                               req.method() == http::verb::head)) {
                break;
            }
        }
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            beast::error_code ec;
            tcp::socket socket =
                co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
            if (ec == asio::error::operation_aborted) {
                co_return;
            }
            if (ec) {
                continue; // EMFILE and the like: the next accept may succeed
            }
            util::close_on_exec(socket.native_handle()); // Asio's accept(2) does not

            bool made_room = false;
            if (connections.load() >= opt.max_connections && !waiting.empty()) {
                // At the bound: the connection that has waited longest for a request makes
                // room (its read ends with operation_aborted and its session closes it).
                metrics.add("rollback_http_connections_evicted_total", {});
                Waiting* oldest = waiting.front();
                waiting.pop_front();
                oldest->listed = false;
                beast::error_code ignored;
                oldest->stream->socket().cancel(ignored);
                made_room = true; // its session ends (and counts itself out) at its next turn
            }
            if (!made_room && connections.load() >= opt.max_connections) {
                // Over the bound (every connection busy with a request): closed at once rather
                // than queued behind slow clients.
                metrics.add("rollback_http_connections_refused_total", {});
                beast::error_code ignored;
                socket.close(ignored);
                continue;
            }
            ++connections;
            asio::co_spawn(io, session(std::move(socket)), asio::detached);
        }
    }
};

HttpServer::HttpServer(ServerOptions options, Handler handler, Metrics& metrics)
    : m(std::make_unique<Impl>(std::move(options), std::move(handler), metrics)) {
    metrics.declare("rollback_http_requests_total", MetricType::counter,
                    "HTTP requests answered by the monitor, by path and status code.");
    metrics.declare("rollback_http_connections_evicted_total", MetricType::counter,
                    "Connections waiting for a request closed at the connection bound to make "
                    "room for a new one.");
    metrics.declare("rollback_http_auth_failures_total", MetricType::counter,
                    "HTTP requests refused for a missing or wrong bearer token.");
    metrics.declare("rollback_webhook_requests_total", MetricType::counter,
                    "Webhook requests by outcome: accepted, bad_request, unauthorized, too_large, "
                    "unavailable.");
    metrics.declare("rollback_http_connections_refused_total", MetricType::counter,
                    "HTTP connections closed at once because max connections were open.");
    // Every series whose labels are known in advance is 0 from the start: rate() and increase()
    // see the first event (Prometheus takes a series' first sample as its start, not a jump).
    metrics.add("rollback_http_connections_evicted_total", {}, 0);
    metrics.add("rollback_http_connections_refused_total", {}, 0);
    for (const char* reason : {"missing", "wrong"}) {
        metrics.add("rollback_http_auth_failures_total", {{"reason", reason}}, 0);
    }
    for (const char* outcome :
         {"accepted", "bad_request", "unauthorized", "too_large", "unavailable"}) {
        metrics.add("rollback_webhook_requests_total", {{"outcome", outcome}}, 0);
    }
    beast::error_code ec;
    auto addr = asio::ip::make_address(m->opt.host, ec);
    if (ec) {
        throw util::Error("[server] listen: " + m->opt.host + ": " + ec.message());
    }
    tcp::endpoint ep(addr, m->opt.port);
    m->acceptor.open(ep.protocol(), ec);
    if (!ec) {
        util::close_on_exec(m->acceptor.native_handle()); // Asio's socket(2) does not
        m->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        m->acceptor.bind(ep, ec);
    }
    if (!ec) {
        m->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        throw util::Error("[server] cannot listen on " + ep.address().to_string() + " port " +
                              std::to_string(m->opt.port) + ": " + ec.message(),
                          util::ExitCode::invalid,
                          "another process may listen there: change [server] listen");
    }
}

HttpServer::~HttpServer() {
    stop();
}

uint16_t HttpServer::port() const {
    return m->acceptor.local_endpoint().port();
}

void HttpServer::start() {
    if (m->started) {
        return;
    }
    m->started = true;
    asio::co_spawn(m->io, m->accept_loop(), asio::detached);
    m->thread = std::thread([this] {
        // Signals (SIGTERM, SIGHUP) are the monitor loop's to take.
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, nullptr);
        m->io.run();
    });
}

void HttpServer::stop() {
    if (!m || !m->started) {
        return;
    }
    m->io.stop();
    if (m->thread.joinable()) {
        m->thread.join();
    }
    m->started = false;
}

} // namespace rollback::server
