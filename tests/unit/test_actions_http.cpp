// SPDX-License-Identifier: MIT
#include "support/action_harness.hpp"
#include "support/http_test_server.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

using namespace rollback;
using namespace std::chrono_literals;

TEST_SUITE("actions") {
    TEST_CASE("http verification passes on the expected status and body") {
        test::TempDir tmp;
        test::HttpTestServer server;
        server.on("/health/", {{.status = 200, .body = R"({"status": "ok", "db": "up"})"}});
        test::ActionHarness h(tmp.path(), "http",
                              R"({"url": ")" + server.url("/health/") +
                                  R"(", "expect_status": 200, "expect_body": "\"db\": \"up\"",
                                  "headers": {"X-Probe": "rollback"}})");
        CHECK(h.validate().empty());
        CHECK(test::first_failed(h.preflight()) == "");
        CHECK(server.requests().empty()); // preflight never sends the request

        auto r = h.run();
        CHECK(r.status == actions::Status::succeeded);
        CHECK(r.summary.find("GET " + server.url("/health/") + ": 200 in ") == 0);
        CHECK(r.details.at("status") == 200);
        auto log = server.requests("/health/");
        REQUIRE(log.size() == 1);
        CHECK(log[0].header("X-Probe") == "rollback");
    }

    TEST_CASE("http verification failures are verification_failed with a clear summary") {
        test::TempDir tmp;
        test::HttpTestServer server;
        server.on("/health/", {{.status = 500, .body = "boom"}});
        server.on("/login/", {{.status = 200, .body = "<h1>Maintenance</h1>"}});
        SUBCASE("status") {
            test::ActionHarness h(tmp.path(), "http",
                                  R"({"url": ")" + server.url("/health/") +
                                      R"(", "expect_status": 200})");
            auto r = h.run();
            CHECK(r.status == actions::Status::verification_failed);
            CHECK(r.summary == "GET " + server.url("/health/") + ": expected 200, got 500");
            CHECK(r.output_tail == "boom");
        }
        SUBCASE("default expectation is any 2xx") {
            test::ActionHarness h(tmp.path(), "http",
                                  R"({"url": ")" + server.url("/health/") + R"("})");
            CHECK(h.run().summary == "GET " + server.url("/health/") + ": expected 2xx, got 500");
        }
        SUBCASE("body") {
            test::ActionHarness h(
                tmp.path(), "http",
                R"({"url": ")" + server.url("/login/") +
                    R"(", "expect_status": [200, 302], "expect_body": "Sign in"})");
            auto r = h.run();
            CHECK(r.status == actions::Status::verification_failed);
            CHECK(r.summary ==
                  "GET " + server.url("/login/") + ": body does not contain \"Sign in\"");
        }
        SUBCASE("connection refused") {
            std::string url =
                "http://127.0.0.1:" + std::to_string(test::free_tcp_port()) + "/health/";
            test::ActionHarness h(tmp.path(), "http", R"({"url": ")" + url + R"("})");
            auto r = h.run();
            CHECK(r.status == actions::Status::verification_failed);
            CHECK(r.summary.find("GET " + url + ": connect to 127.0.0.1:") == 0);
            CHECK(r.summary.find("Connection refused") != std::string::npos);
        }
        SUBCASE("per-request timeout") {
            server.on("/slow", {{.status = 200, .delay = 3s}});
            test::ActionHarness h(tmp.path(), "http",
                                  R"({"url": ")" + server.url("/slow") +
                                      R"(", "request_timeout": "200ms"})");
            auto t0 = std::chrono::steady_clock::now();
            auto r = h.run();
            CHECK(std::chrono::steady_clock::now() - t0 < 2s);
            CHECK(r.summary == "GET " + server.url("/slow") + ": timed out after 200ms");
        }
    }

    TEST_CASE("http attempts poll until the expectation holds") {
        test::TempDir tmp;
        test::HttpTestServer server;
        server.on("/health/", {{.status = 502}, {.status = 502}, {.status = 200, .body = "ok"}});
        SUBCASE("succeeds on the third attempt") {
            test::ActionHarness h(tmp.path(), "http",
                                  R"({"url": ")" + server.url("/health/") +
                                      R"(", "attempts": 5, "interval": "50ms", "method": "get"})");
            auto r = h.run();
            CHECK(r.status == actions::Status::succeeded);
            CHECK(r.details.at("attempts") == 3);
            CHECK(server.requests("/health/").size() == 3);
            CHECK(h.progress.size() == 2);
        }
        SUBCASE("gives up after the attempts") {
            test::ActionHarness h(tmp.path(), "http",
                                  R"({"url": ")" + server.url("/health/") +
                                      R"(", "attempts": 2, "interval": "10ms"})");
            auto r = h.run();
            CHECK(r.status == actions::Status::verification_failed);
            CHECK(r.summary ==
                  "GET " + server.url("/health/") + ": expected 2xx, got 502 (after 2 attempts)");
        }
        SUBCASE("POST with a body") {
            server.on("/api/orders", [](const test::TestRequest& req) {
                return test::TestResponse{.status = req.body == "{\"sku\": 1}" ? 201 : 400};
            });
            test::ActionHarness h(
                tmp.path(), "http",
                R"({"url": ")" + server.url("/api/orders") +
                    R"(", "method": "POST", "body": "{\"sku\": 1}", "expect_status": 201})");
            CHECK(h.run().status == actions::Status::succeeded);
        }
    }

    TEST_CASE("http attempts: each further request is sent only past the run lock's fence") {
        // A holder deposed between two attempts of a POST sends no further one (break-it 43 F6):
        // the fence throws what a refused journal append would, and the step does nothing more.
        test::TempDir tmp;
        test::HttpTestServer server;
        server.on("/drain",
                  [](const test::TestRequest&) { return test::TestResponse{.status = 503}; });
        test::ActionHarness h(tmp.path(), "http",
                              R"({"url": ")" + server.url("/drain") +
                                  R"(", "method": "POST", "body": "x=1", "expect_status": 200,
                                  "attempts": 10, "interval": "10ms"})");
        h.parse();
        actions::Context ctx = h.context();
        std::vector<std::string> asked;
        ctx.fence = [&](const std::string& before) {
            asked.push_back(before);
            if (asked.size() == 3) {
                throw util::Error("journal j: this process lost the run lock of generation 1",
                                  util::ExitCode::state_unwritable);
            }
        };
        try {
            h.action().run(ctx);
            FAIL("a deposed holder went on with its attempts");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::state_unwritable);
        }
        CHECK(server.requests("/drain").size() == 3); // the first, then two fenced ones
        REQUIRE(asked.size() == 3);
        CHECK(asked[0] ==
              "attempt 2 of 10 of step \"http-step\" (POST " + server.url("/drain") + ")");
        CHECK(asked[2].rfind("attempt 4 of 10 ", 0) == 0);
    }

    TEST_CASE("http validation and preflight") {
        test::TempDir tmp;
        test::ActionHarness h(tmp.path(), "http",
                              R"({"url": "ftp://shop.example/", "method": "FETCH",
                                  "expect_status": [200, 999], "attempts": 0, "interval": "soon",
                                  "headers": {"X-N": 1}})");
        auto ds = h.validate();
        std::vector<std::string> problems;
        for (const auto& d : ds) {
            problems.push_back(d.problem);
        }
        REQUIRE(problems.size() == 6);
        CHECK(problems[0] == "key \"method\": unknown method \"FETCH\" (use GET, HEAD, POST, PUT, "
                             "PATCH, DELETE, OPTIONS)");
        CHECK(problems[1] == "key \"url\": expected a URL starting with http:// or https://");
        CHECK(problems[2] == "key \"headers\": header \"X-N\": expected a string");
        CHECK(problems[3] == "key \"expect_status\": 999 is not an HTTP status (100-599)");
        CHECK(problems[4] == "key \"attempts\": expected 1 to 1000");
        CHECK(problems[5] ==
              "key \"interval\": expected a duration such as \"500ms\", \"30s\" or \"2m\"");

        test::ActionHarness unresolvable(tmp.path(), "http",
                                         R"({"url": "http://no-such-host.invalid/health/"})");
        CHECK(test::first_failed(unresolvable.preflight())
                  .find("host no-such-host.invalid resolves: ") == 0);
    }
}
