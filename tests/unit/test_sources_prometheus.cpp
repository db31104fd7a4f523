// SPDX-License-Identifier: MIT
// The prometheus source against a real server on 127.0.0.1 answering what Prometheus answers
// (bodies as documented for GET /api/v1/query).
#include "sources/prometheus.hpp"

#include "support/http_test_server.hpp"

#include <doctest/doctest.h>

using namespace rollback;
using namespace std::chrono_literals;
using decision::SampleKind;

namespace {

const decision::SystemTime k_now{std::chrono::seconds(1'800'000'000)};

std::string vector_of(std::vector<std::string> values) {
    std::string result;
    for (size_t i = 0; i < values.size(); ++i) {
        result += std::string(i ? "," : "") + R"({"metric":{"instance":"web-)" + std::to_string(i) +
                  R"("},"value":[1800000000.123,")" + values[i] + R"("]})";
    }
    return R"({"status":"success","data":{"resultType":"vector","result":[)" + result + "]}}";
}

struct Prometheus {
    test::HttpTestServer server;
    util::RealHttpClient client;

    decision::Sample answer(test::TestResponse r, util::Millis timeout = 1s) {
        server.on("/api/v1/query", {std::move(r)});
        return sources::query_prometheus(client, server.url("/"), "up", timeout, k_now);
    }
};

} // namespace

TEST_SUITE("sources") {
    TEST_CASE("prometheus: the query is sent URL-encoded to /api/v1/query") {
        Prometheus p;
        p.server.on("/api/v1/query", {{.body = vector_of({"0.25"})}});
        const std::string q = R"(sum(rate(http_requests_total{code=~"5.."}[5m])) / 2)";
        auto s = sources::query_prometheus(p.client, p.server.url(""), q, 1s, k_now);
        CHECK(s.kind == SampleKind::value);
        CHECK(s.value == 0.25);
        CHECK(s.time == k_now);
        auto reqs = p.server.requests("/api/v1/query");
        REQUIRE(reqs.size() == 1);
        CHECK(reqs[0].method == "GET");
        CHECK(reqs[0].target ==
              "/api/v1/query?query=sum%28rate%28http_requests_total%7Bcode%3D~%225..%22%7D%5B5m%5D"
              "%29%29%20%2F%202");
        // A base URL with a trailing slash or a path prefix (Prometheus behind a proxy).
        p.server.on("/prom/api/v1/query", {{.body = vector_of({"7"})}});
        s = sources::query_prometheus(p.client, p.server.url("/prom/"), "up", 1s, k_now);
        CHECK(s.kind == SampleKind::value);
        CHECK(s.value == 7);
    }

    TEST_CASE("prometheus: one number is a value") {
        Prometheus p;
        SUBCASE("a vector of one series") {
            auto s = p.answer({.body = vector_of({"1.5"})});
            CHECK(s.kind == SampleKind::value);
            CHECK(s.value == 1.5);
        }
        SUBCASE("a scalar") {
            auto s = p.answer({.body = R"({"status":"success","data":{"resultType":"scalar",)"
                                       R"("result":[1800000000,"-3e-2"]}})"});
            CHECK(s.kind == SampleKind::value);
            CHECK(s.value == -0.03);
        }
        SUBCASE("with warnings") {
            auto s = p.answer(
                {.body = R"({"status":"success","warnings":["partial"],"data":{"resultType":)"
                         R"("vector","result":[{"metric":{},"value":[1,"42"]}]}})"});
            CHECK(s.kind == SampleKind::value);
            CHECK(s.value == 42);
        }
    }

    TEST_CASE("prometheus: an empty vector is no traffic - not the monitor's failure") {
        // break-it 25/11: the doc's error ratio on a healthy service with no 5xx yet.
        Prometheus p;
        auto s = p.answer({.body = vector_of({})});
        CHECK(s.kind == SampleKind::no_traffic);
        CHECK(s.detail.rfind("empty vector: the query matched no series", 0) == 0);
    }

    TEST_CASE("prometheus: answers the condition cannot judge are errors") {
        Prometheus p;
        SUBCASE("two series") {
            auto s = p.answer({.body = vector_of({"1", "2"})});
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail ==
                  "query returns 2 series; aggregate it to one, e.g. sum(...) or max(...)");
        }
        SUBCASE("NaN is no traffic - not an error") {
            // 5xx/all over a window without requests is 0/0 (issue 10: with on_error =
            // escalate the monitor paged at every quiet gap).
            auto s = p.answer({.body = vector_of({"NaN"})});
            CHECK(s.kind == SampleKind::no_traffic);
            CHECK(s.detail.find("query returned NaN: a ratio over a window without requests") == 0);
            s = p.answer({.body = R"({"status":"success","data":{"resultType":"scalar",)"
                                  R"("result":[1,"NaN"]}})"});
            CHECK(s.kind == SampleKind::no_traffic);
        }
        SUBCASE("+Inf") {
            auto s = p.answer({.body = vector_of({"+Inf"})});
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail.find("query returned +Inf") == 0);
        }
        SUBCASE("-Inf as a scalar") {
            auto s = p.answer({.body = R"({"status":"success","data":{"resultType":"scalar",)"
                                       R"("result":[1,"-Inf"]}})"});
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail.find("query returned -Inf") == 0);
        }
        SUBCASE("a range vector") {
            auto s = p.answer({.body = R"({"status":"success","data":{"resultType":"matrix",)"
                                       R"("result":[{"metric":{},"values":[[1,"1"]]}]}})"});
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail.find("query returns a range vector") == 0);
        }
        SUBCASE("status error") {
            auto s = p.answer({.status = 422,
                               .body = R"({"status":"error","errorType":"execution",)"
                                       R"("error":"many-to-many matching not allowed"})"});
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail ==
                  "Prometheus error (execution, HTTP 422): many-to-many matching not allowed");
        }
        SUBCASE("HTTP 400 with an error body") {
            auto s = p.answer({.status = 400,
                               .body = R"({"status":"error","errorType":"bad_data","error":)"
                                       R"("1:4: parse error: unexpected end of input"})"});
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail == "Prometheus error (bad_data, HTTP 400): 1:4: parse error: "
                              "unexpected end of input");
        }
        SUBCASE("a body that is not JSON") {
            auto s = p.answer({.status = 200, .body = "<html>Grafana</html>"});
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail.find("HTTP 200 from http://127.0.0.1:") == 0);
            CHECK(s.detail.find("not a Prometheus answer") != std::string::npos);
            CHECK(s.detail.find("\"<html>Grafana</html>\"") != std::string::npos);
        }
        SUBCASE("a wrong path (404)") {
            auto s = sources::query_prometheus(p.client, p.server.url("/wrong"), "up", 1s, k_now);
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail.find("HTTP 404 from") == 0);
        }
        SUBCASE("JSON that is not a Prometheus answer") {
            auto s = p.answer({.body = R"({"status":"success"})"});
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail == "malformed Prometheus answer: no data object");
        }
    }

    TEST_CASE("prometheus: not reaching Prometheus is no data (the monitoring is down)") {
        SUBCASE("refused") {
            util::RealHttpClient client;
            const std::string url = "http://127.0.0.1:" + std::to_string(test::free_tcp_port());
            auto s = sources::query_prometheus(client, url, "up", 1s, k_now);
            CHECK(s.kind == SampleKind::unavailable);
            CHECK(s.detail.find("Prometheus at " + url + " not reachable: ") == 0);
            CHECK(s.detail.find("Connection refused") != std::string::npos);
        }
        SUBCASE("timeout") {
            Prometheus p;
            auto s = p.answer({.body = vector_of({"1"}), .delay = 2s}, 300ms);
            CHECK(s.kind == SampleKind::unavailable);
            CHECK(s.detail.find("not reachable: timed out after 300ms") != std::string::npos);
        }
        SUBCASE("a gateway error without a Prometheus body") {
            Prometheus p;
            auto s = p.answer({.status = 502, .body = "Bad Gateway"});
            CHECK(s.kind == SampleKind::unavailable);
            CHECK(s.detail.find("HTTP 502 from") == 0);
        }
    }

    TEST_CASE("prometheus: sample values as Prometheus spells them") {
        std::string why;
        CHECK(sources::parse_prometheus_value("1.5", why) == 1.5);
        CHECK(sources::parse_prometheus_value("0", why) == 0.0);
        CHECK(sources::parse_prometheus_value("1e+06", why) == 1e6);
        CHECK_FALSE(sources::parse_prometheus_value("NaN", why));
        CHECK_FALSE(sources::parse_prometheus_value("+Inf", why));
        CHECK_FALSE(sources::parse_prometheus_value("-Inf", why));
        CHECK_FALSE(sources::parse_prometheus_value("inf", why));
        CHECK_FALSE(sources::parse_prometheus_value("", why));
        CHECK_FALSE(sources::parse_prometheus_value("12abc", why));
        CHECK(why == "query returned a value that is not a number: \"12abc\"");
    }
}
