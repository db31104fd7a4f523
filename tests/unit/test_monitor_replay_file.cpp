// SPDX-License-Identifier: MIT
// The replay of a recorded file (`rollback check --replay`), driven without the command line.
#include "monitor/replay.hpp"

#include "util/error.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace rollback;

namespace {

config::Config two_sources(const test::TempDir& dir) {
    return config::parse(R"([target]
name = "t"
[source.a]
kind = "command"
argv = ["true"]
[source.b]
kind = "command"
argv = ["true"]
[[condition]]
name = "high"
signal = "a.value"
above = 5
[decision]
interval = "1m"
cooldown = "1h"
)",
                         "rollback.toml", dir.path());
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const util::Error& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_SUITE("monitor") {
    TEST_CASE("replay_source: the named source — else the one the conditions use") {
        test::TempDir dir;
        auto cfg = two_sources(dir);
        CHECK(monitor::replay_source(cfg, "") == "a");
        CHECK(monitor::replay_source(cfg, "b") == "b");
        CHECK(error_of([&] { monitor::replay_source(cfg, "c"); }) ==
              "--source: no source \"c\" in rollback.toml");
        cfg.conditions.push_back(cfg.conditions[0]);
        cfg.conditions.back().source = "b";
        CHECK(error_of([&] { monitor::replay_source(cfg, ""); }) ==
              "--replay: the conditions use 2 sources; name the one the file stands for with "
              "--source");
    }

    TEST_CASE("file replay: a CSV evaluated tick by tick — one trigger then the cooldown") {
        test::TempDir dir;
        auto cfg = two_sources(dir);
        const auto csv = dir.write("series.csv", "timestamp,value\n"
                                                 "2026-11-26T10:00:00Z,1\n"
                                                 "2026-11-26T10:01:00Z,9\n"
                                                 "2026-11-26T10:02:00Z,9\n"
                                                 "2026-11-26T10:03:00Z,9\n");
        monitor::FileReplay r;
        r.file = csv.string();
        r.source = "a";
        std::vector<decision::DecisionRecord> shown;
        monitor::FileReplayer replayer(
            cfg, r, [&](const decision::DecisionRecord& rec) { shown.push_back(rec); },
            [](const std::string&) { FAIL("no sample lines without samples_only"); });
        const auto& in = replayer.read();
        CHECK(in.is_csv);
        REQUIRE(replayer.newest());
        const auto res = replayer.finish();
        CHECK(res.stats.ticks == 4);
        CHECK(res.stats.samples == 4);
        CHECK(res.triggers == 1);
        CHECK(res.conditions == 1);
        REQUIRE_FALSE(shown.empty());
        CHECK(std::count_if(shown.begin(), shown.end(), [](const auto& rec) {
                  return rec.action == decision::Action::trigger;
              }) == 1);
        CHECK(res.notable == shown.size());
    }

    TEST_CASE("file replay: samples only — a CSV header and one line per sample from --from") {
        test::TempDir dir;
        auto cfg = two_sources(dir);
        const auto csv = dir.write("series.csv", "timestamp,value\n"
                                                 "2026-11-26T10:00:00Z,1\n"
                                                 "2026-11-26T10:01:00Z,9\n");
        monitor::FileReplay r;
        r.file = csv.string();
        r.source = "a";
        r.samples_only = true;
        r.from = util::parse_time("2026-11-26T10:01:00Z");
        std::vector<std::string> lines;
        monitor::FileReplayer replayer(
            cfg, r, [](const decision::DecisionRecord&) { FAIL("nothing is evaluated"); },
            [&](const std::string& line) { lines.push_back(line); });
        replayer.read();
        CHECK(lines == std::vector<std::string>{
                           "start,end,kind,requests,errors,value",
                           "2026-11-26T10:01:00.000Z,2026-11-26T10:01:00.000Z,value,0,0,9"});
    }

    TEST_CASE("file replay: a span of centuries is refused before anything is read") {
        test::TempDir dir;
        auto cfg = two_sources(dir);
        monitor::FileReplay r;
        r.file = (dir / "none.csv").string();
        r.source = "a";
        r.from = util::parse_time("2000-01-01T00:00:00Z");
        r.to = util::parse_time("2100-01-01T00:00:00Z");
        CHECK(error_of([&] {
                  monitor::FileReplayer replayer(
                      cfg, r, [](const decision::DecisionRecord&) {}, [](const std::string&) {});
              }).find("evaluations at 1m (at most 20000000)") != std::string::npos);
    }
}
