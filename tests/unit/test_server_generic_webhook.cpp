// SPDX-License-Identifier: MIT
// Generic JSON webhooks read by field selectors, with payloads shaped as Grafana alerting,
// Sentry's legacy webhook and Uptime Kuma send them.
#include "server/generic_webhook.hpp"

#include <doctest/doctest.h>

using namespace rollback;

namespace {

std::string why_of(const std::string& body, const server::WebhookSpec& spec) {
    std::string why;
    CHECK_FALSE(server::parse_webhook(body, spec, why).has_value());
    return why;
}

} // namespace

TEST_SUITE("server") {
    TEST_CASE("Grafana alerting: an array of alerts with status and labels") {
        server::WebhookSpec g;
        g.name = "grafana";
        g.alerts = "alerts";
        g.status = "status";
        g.fingerprint = "fingerprint";
        g.labels = {{"alertname", "labels.alertname"}, {"service", "labels.service"}};
        std::string why;
        auto n = server::parse_webhook(R"({"receiver":"rb","status":"firing","version":"1",
          "alerts":[{"status":"firing","labels":{"alertname":"ShopDown","service":"shop"},
                     "fingerprint":"9c1f"},
                    {"status":"resolved","labels":{"alertname":"Old"},"fingerprint":"77aa"}]})",
                                       g, why);
        REQUIRE(n);
        CHECK(n->status == "firing");
        REQUIRE(n->alerts.size() == 2);
        CHECK(n->alerts[0].status == "firing");
        CHECK(n->alerts[0].fingerprint == "grafana:9c1f");
        CHECK(n->alerts[0].labels ==
              std::map<std::string, std::string>{{"alertname", "ShopDown"}, {"service", "shop"}});
        CHECK(n->alerts[1].status == "resolved");
        CHECK(n->alerts[1].labels.count("service") == 0);
    }

    TEST_CASE("Sentry: one issue per body and always firing") {
        server::WebhookSpec s;
        s.name = "sentry";
        s.fingerprint = "id";
        s.labels = {{"project", "project"}, {"level", "level"}};
        std::string why;
        auto n = server::parse_webhook(
            R"({"id":"4012","project":"shop","level":"fatal","culprit":"checkout"})", s, why);
        REQUIRE(n);
        REQUIRE(n->alerts.size() == 1);
        CHECK(n->alerts[0].status == "firing");
        CHECK(n->alerts[0].fingerprint == "sentry:4012");
        CHECK(n->alerts[0].labels.at("level") == "fatal");
    }

    TEST_CASE("Uptime Kuma: numeric status and nested fields") {
        server::WebhookSpec u;
        u.name = "uptime";
        u.status = "heartbeat.status";
        u.firing = {"0"};
        u.resolved = {"1"};
        u.fingerprint = "monitor.id";
        u.labels = {{"monitor", "monitor.name"}};
        std::string why;
        auto n = server::parse_webhook(
            R"({"heartbeat":{"status":0,"msg":"timeout"},"monitor":{"id":3,"name":"shop"}})", u,
            why);
        REQUIRE(n);
        CHECK(n->alerts[0].status == "firing");
        CHECK(n->alerts[0].fingerprint == "uptime:3");
        CHECK(n->alerts[0].labels.at("monitor") == "shop");
        n = server::parse_webhook(R"({"heartbeat":{"status":1},"monitor":{"id":3}})", u, why);
        REQUIRE(n);
        CHECK(n->alerts[0].status == "resolved");
        CHECK(why_of(R"({"heartbeat":{"status":2},"monitor":{"id":3}})", u) ==
              "heartbeat.status: \"2\" is neither firing nor resolved");
        CHECK(why_of(R"({"heartbeat":{"status":0}})", u) == "monitor.id: missing");
        CHECK(why_of("not json", u).rfind("not JSON: ", 0) == 0);
    }

    TEST_CASE("array elements by index and a missing alerts array") {
        server::WebhookSpec w;
        w.name = "w";
        w.alerts = "data.items";
        w.fingerprint = "ids.1";
        std::string why;
        auto n = server::parse_webhook(R"({"data":{"items":[{"ids":["a","b"]}]}})", w, why);
        REQUIRE(n);
        CHECK(n->alerts[0].fingerprint == "w:b");
        CHECK(why_of(R"({"data":{}})", w) == "data.items: missing");
        CHECK(why_of(R"({"data":{"items":{}}})", w) == "data.items: not an array");
        CHECK(why_of(R"({"data":{"items":[{"ids":["a"]}]}})", w) == "data.items.0.ids.1: missing");
    }

    TEST_CASE("a number selected is one text whatever way it is written") {
        server::WebhookSpec u;
        u.name = "uptime";
        u.status = "heartbeat.status";
        u.firing = {"0"};
        u.resolved = {"1"};
        u.fingerprint = "monitor.id";
        u.labels = {{"ratio", "monitor.ratio"}};
        std::string why;
        auto fingerprint = [&](const std::string& id) {
            auto n = server::parse_webhook(
                R"({"heartbeat":{"status":0.0},"monitor":{"id":)" + id + "}}", u, why);
            REQUIRE_MESSAGE(n, why);
            CHECK(n->alerts[0].status == "firing");
            return n->alerts[0].fingerprint;
        };
        CHECK(fingerprint("100") == "uptime:100");
        CHECK(fingerprint("1e2") == "uptime:100");
        CHECK(fingerprint("100.0") == "uptime:100");
        CHECK(fingerprint("-7") == "uptime:-7");
        CHECK(fingerprint("0.25") == "uptime:0.25");
        CHECK(fingerprint("18446744073709551615") == "uptime:18446744073709551615");
        CHECK(fingerprint("9007199254740993") == "uptime:9007199254740993");
        auto n = server::parse_webhook(
            R"({"heartbeat":{"status":1e0},"monitor":{"id":"a","ratio":1.5e-1}})", u, why);
        REQUIRE(n);
        CHECK(n->alerts[0].status == "resolved");
        CHECK(n->alerts[0].labels.at("ratio") == "0.15");
        // Rounded when read: two distinct 23-digit ids would be one incident.
        CHECK(why_of(R"({"heartbeat":{"status":0},"monitor":{"id":12345678901234567890123}})", u) ==
              "monitor.id: the number 1.2345678901234568E22 is not exact past 2^53 (distinct "
              "values would look the same): send it as a string");
        CHECK(why_of(R"({"heartbeat":{"status":0},"monitor":{"id":1,"ratio":1e300}})", u)
                  .rfind("monitor.ratio: the number ", 0) == 0);
        CHECK(why_of(R"({"heartbeat":{"status":2e20},"monitor":{"id":1}})", u)
                  .rfind("heartbeat.status: the number ", 0) == 0);
    }
}
