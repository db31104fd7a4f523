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
}
