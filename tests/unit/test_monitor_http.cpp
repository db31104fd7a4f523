// SPDX-License-Identifier: MIT
// The monitor probing a real HTTP server on 127.0.0.1 across ticks (virtual tick times, real
// probes): downtime grows from the first failed probe; a probe host that does not resolve is
// no data for as long as it lasts, never downtime.
#include "monitor/monitor.hpp"

#include "exec/runner.hpp"
#include "support/http_test_server.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"

#include <doctest/doctest.h>

using namespace rollback;
using std::chrono::seconds;

TEST_SUITE("monitor") {
    TEST_CASE("http sources: failed probes become downtime — an unresolvable host no data") {
        test::HttpTestServer server;
        server.on("/health/", {{.status = 200}, {.status = 500}});
        rollback::test::TempDir dir;
        auto cfg = config::parse(R"(
[target]
name = "shop"
[source.health]
kind = "http"
url = ")" + server.url("/health/") + R"("
interval = "10s"
timeout = "1s"
[source.elsewhere]
kind = "http"
url = "http://no-such-host.invalid/health/"
interval = "10s"
timeout = "1s"
[[condition]]
name = "down"
signal = "health.downtime"
above = "30s"
severity = "critical"
[[condition]]
name = "elsewhere-down"
signal = "elsewhere.downtime"
above = "30s"
on_no_data = "ignore"
[decision]
interval = "10s"
)",
                                 "rollback.toml", dir.path());
        monitor::Monitor mon(cfg);
        exec::RealProcessRunner runner;
        auto t0 = *util::parse_time("2026-11-26T10:00:00Z");
        std::vector<std::pair<decision::Verdict, std::optional<double>>> down;
        for (int i = 0; i <= 5; ++i) {
            auto e = mon.tick(runner, t0 + seconds(10 * i));
            REQUIRE(e.record.conditions.size() == 2);
            const auto& d = e.record.conditions[0];
            const auto& other = e.record.conditions[1];
            REQUIRE(d.name == "down");
            down.emplace_back(d.verdict, d.observed);
            CHECK(other.verdict == decision::Verdict::no_data);
            CHECK(other.detail.find("cannot resolve host") != std::string::npos);
            CHECK(e.record.action == (i == 5 ? decision::Action::trigger : decision::Action::none));
        }
        // 200 at t0, 500 from t0+10s: downtime counts from the first failed probe.
        using V = decision::Verdict;
        CHECK(down[0] == std::make_pair(V::ok, std::optional<double>(0)));
        CHECK(down[1] == std::make_pair(V::ok, std::optional<double>(0)));
        CHECK(down[2] == std::make_pair(V::ok, std::optional<double>(10)));
        CHECK(down[4] == std::make_pair(V::ok, std::optional<double>(30)));
        CHECK(down[5] == std::make_pair(V::firing, std::optional<double>(40)));
        CHECK(server.requests("/health/").size() == 6);
    }

    TEST_CASE("a tick reads its network sources side by side: two slow targets cost one wait") {
        test::HttpTestServer server;
        server.on("/slow/", {{.status = 200, .delay = std::chrono::milliseconds(800)}});
        rollback::test::TempDir dir;
        std::string toml = "[target]\nname = \"shop\"\n";
        for (const char* name : {"a", "b", "c"}) {
            toml += std::string("[source.") + name + "]\nkind = \"http\"\nurl = \"" +
                    server.url("/slow/") + "\"\ntimeout = \"3s\"\n";
            toml += std::string("[[condition]]\nname = \"") + name + "\"\nsignal = \"" + name +
                    ".error_rate\"\nabove = 0.5\n";
        }
        auto cfg = config::parse(toml, "rollback.toml", dir.path());
        monitor::Monitor mon(cfg);
        exec::RealProcessRunner runner;
        const auto started = std::chrono::steady_clock::now();
        auto e = mon.tick(runner, *util::parse_time("2026-11-26T10:00:00Z"));
        const auto took = std::chrono::steady_clock::now() - started;
        REQUIRE(e.record.conditions.size() == 3);
        for (const auto& c : e.record.conditions) {
            CHECK(c.verdict == decision::Verdict::ok);
        }
        // In a row: 2.4 s at least. Side by side: one 0.8 s wait (the bound leaves room for a
        // loaded machine, and stays below two waits).
        CHECK(took < std::chrono::milliseconds(1600));
        CHECK(server.requests("/slow/").size() == 3);
    }
}
