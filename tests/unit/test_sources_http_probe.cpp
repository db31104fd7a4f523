// SPDX-License-Identifier: MIT
// The http source against a real server on 127.0.0.1: what counts as the target failing (a failed
// probe: downtime) and what as the monitor not seeing (unavailable: no data).
#include "sources/http_probe.hpp"

#include "support/http_test_server.hpp"

#include <doctest/doctest.h>

using namespace rollback;
using namespace std::chrono_literals;
using decision::SampleKind;

namespace {

const decision::SystemTime k_now{std::chrono::seconds(1'800'000'000)};

// Answers every request with one canned response: for transport outcomes a real server cannot
// produce on demand (a resolver that hangs, a host without a route to the network).
class CannedClient final : public util::HttpClient {
  public:
    explicit CannedClient(util::HttpResponse r) : m_response(std::move(r)) {}
    util::HttpResponse send(const util::HttpRequest& request) override {
        last = request;
        return m_response;
    }
    util::HttpRequest last;

  private:
    util::HttpResponse m_response;
};

} // namespace

TEST_SUITE("sources") {
    TEST_CASE("http probe: the expected status is a healthy probe with its latency") {
        test::HttpTestServer server;
        server.on("/health/", {{.status = 200, .body = "ok", .delay = 60ms}});
        util::RealHttpClient client;
        auto s = sources::probe_http(client, server.url("/health/"), 200, 1s, k_now);
        CHECK(s.kind == SampleKind::probe);
        CHECK(s.time == k_now);
        CHECK(s.count == 1);
        CHECK(s.errors == 0);
        CHECK(s.value >= 60);
        CHECK(s.value < 1000);
        REQUIRE(s.latency.size() == 1);
        CHECK(s.latency[0].second == 1);
        CHECK(server.requests("/health/").size() == 1);
        CHECK(server.requests("/health/")[0].method == "GET");

        // A target that answers 204 by design is healthy when expect_status says so.
        server.on("/ping", {{.status = 204}});
        s = sources::probe_http(client, server.url("/ping"), 204, 1s, k_now);
        CHECK(s.kind == SampleKind::probe);
        CHECK(s.errors == 0);
    }

    TEST_CASE("http probe: the target failing is a failed probe (downtime)") {
        test::HttpTestServer server;
        util::RealHttpClient client;
        SUBCASE("503") {
            server.on("/health/", {{.status = 503, .body = "down"}});
            auto s = sources::probe_http(client, server.url("/health/"), 200, 1s, k_now);
            CHECK(s.kind == SampleKind::probe);
            CHECK(s.errors == 1);
            CHECK(s.count == 1);
            CHECK(s.detail == "HTTP 503, expected 200");
        }
        SUBCASE("another status than the expected one, even a 2xx") {
            server.on("/health/", {{.status = 200}});
            auto s = sources::probe_http(client, server.url("/health/"), 204, 1s, k_now);
            CHECK(s.kind == SampleKind::probe);
            CHECK(s.errors == 1);
            CHECK(s.detail == "HTTP 200, expected 204");
        }
        SUBCASE("a path the server does not know") {
            auto s = sources::probe_http(client, server.url("/nothing"), 200, 1s, k_now);
            CHECK(s.errors == 1);
            CHECK(s.detail == "HTTP 404, expected 200");
        }
        SUBCASE("connection refused") {
            const std::string url =
                "http://127.0.0.1:" + std::to_string(test::free_tcp_port()) + "/health/";
            auto s = sources::probe_http(client, url, 200, 1s, k_now);
            CHECK(s.kind == SampleKind::probe);
            CHECK(s.errors == 1);
            CHECK(s.detail.find("Connection refused") != std::string::npos);
        }
        SUBCASE("timeout: the latency is the time waited") {
            server.on("/health/", {{.status = 200, .delay = 2s}});
            auto s = sources::probe_http(client, server.url("/health/"), 200, 300ms, k_now);
            CHECK(s.kind == SampleKind::probe);
            CHECK(s.errors == 1);
            CHECK(s.detail == "timed out after 300ms");
            CHECK(s.value >= 290);
            CHECK(s.value < 1500);
        }
        SUBCASE("connection closed without an answer") {
            server.on("/health/", {{.drop = true}});
            auto s = sources::probe_http(client, server.url("/health/"), 200, 1s, k_now);
            CHECK(s.kind == SampleKind::probe);
            CHECK(s.errors == 1);
        }
    }

    TEST_CASE("http probe: the monitor's own failures are no data — not downtime") {
        SUBCASE("a host name that does not resolve") {
            util::RealHttpClient client;
            auto s =
                sources::probe_http(client, "http://no-such-host.invalid/health/", 200, 1s, k_now);
            CHECK(s.kind == SampleKind::unavailable);
            CHECK(s.count == 0);
            CHECK(s.errors == 0);
            CHECK(s.detail.find("cannot resolve host \"no-such-host.invalid\"") == 0);
        }
        SUBCASE("the resolver does not answer in time") {
            util::HttpResponse r;
            r.error = "timed out after 1s";
            r.timed_out = true;
            r.stage = util::HttpStage::resolve;
            CannedClient client(r);
            auto s = sources::probe_http(client, "http://shop.internal/health/", 200, 1s, k_now);
            CHECK(s.kind == SampleKind::unavailable);
            CHECK(s.detail ==
                  "resolving the host of http://shop.internal/health/ timed out after 1s");
            CHECK(client.last.timeout == 1s);
        }
        SUBCASE("this host has no route to the network") {
            util::HttpResponse r;
            r.error = "connect to 10.1.2.3:80: Network is unreachable";
            r.stage = util::HttpStage::connect;
            r.cause = std::make_error_code(std::errc::network_unreachable);
            CannedClient client(r);
            auto s = sources::probe_http(client, "http://10.1.2.3/health/", 200, 1s, k_now);
            CHECK(s.kind == SampleKind::unavailable);
            CHECK(s.detail == r.error);
        }
        SUBCASE("a URL that is not http:// or https:// is a broken check") {
            util::RealHttpClient client;
            auto s = sources::probe_http(client, "ftp://shop.example/health/", 200, 1s, k_now);
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail.find("expected a URL starting with http:// or https://") !=
                  std::string::npos);
        }
        SUBCASE("an https check whose CA file cannot be read is a broken check, not downtime") {
            util::RealHttpClient client;
            auto s = sources::probe_http(client, "https://127.0.0.1:9/", 200, 1s, k_now,
                                         {.ca_file = "/nonexistent/ca.pem"});
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail.find("cannot load ca_file") == 0);
        }
    }
}
