// SPDX-License-Identifier: MIT
#include "monitor/monitor.hpp"

#include "monitor/replay.hpp"
#include "sources/collect.hpp"
#include "state/local_store.hpp"

#include "exec/runner.hpp"
#include "support/log_lines.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <doctest/doctest.h>
#include <fstream>
#include <iterator>

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
        CHECK(monitor::tick_floor(t, seconds(10)) == util::SystemTime{util::Millis(10'000)});
        CHECK(monitor::tick_floor(util::SystemTime{util::Millis(20'000)}, seconds(10)) ==
              util::SystemTime{util::Millis(20'000)});
        CHECK(monitor::settle_delay(seconds(10)) == util::Millis(250));
        CHECK(monitor::settle_delay(seconds(1)) == util::Millis(250));
    }

    TEST_CASE("the evaluator lives across ticks: one trigger — then the cooldown") {
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

    TEST_CASE("access logs: every request counted once over many ticks — quiet intervals are "
              "zero traffic") {
        rollback::test::TempDir dir;
        std::string log;
        for (int i = 0; i < 20; ++i) {
            log += "10.0.0.1 - - [26/Nov/2026:10:00:05 +0000] \"GET / HTTP/1.1\" 500 1 \"-\" "
                   "\"t\" 0.100\n";
        }
        dir.write("access.log", log);
        for (const int lateness : {0, 60}) {
            CAPTURE(lateness);
            auto cfg = config::parse(R"(
[target]
name = "t"
[source.web]
kind = "access_log"
path = "access.log"
interval = "10s"
max_lateness = ")" + std::to_string(lateness) +
                                         R"(s"
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
            for (int i = 1; i <= 18; ++i) {
                const auto now = t0 + seconds(10 * i);
                auto e = mon.tick(runner, now);
                REQUIRE(e.record.conditions.size() == 1);
                const auto& c = e.record.conditions[0];
                // The window judged ends max_lateness before the tick.
                CHECK(c.window_end == now - seconds(lateness));
                if (i >= 3 + lateness / 10) { // the interval holding the requests is final
                    REQUIRE(c.observed);
                    CHECK(*c.observed == 20);
                    CHECK(c.verdict == decision::Verdict::ok);
                }
            }
        }
    }
}

namespace {

using rollback::test::log_line;

int64_t epoch_s(util::SystemTime t) {
    return std::chrono::duration_cast<seconds>(t.time_since_epoch()).count();
}

void append(const std::filesystem::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::app);
    out << text;
}

const char* k_error_rate_config = R"(
[target]
name = "t"
[source.web]
kind = "access_log"
path = "access.log"
[[condition]]
name = "errors"
signal = "web.error_rate"
window = "1m"
above = 0.2
min_requests = 20
for = "30s"
max_missed = 1
[decision]
interval = "10s"
cooldown = "1h"
)";

/// What `check --replay` of the whole log and the live monitor (fed the lines arriving second by
/// second, `arriving[i]` at start + i s) record at the same ticks, from start + 5 min to + 20 min.
struct LiveAndReplay {
    std::vector<std::string> replayed, live;
    int triggers = 0; ///< of the live monitor
    sources::FileSamples fs;
    monitor::Monitor::LogCounts counts;
};

/// Records are compared from `same_from` ticks on (the default: all; a log whose first line came
/// after the monitor's start differs before: the monitor watched the quiet, a replay cannot know).
LiveAndReplay live_and_replay(const rollback::test::TempDir& dir, util::SystemTime start,
                              const std::vector<std::string>& arriving, size_t same_from = 0) {
    const int64_t s0 = epoch_s(start);
    std::string all;
    for (const auto& chunk : arriving) {
        all += chunk;
    }
    dir.write("recorded.log", all);
    auto cfg = config::parse(k_error_rate_config, "rollback.toml", dir.path());
    REQUIRE(cfg.sources.at("web").max_lateness == std::chrono::minutes(1));
    const auto interval = cfg.interval;
    const auto first = start + std::chrono::minutes(5);
    const auto last = start + std::chrono::minutes(20);
    LiveAndReplay out;
    out.fs = sources::read_samples(dir / "recorded.log", "combined_request_time", 10, 60);
    decision::Evaluator ev(cfg.conditions, cfg.decision);
    monitor::replay(ev, "web", out.fs.samples, first, last, interval,
                    [&](const decision::Evaluation& e) {
                        out.replayed.push_back(decision::to_json(e.record));
                    });
    dir.write("access.log", "");
    monitor::Monitor mon(cfg);
    exec::RealProcessRunner runner;
    int64_t written = s0;
    for (auto now = first; now <= last; now += interval) {
        std::string chunk;
        for (; written < epoch_s(now); ++written) {
            chunk += arriving[written - s0];
        }
        append(dir / "access.log", chunk);
        auto e = mon.tick(runner, now);
        out.triggers += e.record.action == decision::Action::trigger;
        out.live.push_back(decision::to_json(e.record));
    }
    out.counts = mon.log_counts("web");
    REQUIRE(out.live.size() == out.replayed.size());
    for (size_t i = same_from; i < out.live.size(); ++i) {
        INFO("tick " << i);
        CHECK(out.live[i] == out.replayed[i]);
    }
    return out;
}

} // namespace

TEST_SUITE("monitor") {
    TEST_CASE("the live monitor writes the records `check --replay` writes for the same log") {
        rollback::test::TempDir dir;
        const auto start = at("2026-11-26T10:00:00Z");
        const int64_t s0 = epoch_s(start);
        // 20 minutes: 2 requests a second, 5xx from minute 8 to 11, silence in minute 15.
        auto status_at = [&](int64_t t) {
            const int64_t m = (t - s0) / 60;
            return (m >= 8 && m < 11 && t % 2 == 0) ? 502 : 200;
        };
        std::string all;
        for (int64_t t = s0; t < s0 + 20 * 60; ++t) {
            if ((t - s0) / 60 == 15) {
                continue;
            }
            all += log_line(t, status_at(t)) + log_line(t, 200, 0.2);
        }
        dir.write("recorded.log", all);
        auto cfg = config::parse(k_error_rate_config, "rollback.toml", dir.path());
        const auto interval = cfg.interval;

        // Replay: evaluations from 10:05 on, over the whole recorded file.
        const auto first = start + std::chrono::minutes(5);
        const auto last = start + std::chrono::minutes(20);
        auto fs = sources::read_samples(dir / "recorded.log", "combined_request_time", 10, 60);
        decision::Evaluator ev(cfg.conditions, cfg.decision);
        std::vector<std::string> replayed;
        monitor::replay(ev, "web", fs.samples, first, last, interval,
                        [&](const decision::Evaluation& e) {
                            replayed.push_back(decision::to_json(e.record));
                        });

        // Live: the log grows second by second; the monitor starts at 10:05 and ticks on the
        // boundaries, reading a moment later (lines are in the file by then).
        dir.write("access.log", "");
        monitor::Monitor mon(cfg);
        exec::RealProcessRunner runner;
        int64_t written = s0;
        std::vector<std::string> live;
        int triggers = 0;
        for (auto now = first; now <= last; now += interval) {
            std::string chunk;
            for (; written < epoch_s(now); ++written) {
                if ((written - s0) / 60 != 15) {
                    chunk += log_line(written, status_at(written)) + log_line(written, 200, 0.2);
                }
            }
            append(dir / "access.log", chunk);
            auto e = mon.tick(runner, now);
            triggers += e.record.action == decision::Action::trigger;
            live.push_back(decision::to_json(e.record));
        }
        REQUIRE(live.size() == replayed.size());
        for (size_t i = 0; i < live.size(); ++i) {
            INFO("tick " << i);
            CHECK(live[i] == replayed[i]);
        }
        CHECK(triggers == 1);
        CHECK(mon.log_counts("web").rejected == 0);
        CHECK(mon.log_counts("web").late == 0);
    }

    TEST_CASE("live = replay for any line order within max_lateness — later lines counted in "
              "both — never dropped silently") {
        // Lines arrive second by second but carry times up to 2 s (out of order) or 30 s
        // (Apache's start-time stamps of requests that waited for an upstream) in the past.
        for (const int max_delay : {2, 30}) {
            CAPTURE(max_delay);
            rollback::test::TempDir dir;
            const auto start = at("2026-11-26T10:00:00Z");
            const int64_t s0 = epoch_s(start);
            uint32_t rng = 12345u + static_cast<uint32_t>(max_delay);
            auto next = [&] {
                rng = rng * 1664525u + 1013904223u;
                return rng >> 8;
            };
            // arrival second -> the lines written in it (event times a - delay)
            std::vector<std::string> arriving(20 * 60);
            for (int64_t a = s0; a < s0 + 20 * 60; ++a) {
                for (int k = 0; k < 3; ++k) {
                    const int64_t delay = next() % (max_delay + 1);
                    const int64_t t = a - delay;
                    const int64_t m = (t - s0) / 60;
                    const bool failing = m >= 8 && m < 11 && (delay > 0 || k == 0);
                    arriving[a - s0] += log_line(t, failing ? 504 : 200);
                }
            }
            auto r = live_and_replay(dir, start, arriving);
            CHECK(r.fs.late == 0);
            CHECK(r.triggers == 1); // the 504s written late are counted: the fault triggers
            CHECK(r.counts.late == 0);
        }
    }

    TEST_CASE(
        "a worker whose clock runs ahead: live = replay — its lines are not counted in either") {
        // Two workers log into one file: one with the right clock (200s), one 5 minutes ahead
        // (500s), their lines interleaved. Past max_lateness + 2 intervals ahead and refuted
        // by the next right line, the skewed lines are implausible for the replay; the live
        // monitor must judge them the same, not count them at their future times.
        rollback::test::TempDir dir;
        const auto start = at("2026-11-26T10:00:00Z");
        const int64_t s0 = epoch_s(start);
        std::vector<std::string> arriving(20 * 60);
        for (int64_t a = s0; a < s0 + 20 * 60; ++a) {
            arriving[a - s0] = log_line(a, 200) + log_line(a, 200) + log_line(a + 300, 500);
        }
        auto r = live_and_replay(dir, start, arriving);
        CHECK(r.fs.implausible > 0);
        CHECK(r.triggers == 0);
        CHECK(r.counts.implausible > 0);
    }

    TEST_CASE("bursts from a worker two hours ahead and an empty start: live = replay — no "
              "burst line counted — correct lines never late") {
        // The log is empty when the monitor starts (no line until minute 7: no_data in both, not
        // no_traffic); then 2 lines a second up to 2 s out of order (quiet in minutes 12 to
        // 15), and bursts of N lines (N
        // consecutive, one second) from a worker whose clock is two hours ahead, all 5xx. Two
        // such lines once confirmed each other and moved the replay's clock two hours ahead.
        for (const int burst : {1, 2, 5, 50}) {
            CAPTURE(burst);
            rollback::test::TempDir dir;
            const auto start = at("2026-11-26T10:00:00Z");
            const int64_t s0 = epoch_s(start);
            uint32_t rng = 777u + static_cast<uint32_t>(burst);
            auto next = [&] {
                rng = rng * 1664525u + 1013904223u;
                return rng >> 8;
            };
            std::vector<std::string> arriving(20 * 60);
            int wild = 0;
            for (int64_t a = s0 + 7 * 60; a < s0 + 20 * 60; ++a) {
                if (a >= s0 + 12 * 60 && a < s0 + 15 * 60) {
                    continue; // a real quiet gap, longer than a jump: confirmed by what follows
                }
                for (int k = 0; k < 2; ++k) {
                    arriving[a - s0] += log_line(a - static_cast<int64_t>(next() % 3), 200);
                }
                if (next() % 97 == 0) {
                    for (int k = 0; k < burst; ++k) {
                        arriving[a - s0] += log_line(a + 7200, 503);
                        ++wild;
                    }
                }
            }
            REQUIRE(wild > 0);
            // Ticks every 10 s from minute 5, windows ending max_lateness (1 min) before: the
            // monitor watched from 5:10 on, so the windows ending 5:20 to 6:50 (ticks 8 to 17)
            // hold only its quiet intervals (no_traffic) where a replay has no sample before
            // the first line, at about 7:00 (no_data); the windows that hold both count more
            // samples live; from the tick whose window starts at 7:00 (tick 24) on, the records
            // are the same.
            auto r = live_and_replay(dir, start, arriving, 24);
            for (size_t i = 8; i < 18; ++i) {
                CAPTURE(i);
                CHECK(r.live[i].find("\"missing\":\"no_traffic\"") != std::string::npos);
                CHECK(r.replayed[i].find("\"missing\":\"no_data\"") != std::string::npos);
            }
            CHECK(r.fs.implausible == static_cast<uint64_t>(wild));
            CHECK(r.counts.implausible == static_cast<uint64_t>(wild));
            CHECK(r.fs.late == 0);
            CHECK(r.counts.late == 0);
            CHECK(r.triggers == 0);
            // The first tick, on the empty log: nothing observed, in both.
            REQUIRE(!r.live.empty());
            CHECK(r.live[0].find("\"missing\":\"no_data\"") != std::string::npos);
        }
    }

    TEST_CASE("lines a live monitor does not count for their date are written to its log") {
        // Never silent: lines ahead of the machine's clock (a worker whose clock runs ahead, or
        // this machine's clock behind the web server's) are warned about, with their count.
        rollback::test::TempDir dir;
        ::setenv("ROLLBACK_LOG", "file", 1);
        log::init(dir / "rollback.log");
        const auto now = at("2026-11-26T10:00:00Z");
        const int64_t s = epoch_s(now);
        dir.write("access.log", log_line(s - 5, 200) + log_line(s + 7200, 503) +
                                    log_line(s + 7200, 503) + log_line(s - 4, 200));
        auto cfg = config::parse(k_error_rate_config, "rollback.toml", dir.path());
        monitor::Monitor mon(cfg);
        exec::RealProcessRunner runner;
        mon.tick(runner, now);
        mon.tick(runner, now + seconds(10)); // nothing new: nothing more written
        log::shutdown();
        ::unsetenv("ROLLBACK_LOG");
        CHECK(mon.log_counts("web").implausible == 2);
        const std::string text = util::read_file(dir / "rollback.log");
        CHECK(text.find("source \"web\": 2 more lines not counted") != std::string::npos);
        CHECK(text.find("more lines not counted", text.find("more lines not counted") + 1) ==
              std::string::npos);
    }

    TEST_CASE("lines later than max_lateness: not counted — reported in the records and counts") {
        rollback::test::TempDir dir;
        const auto start = at("2026-11-26T10:00:00Z");
        const int64_t s0 = epoch_s(start);
        std::string log;
        for (int64_t t = s0; t < s0 + 300; ++t) {
            log += log_line(t, 200);
            if (t == s0 + 200) {
                // 120 s late with max_lateness 60 s
                log += log_line(s0 + 80, 504) + log_line(s0 + 81, 504);
            }
        }
        dir.write("recorded.log", log);
        auto fs = sources::read_samples(dir / "recorded.log", "combined_request_time", 10, 60);
        CHECK(fs.late == 2);
        uint64_t late_in_samples = 0, errors = 0;
        for (const auto& s : fs.samples) {
            late_in_samples += s.late;
            errors += s.errors;
        }
        CHECK(late_in_samples == 2);
        CHECK(errors == 0);
        // The records of the windows holding the report say so.
        auto cfg = config::parse(k_error_rate_config, "rollback.toml", dir.path());
        decision::Evaluator ev(cfg.conditions, cfg.decision);
        uint64_t max_late = 0;
        monitor::replay(ev, "web", fs.samples, start + seconds(60), start + seconds(360),
                        cfg.interval, [&](const decision::Evaluation& e) {
                            const auto& c = e.record.conditions[0];
                            max_late = std::max(max_late, c.late.value_or(0));
                        });
        CHECK(max_late == 2);
    }

    TEST_CASE("with a history of deploys — the replay computes the previous release's baseline "
              "as live and triggers where the live monitor triggers") {
        rollback::test::TempDir dir;
        const auto start = at("2026-11-26T10:00:00Z");
        const int64_t s0 = epoch_s(start);
        // v1 answers in 100 ms; v2, deployed at 10:12:05 (between two ticks), in 400 ms.
        const int64_t v2_at = s0 + 12 * 60 + 5;
        auto lines_at = [&](int64_t t) {
            const double taken = t >= v2_at ? 0.4 : 0.1;
            return log_line(t, 200, taken) + log_line(t, 200, taken);
        };
        std::string all;
        for (int64_t t = s0; t < s0 + 20 * 60; ++t) {
            all += lines_at(t);
        }
        dir.write("recorded.log", all);
        auto cfg = config::parse(R"(
[target]
name = "t"
[source.web]
kind = "access_log"
path = "access.log"
[[condition]]
name = "slower-than-before"
signal = "web.latency_p95"
window = "1m"
above_baseline = 1.5
baseline = "previous_release"
min_requests = 20
for = "30s"
[decision]
interval = "10s"
cooldown = "1h"
)",
                                 "rollback.toml", dir.path());
        const auto interval = cfg.interval;
        const std::vector<monitor::Deploy> deploys = {{start, "v1"},
                                                      {util::SystemTime(seconds(v2_at)), "v2"}};
        // The first tick's window (max_lateness 1m + window 1m before it) lies in the log: the
        // live monitor's first read takes the time before the log's first line as quiet.
        const auto first = start + std::chrono::minutes(2);
        const auto last = start + std::chrono::minutes(20);
        auto fs = sources::read_samples(dir / "recorded.log", "combined_request_time", 10, 60);

        auto replay = [&](const std::vector<monitor::Deploy>& history, int& triggers) {
            decision::Evaluator ev(cfg.conditions, cfg.decision);
            std::vector<std::string> out;
            auto st = monitor::replay(
                ev, "web", fs.samples, first, last, interval,
                [&](const decision::Evaluation& e) {
                    triggers += e.record.action == decision::Action::trigger;
                    out.push_back(decision::to_json(e.record));
                },
                history);
            CHECK(st.deploys == history.size());
            return out;
        };
        int replay_triggers = 0;
        auto replayed = replay(deploys, replay_triggers);

        // Live: the log grows second by second; `rollback deployed` records each marker when
        // its release goes live, and the monitor reads the newest marker at each tick.
        dir.write("access.log", "");
        monitor::Monitor mon(cfg);
        exec::RealProcessRunner runner;
        int64_t written = s0;
        size_t marker = 0;
        std::vector<std::string> live;
        std::string trigger_record;
        for (auto now = first; now <= last; now += interval) {
            std::string chunk;
            for (; written < epoch_s(now); ++written) {
                chunk += lines_at(written);
            }
            append(dir / "access.log", chunk);
            while (marker < deploys.size() && deploys[marker].time <= now) {
                mon.deployed(deploys[marker].time, deploys[marker].release);
                ++marker;
            }
            auto e = mon.tick(runner, now);
            if (e.record.action == decision::Action::trigger) {
                trigger_record = decision::to_json(e.record);
            }
            live.push_back(decision::to_json(e.record));
        }
        REQUIRE(live.size() == replayed.size());
        for (size_t i = 0; i < live.size(); ++i) {
            INFO("tick " << i);
            CHECK(live[i] == replayed[i]);
        }
        CHECK(replay_triggers == 1);
        CHECK(trigger_record.find("\"release\":\"v2\"") != std::string::npos);
        CHECK(trigger_record.find("while release v1 ran") != std::string::npos);

        // Without the history there is no previous release: no baseline, no trigger.
        int bare_triggers = 0;
        auto bare = replay({}, bare_triggers);
        CHECK(bare_triggers == 0);
        CHECK(bare.back().find("no value recorded for a previous release") != std::string::npos);
    }

    TEST_CASE("access logs are followed across rotation and truncation — and a missing log is "
              "no data — not quiet") {
        rollback::test::TempDir dir;
        auto cfg = config::parse(R"(
[target]
name = "t"
[source.web]
kind = "access_log"
path = "access.log"
max_lateness = "0s"
[[condition]]
name = "count"
signal = "web.request_count"
window = "10s"
above = 1000000
[decision]
interval = "10s"
)",
                                 "rollback.toml", dir.path());
        monitor::Monitor mon(cfg);
        exec::RealProcessRunner runner;
        auto now = at("2026-11-26T10:00:00Z");
        auto lines = [&](int n) {
            std::string out;
            for (int i = 0; i < n; ++i) {
                out += log_line(epoch_s(now) + 1, 200);
            }
            return out;
        };
        auto observed_next = [&] {
            now += seconds(10);
            auto e = mon.tick(runner, now);
            REQUIRE(e.record.conditions.size() == 1);
            return e.record.conditions[0];
        };
        // No file yet: the monitor cannot see the service.
        auto c = observed_next();
        CHECK(c.missing == decision::Missing::no_data);
        CHECK(c.verdict == decision::Verdict::no_data);

        // The file is there but holds no line yet: it observed nothing (just created, or
        // rotated — the last lines are in the old file), as a replay of it has no sample.
        dir.write("access.log", "");
        c = observed_next();
        CHECK_FALSE(c.observed);
        CHECK(c.missing == decision::Missing::no_data);

        append(dir / "access.log", lines(7));
        c = observed_next();
        CHECK(*c.observed == 7);

        // Rotation: 3 more lines into the old file, then a new file with 4.
        append(dir / "access.log", lines(3));
        std::filesystem::rename(dir / "access.log", dir / "access.log.1");
        dir.write("access.log", lines(4));
        c = observed_next();
        CHECK(*c.observed == 7);

        // Truncation (copytruncate): the file starts over.
        append(dir / "access.log", lines(50));
        c = observed_next();
        CHECK(*c.observed == 50);
        dir.write("access.log", lines(2));
        c = observed_next();
        CHECK(*c.observed == 2);

        std::filesystem::remove(dir / "access.log");
        std::filesystem::remove(dir / "access.log.1");
        c = observed_next();
        CHECK(c.verdict == decision::Verdict::no_data);
        CHECK(c.detail.find("access.log") != std::string::npos);
    }

    TEST_CASE("a polled source is read on its own interval — without one — every tick") {
        rollback::test::TempDir dir;
        auto cfg = config::parse(R"(
[target]
name = "t"
[source.slow]
kind = "command"
argv = ["true"]
interval = "30s"
[source.fast]
kind = "command"
argv = ["true"]
[[condition]]
name = "slow"
signal = "slow.value"
window = "1m"
above = 5
[[condition]]
name = "fast"
signal = "fast.value"
window = "1m"
above = 5
[decision]
interval = "10s"
)",
                                 "rollback.toml", dir.path());
        CHECK(cfg.sources["fast"].interval == seconds(10));
        const auto runs = [&](const char* name) {
            return "echo 1; echo x >> " + (dir / name).string();
        };
        cfg.sources["slow"].argv = {"sh", "-c", runs("slow.runs")};
        cfg.sources["fast"].argv = {"sh", "-c", runs("fast.runs")};
        monitor::Monitor mon(cfg);
        exec::RealProcessRunner runner;
        auto now = at("2026-11-26T10:00:00Z");
        for (int i = 0; i < 9; ++i) {
            auto e = mon.tick(runner, now + seconds(10 * i));
            for (const auto& c : e.record.conditions) {
                CHECK(c.verdict == decision::Verdict::ok);
            }
        }
        auto count_lines = [&](const char* name) {
            std::ifstream in(dir / name);
            return std::count(std::istreambuf_iterator<char>(in), {}, '\n');
        };
        CHECK(count_lines("fast.runs") == 9);
        CHECK(count_lines("slow.runs") == 3); // at :00, :30, :60 of the 90 seconds
    }
}

TEST_SUITE("monitor") {
    TEST_CASE("every tick is a line of the day's tick file — a new day drops files past the keep") {
        rollback::test::TempDir dir;
        dir.write("decisions/ticks-2026-11-01.jsonl", "{}\n");
        dir.write("decisions/ticks-2026-11-20.jsonl", "{}\n");
        decision::DecisionRecord r;
        r.time = at("2026-11-26T10:00:00Z");
        decision::ConditionRecord c;
        c.name = "errors";
        c.observed = 0.25;
        r.conditions.push_back(c);
        rollback::state::LocalStore(dir.path()).append_tick(r, "", 14);
        r.time += seconds(10);
        r.conditions[0].observed.reset();
        rollback::state::LocalStore(dir.path()).append_tick(r, "20261126T100010.000Z-0123abcd", 14);
        CHECK_FALSE(std::filesystem::exists(dir / "decisions/ticks-2026-11-01.jsonl"));
        CHECK(std::filesystem::exists(dir / "decisions/ticks-2026-11-20.jsonl"));
        std::ifstream in(dir / "decisions/ticks-2026-11-26.jsonl");
        std::string first, second, third;
        std::getline(in, first);
        std::getline(in, second);
        CHECK_FALSE(std::getline(in, third));
        CHECK(first == R"({"version":1,"kind":"tick","time":"2026-11-26T10:00:00.000Z",)"
                       R"("action":"none","executed":false,"record":"","conditions":)"
                       R"([{"name":"errors","verdict":"ok","observed":2.5E-1}]})");
        CHECK(second.find(R"("record":"20261126T100010.000Z-0123abcd")") != std::string::npos);
        CHECK(second.find(R"("observed":null)") != std::string::npos);
    }
}

TEST_SUITE("monitor") {
    TEST_CASE("replay: the streamed replay writes the records of the replay from memory") {
        rollback::test::TempDir dir;
        const auto start = at("2026-11-26T10:00:00Z");
        const int64_t s0 = epoch_s(start);
        // 5xx from minute 4 to 7, a quiet hour, lines out of order within max_lateness, a
        // deploy in the middle.
        std::string all;
        for (int64_t t = s0; t < s0 + 10 * 60; ++t) {
            const int64_t m = (t - s0) / 60;
            const int status = (m >= 4 && m < 7 && t % 2 == 0) ? 502 : 200;
            all += log_line(t, status) + log_line(t % 7 == 0 ? t - 5 : t, 200, 0.2);
        }
        for (int64_t t = s0 + 70 * 60; t < s0 + 75 * 60; ++t) {
            all += log_line(t, t % 3 == 0 ? 500 : 200);
        }
        dir.write("recorded.log", all);
        auto cfg = config::parse(k_error_rate_config, "rollback.toml", dir.path());
        const std::vector<monitor::Deploy> deploys{{start + std::chrono::minutes(3), "v2"}};
        const util::Millis lateness(60'000);

        auto fs = sources::read_samples(dir / "recorded.log", "combined_request_time", 10, 60);
        REQUIRE(!fs.samples.empty());
        decision::Evaluator ev_memory(cfg.conditions, cfg.decision);
        std::vector<std::string> from_memory;
        const auto first = fs.samples.front().time;
        const auto last = fs.samples.back().time + lateness + cfg.interval - util::Millis(1);
        auto st_memory = monitor::replay(
            ev_memory, "web", fs.samples, first, last, cfg.interval,
            [&](const decision::Evaluation& e) { from_memory.push_back(to_json(e.record)); },
            deploys);

        decision::Evaluator ev_stream(cfg.conditions, cfg.decision);
        std::vector<std::string> streamed;
        util::Millis most_ahead{0};
        std::optional<util::SystemTime> newest;
        monitor::ReplayLoop loop(
            ev_stream, "web", cfg.interval, std::nullopt,
            [&](const decision::Evaluation& e) {
                streamed.push_back(to_json(e.record));
                // Ticks are evaluated as their samples come in, not after the whole file: the
                // newest sample read is at most one interval past the tick.
                if (newest && *newest > e.record.time) {
                    most_ahead =
                        std::max(most_ahead,
                                 std::chrono::duration_cast<util::Millis>(*newest - e.record.time));
                }
            },
            deploys);
        sources::stream_samples(dir / "recorded.log", "combined_request_time", 10, 60, std::nullopt,
                                std::nullopt, sources::k_max_replay_samples, 0,
                                [&](decision::Sample s) {
                                    newest = s.time;
                                    loop.add(std::move(s));
                                });
        REQUIRE(loop.last_sample());
        CHECK(*loop.first_sample() == first);
        auto st_stream =
            loop.finish(*loop.last_sample() + lateness + cfg.interval - util::Millis(1));
        CHECK(st_stream.ticks == st_memory.ticks);
        CHECK(st_stream.samples == st_memory.samples);
        CHECK(st_stream.deploys == 1);
        CHECK(streamed == from_memory);
        CHECK(most_ahead > util::Millis(0));
        CHECK(most_ahead <= cfg.interval);
        CHECK(st_memory.ticks > 400); // 75 minutes at 10 s
    }
}

TEST_SUITE("monitor") {
    TEST_CASE("the silence after a breach: check --replay escalates where the live monitor does") {
        // The issue's scenario 3 (break-it finding 02): 5 requests a second, 20 % of them 500s
        // for 50 s, then the service writes no line again. Live finalizes the quiet intervals
        // after the last line as zero requests; the replay of the file makes them too, up to
        // its documented end (docs/decision.md, "The end of a replay").
        rollback::test::TempDir dir;
        const auto start = at("2026-12-05T20:47:30Z");
        const int64_t s0 = epoch_s(start);
        auto lines_at = [&](int64_t t) {
            std::string out;
            if (t >= s0 + 80) {
                return out; // crashed
            }
            for (int k = 0; k < 5; ++k) {
                out += log_line(t, t >= s0 + 30 && (t * 5 + k) % 5 == 0 ? 500 : 200);
            }
            return out;
        };
        std::string all;
        for (int64_t t = s0; t < s0 + 80; ++t) {
            all += lines_at(t);
        }
        dir.write("recorded.log", all);
        auto cfg = config::parse(R"([target]
name = "t"
[source.web]
kind = "access_log"
path = "access.log"
interval = "10s"
[[condition]]
name = "checkout"
signal = "web.error_rate"
window = "1m"
above = 0.05
min_requests = 100
for = "90s"
max_missed = 2
[decision]
interval = "10s"
cooldown = "1h"
)",
                                 "rollback.toml", dir.path());
        monitor::FileReplay r;
        r.file = (dir / "recorded.log").string();
        r.source = "web";
        std::vector<std::string> replayed;
        std::vector<util::SystemTime> replay_escalations;
        monitor::FileReplayer replayer(
            cfg, r,
            [&](const decision::DecisionRecord& rec) {
                if (rec.action == decision::Action::escalate) {
                    replay_escalations.push_back(rec.time);
                }
            },
            [](const std::string&) {});
        replayer.read();
        const auto res = replayer.finish();
        REQUIRE(res.stats.ticks > 0);
        // The replay's ticks end at the last line's interval + max_lateness + silence_tail.
        const auto tail = monitor::silence_tail(cfg.conditions, cfg.interval, seconds(10));
        CHECK(tail == seconds(90 + 4 * 60 + 4 * 10));
        CHECK(*replayer.newest() == start + seconds(80) + tail);

        // Live: the log grows second by second; the monitor ticks through the silence.
        dir.write("access.log", "");
        monitor::Monitor mon(cfg);
        exec::RealProcessRunner runner;
        int64_t written = s0;
        std::vector<util::SystemTime> live_escalations;
        const auto first_tick = start + seconds(10);
        const auto last_tick =
            first_tick + cfg.interval * static_cast<int64_t>(res.stats.ticks - 1);
        for (auto now = first_tick; now <= last_tick; now += cfg.interval) {
            std::string chunk;
            for (; written < epoch_s(now); ++written) {
                chunk += lines_at(written);
            }
            append(dir / "access.log", chunk);
            auto e = mon.tick(runner, now);
            if (e.record.action == decision::Action::escalate) {
                live_escalations.push_back(now);
                REQUIRE(e.record.conditions.size() == 1);
                CHECK(e.record.conditions[0].verdict == decision::Verdict::no_traffic);
                CHECK(e.record.conditions[0].detail.find("silent after breaching") !=
                      std::string::npos);
            }
        }
        REQUIRE(live_escalations.size() == 1);
        CHECK(replay_escalations == live_escalations);
    }
}

TEST_SUITE("monitor") {
    TEST_CASE("a monitor whose clock is behind the web server's: the source is unusable - no_data "
              "clock skew - escalated") {
        // Break-it finding 11: the web server's clock 10 s ahead, jump = 2 s + 2 × 1 s. Every line
        // the monitor reads is from its future: it counts none, and says so in the record.
        exec::RealProcessRunner runner;
        // Now (lines more than a day after this machine's clock are implausible as well).
        const auto start = util::SystemTime(
            seconds(epoch_s(util::SystemTime(std::chrono::system_clock::now())) / 10 * 10));
        // 10 s ahead, and two days ahead (beyond the day-ahead bound of plausible lines: still
        // told as clock skew, not only as implausible lines).
        for (const int64_t ahead_s : {int64_t{10}, int64_t{2 * 86400}}) {
            CAPTURE(ahead_s);
            rollback::test::TempDir dir;
            auto cfg = config::parse(R"([target]
name = "t"
[source.web]
kind = "access_log"
path = "access.log"
interval = "1s"
max_lateness = "2s"
[[condition]]
name = "err"
signal = "web.error_rate"
window = "10s"
above = 0.3
min_requests = 10
[decision]
interval = "2s"
)",
                                     "rollback.toml", dir.path());
            dir.write("access.log", "");
            monitor::Monitor mon(cfg);
            int escalations = 0, skew_ticks = 0;
            for (int i = 0; i <= 10; ++i) {
                const auto now = start + seconds(2 * i);
                const int64_t t = epoch_s(now);
                std::string chunk;
                // Tick 0 sees an empty log (no_data, an empty window: ignored); then the server
                // writes, stamped by its clock 10 s ahead.
                for (int64_t s = t - 2; s < t && i > 0; ++s) {
                    for (int k = 0; k < 5; ++k) {
                        chunk += log_line(s + ahead_s, 500);
                    }
                }
                append(dir / "access.log", chunk);
                auto e = mon.tick(runner, now);
                REQUIRE(e.record.conditions.size() == 1);
                const auto& c = e.record.conditions[0];
                INFO("tick " << i << ": " << c.detail);
                CHECK(c.verdict == decision::Verdict::no_data);
                const bool skew = c.detail.find("clock skew " + std::to_string(ahead_s - 1) +
                                                " s: the 10 lines read") != std::string::npos;
                if (skew) {
                    ++skew_ticks;
                    CHECK(c.detail.find("none is counted") != std::string::npos);
                    CHECK(c.policy == decision::Policy::escalate);
                }
                if (e.record.action == decision::Action::escalate) {
                    ++escalations;
                    CHECK(i == 1); // the monitor went blind: a person is told at once
                    CHECK(skew);
                }
            }
            CHECK(skew_ticks == 10);
            CHECK(escalations == 1); // the state begins once; then once per cooldown
        }

        // The same lines from a right clock are counted: no skew, the errors trigger.
        rollback::test::TempDir dir2;
        auto cfg2 = config::parse(R"([target]
name = "t"
[source.web]
kind = "access_log"
path = "access.log"
interval = "1s"
max_lateness = "2s"
[[condition]]
name = "err"
signal = "web.error_rate"
window = "10s"
above = 0.3
min_requests = 10
[decision]
interval = "2s"
)",
                                  "rollback.toml", dir2.path());
        dir2.write("access.log", "");
        monitor::Monitor mon2(cfg2);
        int triggers = 0;
        for (int i = 1; i <= 10; ++i) {
            const auto now = start + seconds(2 * i);
            const int64_t t = epoch_s(now);
            std::string chunk;
            for (int64_t s = t - 2; s < t; ++s) {
                for (int k = 0; k < 5; ++k) {
                    chunk += log_line(s, 500);
                }
            }
            append(dir2 / "access.log", chunk);
            auto e = mon2.tick(runner, now);
            CHECK(e.record.conditions[0].detail.find("clock skew") == std::string::npos);
            triggers += e.record.action == decision::Action::trigger;
        }
        CHECK(triggers == 1);
    }
}
