// SPDX-License-Identifier: MIT
// The replay of a recorded file (`rollback check --replay`), driven without the command line.
#include "monitor/replay.hpp"

#include "util/error.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <vector>

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
        // Over 292 years (a time in nanoseconds overflows): the same located error, with the
        // right count.
        r.from = util::parse_time("1678-01-01T00:00:00Z");
        r.to = util::parse_time("2261-12-31T00:00:00Z");
        CHECK(error_of([&] {
                  monitor::FileReplayer replayer(
                      cfg, r, [](const decision::DecisionRecord&) {}, [](const std::string&) {});
              })
                  .find("none.csv: the samples span 1678-01-01T00:00:00.000Z .. "
                        "2261-12-31T00:00:00.000Z, 307152000 evaluations at 1m (at most "
                        "20000000)") != std::string::npos);
    }
}

namespace {

// An access log of `seconds` seconds from 2026-11-26T10:00:00Z, 2 requests a second, all 200.
std::string healthy_log(int seconds) {
    std::string out;
    for (int s = 0; s < seconds; ++s) {
        char line[200];
        std::snprintf(line, sizeof line,
                      "127.0.0.1 - - [26/Nov/2026:10:%02d:%02d +0000] \"GET / HTTP/1.1\" 200 5 "
                      "\"-\" \"t\"\n",
                      s / 60, s % 60);
        out += line;
        out += line;
    }
    return out;
}

config::Config count_below(const test::TempDir& dir, const std::string& window,
                           const std::string& interval) {
    return config::parse(R"([target]
name = "t"
[source.web]
kind = "access_log"
path = "access.log"
format = "combined"
interval = ")" + interval + R"("
max_lateness = "5s"
[[condition]]
name = "orders"
signal = "web.request_count"
window = ")" + window + R"("
below = 1
[decision]
interval = "10s"
)",
                         "rollback.toml", dir.path());
}

/// The replay of source "web" from `log` (to `to`): its records into `shown` when given.
monitor::FileReplayer web_replayer(const config::Config& cfg, const std::filesystem::path& log,
                                   std::optional<util::SystemTime> to = std::nullopt,
                                   std::vector<decision::DecisionRecord>* shown = nullptr) {
    monitor::FileReplay r;
    r.file = log.string();
    r.source = "web";
    r.to = to;
    return monitor::FileReplayer(
        cfg, r,
        [shown](const decision::DecisionRecord& rec) {
            if (shown != nullptr) {
                shown->push_back(rec);
            }
        },
        [](const std::string&) {});
}

} // namespace

TEST_SUITE("monitor") {
    TEST_CASE("file replay: the quiet after the log's last line is not a count of zero") {
        // Break-it round 36 finding 06: the replay made zero-request intervals after the last
        // line, and a request_count below rule rolled back on them.
        test::TempDir dir;
        auto cfg = count_below(dir, "1m", "10s");
        const auto log = dir.write("access.log", healthy_log(600));
        std::vector<decision::DecisionRecord> shown;
        auto replayer = web_replayer(cfg, log, std::nullopt, &shown);
        replayer.read();
        const auto res = replayer.finish();
        CHECK(res.triggers == 0);
        CHECK(res.escalations == 0);
        REQUIRE_FALSE(shown.empty());
        const auto& last = shown.back().conditions.at(0);
        CHECK(last.verdict == decision::Verdict::insufficient_sample);
        CHECK(last.detail.find("the input ends at 2026-11-26T10:10:00") != std::string::npos);
    }

    TEST_CASE("file replay: a window of days is not refused for its quiet tail") {
        // Break-it round 36 finding 04: a 9-day window's silence tail (4 windows and more, 36
        // days of 1 s intervals, 3.1 M) tripped the bound on the file's span (3 M intervals).
        test::TempDir dir;
        auto cfg = count_below(dir, "9d", "1s");
        const auto log = dir.write("access.log", healthy_log(60));
        auto replayer = web_replayer(cfg, log);
        CHECK_NOTHROW(replayer.read());
        const auto res = replayer.finish();
        CHECK(res.triggers == 0);
        CHECK(res.stats.ticks > 300'000);
    }

    TEST_CASE("file replay: a quiet tail beyond its bound is refused before any work") {
        // Break-it round 40 finding 09: a 40-day window at 1 s (160 days of quiet intervals)
        // printed a trigger, then exited 2. Since break-it 44/07 the config itself is refused
        // (the live monitor's read-back, the same bound): before the replay is made.
        test::TempDir dir;
        CHECK(error_of([&] {
                  count_below(dir, "40d", "1s");
              }).find("condition \"orders\": window 960h: the monitor would read back") !=
              std::string::npos);
        // The replay's own bound on its quiet tail stays: 4 windows of a config at the bound.
        auto cfg = count_below(dir, "34d", "1s");
        cfg.conditions.at(0).window = std::chrono::hours(24 * 40);
        const auto log = dir.write("access.log", healthy_log(60));
        CHECK(error_of([&] {
                  web_replayer(cfg, log);
              }).find("the quiet intervals after the last line") != std::string::npos);
    }

    TEST_CASE("file replay: --to inside the file is no input end") {
        // Break-it round 40 finding 05: a dead stretch 10:10-10:30 of a file that goes on to
        // 10:40, replayed with --to 10:20, was insufficient_sample ("the input ends") where
        // the whole file's replay and the live monitor see zero requests.
        test::TempDir dir;
        auto cfg = count_below(dir, "1m", "10s");
        std::string text = healthy_log(600);
        const std::string later = healthy_log(600);
        // the same lines 30 minutes later (10:30-10:40)
        for (size_t at = 0; at < later.size();) {
            const size_t eol = later.find('\n', at);
            std::string line = later.substr(at, eol - at + 1);
            const size_t hour = line.find(":10:");
            const int minute = std::stoi(line.substr(hour + 4, 2)) + 30;
            line.replace(hour + 4, 2, std::to_string(minute));
            text += line;
            at = eol + 1;
        }
        const auto log = dir.write("access.log", text);
        auto replayer = web_replayer(cfg, log, util::parse_time("2026-11-26T10:20:00Z"));
        replayer.read();
        CHECK(replayer.finish().triggers == 1);
    }

    TEST_CASE("file replay: a CSV's last row with a fractional second is judged at the tick after "
              "it") {
        // Break-it finding 05: 00:10:00.5 lies after the tick 00:10:00; the replay's last tick
        // is the first at or after its newest row, so the breach is judged (at 00:15:00).
        test::TempDir dir;
        auto cfg = config::parse(R"([target]
name = "t"
[source.web]
kind = "command"
argv = ["true"]
[[condition]]
name = "v"
signal = "web.value"
window = "10m"
above = 5.0
[decision]
interval = "5m"
)",
                                 "rollback.toml", dir.path());
        for (const std::string last : {"2026-03-01T00:10:00.5Z", "2026-03-01T00:10:00Z"}) {
            CAPTURE(last);
            const auto csv = dir.write("a.csv", "timestamp,value\n"
                                                "2026-03-01T00:00:00Z,1\n"
                                                "2026-03-01T00:05:00Z,1\n" +
                                                    last + ",9\n");
            monitor::FileReplay r;
            r.file = csv.string();
            r.source = "web";
            std::vector<decision::DecisionRecord> triggers;
            monitor::FileReplayer replayer(
                cfg, r,
                [&](const decision::DecisionRecord& rec) {
                    if (rec.action == decision::Action::trigger) {
                        triggers.push_back(rec);
                    }
                },
                [](const std::string&) {});
            replayer.read();
            const auto res = replayer.finish();
            CHECK(res.stats.samples == 3);
            REQUIRE(triggers.size() == 1);
            REQUIRE(triggers[0].conditions.size() == 1);
            CHECK(*triggers[0].conditions[0].observed == 9);
            CHECK(triggers[0].time == *util::parse_time(last == "2026-03-01T00:10:00Z"
                                                            ? "2026-03-01T00:10:00Z"
                                                            : "2026-03-01T00:15:00Z"));
        }
    }

    TEST_CASE("file replay: a CSV with a UTF-8 byte order mark and values signed '+' is read as "
              "written") {
        test::TempDir dir;
        auto cfg = two_sources(dir);
        const auto csv = dir.write("series.csv", "\xEF\xBB\xBFtimestamp,value\r\n"
                                                 "2026-11-26T10:00:00Z,+1\r\n"
                                                 "2026-11-26T10:01:00Z,+9\r\n"
                                                 "2026-11-26T10:02:00Z,+-9\r\n");
        monitor::FileReplay r;
        r.file = csv.string();
        r.source = "a";
        uint64_t triggers = 0;
        monitor::FileReplayer replayer(
            cfg, r,
            [&](const decision::DecisionRecord& rec) {
                triggers += rec.action == decision::Action::trigger;
            },
            [](const std::string&) {});
        const auto& in = replayer.read();
        CHECK(in.is_csv); // the BOM does not make it an access log
        CHECK(in.csv.bad == 1);
        CHECK(in.csv.first_bad ==
              std::string(csv.string()) + ":4:22: value: not a number: \"+-9\"");
        const auto res = replayer.finish();
        CHECK(res.stats.samples == 2);
        CHECK(triggers == 1); // +9 > 5
    }
}
