// SPDX-License-Identifier: MIT
// The HTTP server's bounds, over real sockets on 127.0.0.1: connections beyond the limit are
// closed at once (and counted), a client that sends nothing is dropped after the read timeout,
// and the slot it held serves the next client.
#include "server/http_server.hpp"

#include "util/http_client.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace rollback;

namespace {

int connect_idle(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    return fd;
}

} // namespace

TEST_SUITE("server") {
    TEST_CASE("at the bound the idle connection makes room and an idle client times out") {
        server::Metrics metrics;
        server::ServerOptions o;
        o.port = 0;
        o.max_connections = 1;
        o.read_timeout = std::chrono::milliseconds(700);
        server::HttpServer srv(
            o,
            [](const server::Request& r) {
                server::Response resp;
                resp.body = r.path;
                return resp;
            },
            metrics);
        srv.start();
        util::RealHttpClient http;
        util::HttpRequest req;
        req.url = "http://127.0.0.1:" + std::to_string(srv.port()) + "/healthz";
        req.timeout = std::chrono::seconds(5);

        const int idle = connect_idle(srv.port()); // holds the only slot, sends nothing
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        auto served = http.send(req); // the idle connection is closed for it
        CHECK(served.status == 200);
        CHECK(served.body == "/healthz");
        CHECK(metrics.render().find("rollback_http_connections_evicted_total 1\n") !=
              std::string::npos);
        char byte;
        CHECK(::recv(idle, &byte, 1, 0) == 0); // the server closed the idle connection
        ::close(idle);

        const int idle2 = connect_idle(srv.port());
        std::this_thread::sleep_for(std::chrono::milliseconds(900)); // past the read timeout
        CHECK(::recv(idle2, &byte, 1, 0) == 0);                      // closed by the read timeout
        ::close(idle2);
        served = http.send(req);
        CHECK(served.status == 200);
        srv.stop();
    }

    TEST_CASE("HEAD is answered with the header only and the connection stays usable") {
        server::Metrics metrics;
        server::ServerOptions o;
        o.port = 0;
        server::HttpServer srv(
            o,
            [](const server::Request& r) {
                server::Response resp;
                resp.body = r.method + " " + r.path;
                return resp;
            },
            metrics);
        srv.start();
        const int fd = connect_idle(srv.port());
        const std::string requests =
            "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        REQUIRE(::send(fd, requests.data(), requests.size(), 0) ==
                static_cast<ssize_t>(requests.size()));
        std::string got;
        char buf[4096];
        for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
            got.append(buf, static_cast<size_t>(n));
        }
        ::close(fd);
        srv.stop();
        const auto end = got.find("\r\n\r\n");
        REQUIRE(end != std::string::npos);
        const std::string head = got.substr(0, end);
        CHECK(head.rfind("HTTP/1.1 200", 0) == 0);
        CHECK(head.find("Content-Length: 13") != std::string::npos); // "HEAD /healthz"
        // The next bytes are the GET's answer, not a body.
        const std::string rest = got.substr(end + 4);
        CHECK(rest.rfind("HTTP/1.1 200", 0) == 0);
        CHECK(rest.substr(rest.size() - 12) == "GET /healthz");
    }
}
