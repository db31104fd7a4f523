// SPDX-License-Identifier: MIT
#include "support/http_test_server.hpp"

#include <arpa/inet.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace rollback::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

int listen_on_loopback(std::uint16_t port, std::uint16_t* bound_port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw std::runtime_error("socket() failed");
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    *bound_port = ntohs(addr.sin_port);
    return fd;
}

} // namespace

std::optional<std::string> TestRequest::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (iequals(k, name)) {
            return v;
        }
    }
    return std::nullopt;
}

struct HttpTestServer::Impl {
    int listen_fd = -1;
};

HttpTestServer::HttpTestServer() : m_impl(std::make_unique<Impl>()) {
    m_impl->listen_fd = listen_on_loopback(0, &m_port);
    m_acceptor = std::thread([this] { accept_loop(); });
}

HttpTestServer::~HttpTestServer() {
    m_stopping = true;
    m_acceptor.join();
    std::vector<std::thread> connections;
    {
        std::lock_guard lock(m_mutex);
        connections.swap(m_connections);
    }
    for (auto& t : connections) {
        t.join();
    }
    ::close(m_impl->listen_fd);
}

std::string HttpTestServer::url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(m_port) + std::string(path);
}

void HttpTestServer::on(const std::string& path, std::vector<TestResponse> responses) {
    if (responses.empty()) {
        responses.push_back(TestResponse{});
    }
    auto script = std::make_shared<std::vector<TestResponse>>(std::move(responses));
    auto next = std::make_shared<size_t>(0);
    // Called under m_mutex (see respond), so the counter needs no lock of its own.
    on(path, [script, next](const TestRequest&) {
        size_t i = std::min(*next, script->size() - 1);
        ++*next;
        return (*script)[i];
    });
}

void HttpTestServer::on(const std::string& path, Handler handler) {
    std::lock_guard lock(m_mutex);
    m_handlers[path] = std::move(handler);
}

std::vector<TestRequest> HttpTestServer::requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
}

std::vector<TestRequest> HttpTestServer::requests(std::string_view path) const {
    std::lock_guard lock(m_mutex);
    std::vector<TestRequest> out;
    for (const auto& r : m_requests) {
        if (r.path == path) {
            out.push_back(r);
        }
    }
    return out;
}

bool HttpTestServer::wait_for_requests(size_t n, std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        {
            std::lock_guard lock(m_mutex);
            if (m_requests.size() >= n) {
                return true;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::lock_guard lock(m_mutex);
    return m_requests.size() >= n;
}

void HttpTestServer::accept_loop() {
    // poll() with a short timeout instead of a blocking accept: the destructor only has to set
    // m_stopping, no self-connection or fd shutdown trick.
    while (!m_stopping) {
        pollfd p{m_impl->listen_fd, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) {
            continue;
        }
        int fd = ::accept4(m_impl->listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        std::lock_guard lock(m_mutex);
        m_connections.emplace_back([this, fd] { serve(fd); });
    }
}

TestResponse HttpTestServer::respond(const TestRequest& request) {
    {
        std::lock_guard lock(m_mutex);
        m_requests.push_back(request);
        auto it = m_handlers.find(request.path);
        if (it == m_handlers.end()) {
            return TestResponse{.status = 404, .body = "no route for " + request.path};
        }
        // Scripted handlers keep their position counter; calling under the lock keeps the order
        // of responses equal to the order of requests.
        return it->second(request);
    }
}

void HttpTestServer::serve(int fd) {
    // A client that connects and never sends must not hang the destructor.
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    boost::system::error_code ec;
    socket.assign(asio::ip::tcp::v4(), fd, ec);
    if (ec) {
        ::close(fd);
        return;
    }
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::read(socket, buffer, req, ec);
    if (ec) {
        return;
    }
    TestRequest recorded;
    recorded.method = std::string(req.method_string());
    recorded.target = std::string(req.target());
    recorded.path = recorded.target.substr(0, recorded.target.find('?'));
    for (const auto& field : req) {
        recorded.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    recorded.body = req.body();

    TestResponse answer = respond(recorded);
    auto until = std::chrono::steady_clock::now() + answer.delay;
    while (!m_stopping && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (answer.drop || m_stopping) {
        socket.close(ec);
        return;
    }
    http::response<http::string_body> res;
    res.version(11);
    res.result(static_cast<unsigned>(answer.status));
    for (const auto& [k, v] : answer.headers) {
        res.insert(k, v);
    }
    res.set(http::field::connection, "close");
    res.body() = answer.body;
    res.prepare_payload();
    http::write(socket, res, ec);
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
}

std::uint16_t free_tcp_port() {
    std::uint16_t port = 0;
    int fd = listen_on_loopback(0, &port);
    ::close(fd);
    return port;
}

} // namespace rollback::test
