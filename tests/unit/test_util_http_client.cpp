// SPDX-License-Identifier: MIT
#include "util/http_client.hpp"

#include "support/http_test_server.hpp"

#include <doctest/doctest.h>

using namespace rollback;
using namespace std::chrono_literals;

TEST_SUITE("util") {
    TEST_CASE("parse_http_url accepts http URLs and explains the rest") {
        auto u = util::parse_http_url("http://127.0.0.1:8000/health/?full=1#frag");
        REQUIRE(u);
        CHECK(u->host == "127.0.0.1");
        CHECK(u->port == 8000);
        CHECK(u->target == "/health/?full=1");

        u = util::parse_http_url("HTTP://shop.example");
        REQUIRE(u);
        CHECK(u->host == "shop.example");
        CHECK(u->port == 80);
        CHECK(u->target == "/");

        u = util::parse_http_url("http://[::1]:9/x");
        REQUIRE(u);
        CHECK(u->host == "::1");
        CHECK(u->port == 9);

        std::string why;
        auto tls = util::parse_http_url("HTTPS://shop.example/health/");
        REQUIRE(tls);
        CHECK(tls->tls);
        CHECK(tls->port == 443);
        CHECK(tls->host == "shop.example");
        CHECK_FALSE(util::parse_http_url("ftp://x/", &why));
        CHECK(why == "expected a URL starting with http:// or https://");
        CHECK_FALSE(util::parse_http_url("https://", &why));
        CHECK(why == "missing host");
        CHECK_FALSE(util::parse_http_url("http://:80/", &why));
        CHECK(why == "missing host");
        CHECK_FALSE(util::parse_http_url("http://h:99999/", &why));
        CHECK(why == "invalid port \"99999\"");
        CHECK_FALSE(util::parse_http_url("http://h:8a/", &why));
        CHECK_FALSE(util::parse_http_url("http://u:p@h/", &why));
        CHECK(why.find("Authorization") != std::string::npos);
    }

    TEST_CASE("url_encode keeps unreserved characters and encodes every other byte") {
        CHECK(util::url_encode("AZaz09-._~") == "AZaz09-._~");
        CHECK(util::url_encode("sum(rate(x{code=~\"5..\"}[5m])) / 2") ==
              "sum%28rate%28x%7Bcode%3D~%225..%22%7D%5B5m%5D%29%29%20%2F%202");
        CHECK(util::url_encode("a&b=c+d%\xc3\xa9") == "a%26b%3Dc%2Bd%25%C3%A9");
        CHECK(util::url_encode("") == "");
    }

    TEST_CASE("GET and POST against a real server — with headers and the request log") {
        test::HttpTestServer server;
        server.on("/health/", {{.status = 200, .body = "ok", .headers = {{"X-Release", "v1"}}}});
        server.on("/orders", [](const test::TestRequest& r) {
            return test::TestResponse{.status = 201, .body = "got " + r.body};
        });

        auto r = util::http_request({.url = server.url("/health/?deep=1")});
        CHECK(r.received());
        CHECK(r.error == "");
        CHECK(r.status == 200);
        CHECK(r.body == "ok");
        CHECK(r.stage == util::HttpStage::done);
        CHECK_FALSE(r.cause);
        CHECK(r.header("x-release") == "v1");
        CHECK(r.elapsed < 2s);

        util::RealHttpClient client;
        r = client.send({.method = "POST",
                         .url = server.url("/orders"),
                         .headers = {{"Content-Type", "application/json"}, {"X-Token", "t"}},
                         .body = R"({"sku":1})"});
        CHECK(r.status == 201);
        CHECK(r.body == R"(got {"sku":1})");

        auto log = server.requests();
        REQUIRE(log.size() == 2);
        CHECK(log[0].method == "GET");
        CHECK(log[0].target == "/health/?deep=1");
        CHECK(log[0].path == "/health/");
        CHECK(log[0].header("Host") == "127.0.0.1:" + std::to_string(server.port()));
        CHECK(log[1].method == "POST");
        CHECK(log[1].header("content-type") == "application/json");
        CHECK(log[1].header("X-Token") == "t");
        CHECK(log[1].header("Content-Length") == "9");
        CHECK(log[1].body == R"({"sku":1})");
    }

    TEST_CASE("scripted responses come in order and the last repeats — unscripted paths are 404") {
        test::HttpTestServer server;
        server.on("/s", {{.status = 500}, {.status = 503}, {.status = 200}});
        std::vector<int> got;
        for (int i = 0; i < 4; ++i) {
            got.push_back(util::http_request({.url = server.url("/s")}).status);
        }
        CHECK(got == std::vector<int>{500, 503, 200, 200});
        auto r = util::http_request({.url = server.url("/nothing")});
        CHECK(r.status == 404);
        CHECK(r.body == "no route for /nothing");
        CHECK(server.requests("/s").size() == 4);
    }

    TEST_CASE("refused — timed out — dropped — unresolvable and https are data — not exceptions") {
        SUBCASE("connection refused") {
            auto r = util::http_request(
                {.url = "http://127.0.0.1:" + std::to_string(test::free_tcp_port()) + "/"});
            CHECK_FALSE(r.received());
            CHECK(r.status == 0);
            CHECK_FALSE(r.timed_out);
            CHECK(r.error.find("Connection refused") != std::string::npos);
            CHECK(r.stage == util::HttpStage::connect);
            CHECK(r.cause == std::errc::connection_refused);
        }
        SUBCASE("timeout") {
            test::HttpTestServer server;
            server.on("/slow", {{.status = 200, .delay = 3s}});
            auto r = util::http_request({.url = server.url("/slow"), .timeout = 200ms});
            CHECK(r.timed_out);
            CHECK(r.status == 0);
            CHECK(r.error == "timed out after 200ms");
            CHECK(r.stage == util::HttpStage::receive);
            CHECK(r.cause == std::errc::timed_out);
            CHECK(r.elapsed >= 190ms);
            CHECK(r.elapsed < 1500ms);
        }
        SUBCASE("connection closed without an answer") {
            test::HttpTestServer server;
            server.on("/drop", {{.drop = true}});
            auto r = util::http_request({.url = server.url("/drop"), .timeout = 2s});
            CHECK_FALSE(r.received());
            CHECK_FALSE(r.timed_out);
            CHECK(r.error.find("read from 127.0.0.1:") == 0);
            CHECK(r.stage == util::HttpStage::receive);
        }
        SUBCASE("unresolvable host") {
            auto r = util::http_request({.url = "http://no-such-host.invalid/", .timeout = 5s});
            CHECK(r.error.find("cannot resolve host \"no-such-host.invalid\"") == 0);
            CHECK(r.stage == util::HttpStage::resolve);
            CHECK_FALSE(util::resolve_host("no-such-host.invalid").empty());
            CHECK(util::resolve_host("127.0.0.1").empty());
            CHECK(util::resolve_host("localhost").empty());
        }
        SUBCASE("https with an unreadable ca_file fails before anything is sent") {
            auto r = util::http_request(
                {.url = "https://127.0.0.1:9/", .tls = {.ca_file = "/nonexistent/ca.pem"}});
            CHECK(r.error.find("cannot load ca_file \"/nonexistent/ca.pem\"") == 0);
            CHECK(r.stage == util::HttpStage::url);
        }
        SUBCASE("https to a plain http server: a handshake failure, not a response") {
            test::HttpTestServer server;
            server.on("/ok", {{.status = 200}});
            auto r = util::http_request(
                {.url = "https://127.0.0.1:" + std::to_string(server.port()) + "/ok",
                 .timeout = 3s});
            CHECK_FALSE(r.received());
            CHECK(r.error.find("TLS handshake with 127.0.0.1:") == 0);
        }
        SUBCASE("response larger than the limit") {
            test::HttpTestServer server;
            server.on("/big", {{.body = std::string(1000, 'x')}});
            auto r = util::http_request({.url = server.url("/big"), .body_limit = 100});
            CHECK(r.error.find("larger than 100 bytes") != std::string::npos);
        }
    }
}
