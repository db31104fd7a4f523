// SPDX-License-Identifier: MIT
// Alertmanager's webhook payload (version 4): what is read, and the reasons a 400 gives.
#include "server/alertmanager.hpp"

#include <doctest/doctest.h>

using namespace rollback;

namespace {

// As Alertmanager 0.25 sends it (tests/data is not needed: the shape is the documented one).
const char* k_payload = R"({
  "receiver": "rollback", "status": "firing", "version": "4",
  "groupKey": "{}:{alertname=\"HighErrorRate\"}", "truncatedAlerts": 0,
  "groupLabels": {"alertname": "HighErrorRate"}, "commonLabels": {}, "commonAnnotations": {},
  "externalURL": "http://am:9093",
  "alerts": [
    {"status": "firing", "labels": {"alertname": "HighErrorRate", "service": "shop"},
     "annotations": {"summary": "5xx above 5%"}, "startsAt": "2026-12-05T17:00:00.123Z",
     "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph",
     "fingerprint": "8a3f7c21d0e4b5a6"},
    {"status": "resolved", "labels": {"alertname": "HighErrorRate", "service": "cart"},
     "annotations": {}, "startsAt": "2026-12-05T16:00:00Z", "endsAt": "2026-12-05T16:30:00Z",
     "fingerprint": "0b1c2d3e4f506172"}
  ]
})";

std::string why_of(const std::string& body) {
    std::string why;
    CHECK_FALSE(server::parse_alertmanager(body, why).has_value());
    return why;
}

} // namespace

TEST_SUITE("server") {
    TEST_CASE("a version 4 notification is read with every alert's fields") {
        std::string why;
        auto n = server::parse_alertmanager(k_payload, why);
        REQUIRE(n);
        CHECK(n->status == "firing");
        CHECK(n->group_key == "{}:{alertname=\"HighErrorRate\"}");
        CHECK(n->receiver == "rollback");
        REQUIRE(n->alerts.size() == 2);
        CHECK(n->alerts[0].status == "firing");
        CHECK(n->alerts[0].labels.at("service") == "shop");
        CHECK(n->alerts[0].annotations.at("summary") == "5xx above 5%");
        CHECK(n->alerts[0].starts_at == "2026-12-05T17:00:00.123Z");
        CHECK(n->alerts[0].fingerprint == "8a3f7c21d0e4b5a6");
        CHECK(n->alerts[1].status == "resolved");
        CHECK(n->alerts[1].ends_at == "2026-12-05T16:30:00.000Z");
        CHECK(n->alerts[0].ends_at == "0001-01-01T00:00:00Z"); // Go's zero time: no end
    }

    TEST_CASE("what is not a notification gets a reason") {
        CHECK(why_of("{\"version\":").rfind("not JSON: ", 0) == 0);
        CHECK(why_of("[]") == "not a JSON object");
        CHECK(why_of(R"({"version":"3","status":"firing","groupKey":"g","alerts":[]})") ==
              "version: \"3\" is not 4");
        CHECK(why_of(R"({"version":"4","status":"firing","groupKey":"g"})") == "alerts: missing");
        CHECK(why_of(R"({"version":"4","status":"firing","alerts":[]})") == "groupKey: missing");
        CHECK(
            why_of(
                R"({"version":"4","status":"firing","groupKey":"g","alerts":[{"status":"firing"}]})") ==
            "alerts[0].fingerprint: missing");
        CHECK(
            why_of(
                R"({"version":"4","status":"firing","groupKey":"g","alerts":[{"status":"gone","fingerprint":"f"}]})") ==
            "alerts[0].status: \"gone\" is not \"firing\" or \"resolved\"");
        CHECK(
            why_of(
                R"({"version":"4","status":"firing","groupKey":"g","alerts":[{"status":"firing","fingerprint":"f","labels":{"a":1}}]})") ==
            "alerts[0].labels.a: not a string");
    }

    TEST_CASE("startsAt and endsAt are times written in UTC and a non-time is refused") {
        auto alert = [](const std::string& starts, const std::string& ends) {
            return R"({"version":"4","status":"firing","groupKey":"g","alerts":[
              {"status":"firing","labels":{"alertname":"A"},"fingerprint":"f","startsAt":")" +
                   starts + R"(","endsAt":")" + ends + R"("}]})";
        };
        std::string why;
        auto n = server::parse_alertmanager(
            alert("2026-12-05T23:10:00.123456789+01:00", "0001-01-01T00:00:00.000000000Z"), why);
        REQUIRE_MESSAGE(n, why);
        CHECK(n->alerts[0].starts_at == "2026-12-05T22:10:00.123Z");
        CHECK(n->alerts[0].ends_at == "0001-01-01T00:00:00Z");
        CHECK(why_of(alert("since forever; ALL CLEAR, no action needed", "")) ==
              "alerts[0].startsAt: expected RFC 3339 (2026-11-26T14:35:00Z, "
              "2026-11-26T14:35:00.5+02:00) or \"2026-11-26 14:35:00\" (UTC)");
        CHECK(why_of(alert("2026-12-05T23:10:00Z", "tomorrow")).rfind("alerts[0].endsAt: ", 0) ==
              0);
    }
}
