// SPDX-License-Identifier: MIT
#include "decision/sample.hpp"

#include "config/config.hpp"
#include "decision/evaluator.hpp"

#include <doctest/doctest.h>

using namespace rollback;

TEST_SUITE("decision") {
    TEST_CASE("a refused probe counts as an error — not as a latency of the target") {
        const util::SystemTime t{std::chrono::seconds(1'800'000'000)};
        auto ok = decision::Sample::make_probe(t, false, 120.0);
        CHECK(ok.count == 1);
        CHECK(ok.errors == 0);
        REQUIRE(ok.latency.size() == 1);
        CHECK(ok.latency[0].second == 1);
        auto refused = decision::Sample::make_probe(t, true, std::nullopt);
        CHECK(refused.count == 1);
        CHECK(refused.errors == 1);
        CHECK(refused.value == 0.0);
        CHECK(refused.latency.empty());
    }

    TEST_CASE("latency over probes: refused probes do not count — only refused is no data") {
        auto cfg = config::parse(R"([source.site]
kind = "http"
url = "http://127.0.0.1:9/health/"
[[condition]]
name = "slow"
signal = "site.latency_p50"
window = "1m"
above = "500ms"
)",
                                 "rollback.toml", "/tmp");
        decision::Evaluator ev(cfg.conditions, cfg.decision);
        const util::SystemTime t{std::chrono::seconds(1'700'000'040)};
        ev.add_sample("site", decision::Sample::make_probe(t, false, 100.0));
        // Three refused probes (0 ms) beside one answer: counted, they would make the median 0.
        for (int i = 1; i <= 3; ++i) {
            ev.add_sample("site", decision::Sample::make_probe(t + std::chrono::seconds(10 * i),
                                                               true, std::nullopt));
        }
        auto e = ev.evaluate(t + std::chrono::seconds(30));
        REQUIRE(e.record.conditions.size() == 1);
        REQUIRE(e.record.conditions[0].observed);
        CHECK(*e.record.conditions[0].observed >= 90); // the refused probes' 0 ms are not in it
        CHECK(*e.record.conditions[0].observed <= 110);

        const auto later = t + std::chrono::minutes(5);
        ev.add_sample("site", decision::Sample::make_probe(later, true, std::nullopt));
        e = ev.evaluate(later);
        CHECK(e.record.conditions[0].verdict == decision::Verdict::no_data);
        CHECK(e.record.conditions[0].detail.find("no probe in the window waited for an answer") ==
              0);
    }

    TEST_CASE("timed-out and slow failed probes are latencies at the time waited") {
        // Break-it round 25 finding 08: a health check that times out (1 s) or answers 503 after
        // 0.8 s breaches a p95 rule above 500ms instead of reading as no data.
        auto cfg = config::parse(R"([source.site]
kind = "http"
url = "http://127.0.0.1:9/health/"
timeout = "1s"
[[condition]]
name = "slow"
signal = "site.latency_p95"
window = "6s"
above = "500ms"
severity = "critical"
[decision]
interval = "1s"
)",
                                 "rollback.toml", "/tmp");
        const util::SystemTime t{std::chrono::seconds(1'700'000'040)};
        for (double waited : {1000.0, 800.0}) {
            decision::Evaluator ev(cfg.conditions, cfg.decision);
            decision::Evaluation e;
            int triggers = 0;
            for (int i = 0; i < 6; ++i) {
                const auto ti = t + std::chrono::seconds(i);
                ev.add_sample("site", decision::Sample::make_probe(ti, true, waited));
                e = ev.evaluate(ti);
                triggers += e.record.action == decision::Action::trigger;
            }
            REQUIRE(e.record.conditions.size() == 1);
            CHECK(e.record.conditions[0].verdict == decision::Verdict::firing);
            REQUIRE(e.record.conditions[0].observed);
            CHECK(*e.record.conditions[0].observed > 500);
            CHECK(*e.record.conditions[0].observed <= waited);
            CHECK(triggers == 1);
        }
    }
}
