// SPDX-License-Identifier: MIT
#include "monitor/monitor.hpp"

#include "exec/runner.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"

#include <doctest/doctest.h>

using namespace rollback;
using std::chrono::seconds;

namespace {

util::SystemTime at(const std::string& text) {
    auto t = util::parse_time(text);
    REQUIRE(t);
    return *t;
}

} // namespace

TEST_SUITE("monitor") {
    TEST_CASE("ticks are aligned to the interval since the epoch") {
        util::SystemTime t{util::Millis(12'300)};
        CHECK(monitor::until_next_tick(t, seconds(10)) == util::Millis(7'700));
        CHECK(monitor::until_next_tick(util::SystemTime{util::Millis(20'000)}, seconds(10)) ==
              seconds(10));
    }

    TEST_CASE("the evaluator lives across ticks: one trigger, then the cooldown") {
        rollback::test::TempDir dir;
        dir.write("value", "9\n");
        auto cfg = config::parse(R"(
[target]
name = "t"
[source.c]
kind = "command"
argv = ["sh", "-c", "cat value"]
[[condition]]
name = "corruption"
signal = "c.value"
above = 5
[decision]
cooldown = "1h"
)",
                                 "rollback.toml", dir.path());
        // The command runs in the current directory: give it an absolute path instead.
        cfg.sources["c"].argv = {"sh", "-c", "cat " + (dir / "value").string()};
        monitor::Monitor mon(cfg);
        exec::RealProcessRunner runner;
        auto t0 = at("2026-11-26T10:00:00Z");
        auto e1 = mon.tick(runner, t0);
        CHECK(e1.record.action == decision::Action::trigger);
        CHECK(e1.record.executed);
        for (int i = 1; i <= 3; ++i) {
            auto e = mon.tick(runner, t0 + seconds(10 * i));
            CHECK(e.record.action != decision::Action::trigger);
        }
    }

    TEST_CASE("access logs: every request counted once over many ticks; quiet intervals are "
              "zero traffic") {
        rollback::test::TempDir dir;
        std::string log;
        for (int i = 0; i < 20; ++i) {
            log += "10.0.0.1 - - [26/Nov/2026:10:00:05 +0000] \"GET / HTTP/1.1\" 500 1 \"-\" "
                   "\"t\" 0.100\n";
        }
        dir.write("access.log", log);
        auto cfg = config::parse(R"(
[target]
name = "t"
[source.web]
kind = "access_log"
path = "access.log"
interval = "10s"
[[condition]]
name = "errors"
signal = "web.request_count"
window = "5m"
above = 1000
)",
                                 "rollback.toml", dir.path());
        monitor::Monitor mon(cfg);
        exec::RealProcessRunner runner;
        auto t0 = at("2026-11-26T10:00:00Z");
        for (int i = 1; i <= 12; ++i) {
            auto e = mon.tick(runner, t0 + seconds(10 * i));
            REQUIRE(e.record.conditions.size() == 1);
            const auto& c = e.record.conditions[0];
            if (i >= 3) { // the interval holding the requests is complete
                REQUIRE(c.observed);
                CHECK(*c.observed == 20);
                CHECK(c.verdict == decision::Verdict::ok);
            }
        }
    }
}
