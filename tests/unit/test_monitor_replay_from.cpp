// SPDX-License-Identifier: MIT
// `check --replay --from T`: the evaluations start at T, the data is read from T minus the longest
// window, and the quiet intervals of that read-back are judged as the replay from the file's start
// judges them (break-it 44/05).
#include "monitor/replay.hpp"

#include "util/strings.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

using namespace rollback;

namespace {

std::string line_at(int minute, int second) {
    char line[200];
    std::snprintf(line, sizeof line,
                  "10.0.0.1 - - [07/Dec/2026:00:%02d:%02d +0000] \"GET / HTTP/1.1\" 200 5 \"-\" "
                  "\"ua\"\n",
                  minute, second);
    return line;
}

// A request every 2 s until 00:10, then the site is dead: one line at 00:30.
std::string dead_stretch_log() {
    std::string out;
    for (int s = 0; s < 600; s += 2) {
        out += line_at(s / 60, s % 60);
    }
    return out + line_at(30, 0);
}

config::Config traffic_rule(const test::TempDir& dir, const std::string& extra = "") {
    return config::parse(R"([target]
name = "t"
[source.web]
kind = "access_log"
path = "y.log"
format = "combined"
interval = "10s"
max_lateness = "0s"
[[condition]]
name = "traffic"
signal = "web.request_count"
window = "1m"
below = 5
)" + extra + R"(
[decision]
interval = "10s"
)",
                         "rollback.toml", dir.path());
}

struct Replayed {
    std::vector<std::string> samples; ///< samples_only: the CSV lines (header first)
    std::vector<decision::DecisionRecord> shown;
    monitor::FileReplayResult result;
    sources::FileStats in;
    bool any = false; ///< a sample was read
};

Replayed replay(const config::Config& cfg, const std::filesystem::path& log,
                std::optional<std::string> from, bool samples_only,
                std::optional<std::string> to = std::nullopt) {
    Replayed out;
    monitor::FileReplay r;
    r.file = log.string();
    r.source = "web";
    r.samples_only = samples_only;
    if (from) {
        r.from = util::parse_time(*from);
    }
    if (to) {
        r.to = util::parse_time(*to);
    }
    monitor::FileReplayer replayer(
        cfg, r, [&](const decision::DecisionRecord& rec) { out.shown.push_back(rec); },
        [&](const std::string& line) { out.samples.push_back(line); });
    out.in = replayer.read();
    out.any = replayer.newest().has_value();
    if (out.any && !samples_only) {
        out.result = replayer.finish();
    }
    return out;
}

/// The sample lines of `all` dated at or after `from` (the header dropped).
std::vector<std::string> from_on(const std::vector<std::string>& all, const std::string& from) {
    std::vector<std::string> out;
    for (size_t i = 1; i < all.size(); ++i) {
        const std::string end = all[i].substr(all[i].find(',') + 1, from.size());
        if (end >= from) {
            out.push_back(all[i]);
        }
    }
    return out;
}

} // namespace

TEST_SUITE("monitor") {
    TEST_CASE("replay --from in a dead stretch: its quiet intervals are zero requests as from the "
              "start") {
        test::TempDir dir;
        const auto cfg = traffic_rule(dir);
        const auto log = dir.write("y.log", dead_stretch_log());
        const auto whole = replay(cfg, log, std::nullopt, true);
        for (const std::string from : {"2026-12-07T00:12:00Z", "2026-12-07T00:15:00Z"}) {
            CAPTURE(from);
            const auto part = replay(cfg, log, from, true);
            // Every interval the replay from T reads back and judges is the whole replay's.
            const auto read_back = from_on(part.samples, "2026-12-07T00:1");
            REQUIRE(read_back.size() > 6);
            CHECK(read_back == from_on(whole.samples, part.samples.at(1).substr(
                                                          part.samples.at(1).find(',') + 1, 24)));
            CHECK(part.samples.at(1).find(",requests,0,0,") != std::string::npos);
            // And the first tick judges a full window of them: a dead site.
            const auto judged = replay(cfg, log, from, false);
            CHECK(judged.result.triggers == 1);
            REQUIRE_FALSE(judged.shown.empty());
            CHECK(util::format_time(judged.shown.front().time) == from.substr(0, 19) + ".000Z");
            CHECK(judged.shown.front().conditions.at(0).verdict == decision::Verdict::firing);
        }
    }

    TEST_CASE("replay --from after the last line: the quiet after it as the whole replay judges "
              "it") {
        // A breach, then silence: the whole replay judges the quiet after the last line up to
        // its end (docs/decision.md "The end of a replay"); a replay from a time in that quiet
        // reads the same intervals and has the same ticks there — not "no samples".
        test::TempDir dir;
        const auto cfg = traffic_rule(dir);
        std::string text;
        for (int s = 0; s < 300; ++s) {
            text += line_at(s / 60, s % 60);
        }
        const auto log = dir.write("y.log", text);
        const std::string at = "2026-12-07T00:08:00Z"; // 3 minutes after the last line
        const auto whole = replay(cfg, log, std::nullopt, false);
        const auto whole_samples = replay(cfg, log, std::nullopt, true);
        const auto part_samples = replay(cfg, log, at, true);
        REQUIRE(part_samples.samples.size() > 6);
        CHECK(from_on(part_samples.samples, "2026-12-07T00:0") ==
              from_on(whole_samples.samples, part_samples.samples.at(1).substr(
                                                 part_samples.samples.at(1).find(',') + 1, 24)));
        const auto part = replay(cfg, log, at, false);
        REQUIRE(part.any);
        const uint64_t whole_ticks_from_at =
            whole.result.stats.ticks - 47; // the whole replay's ticks 00:00:10-00:07:50
        CHECK(part.result.stats.ticks == whole_ticks_from_at);
        REQUIRE(part.in.lines_end.has_value());
        CHECK(util::format_time(*part.in.lines_end) == "2026-12-07T00:05:00.000Z");
    }

    TEST_CASE("replay --from after the quiet judged after the last line - nothing read and its end "
              "known") {
        test::TempDir dir;
        const auto cfg = traffic_rule(dir);
        const auto log = dir.write("y.log", dead_stretch_log());
        const auto late = replay(cfg, log, "2026-12-07T05:00:00Z", false);
        CHECK_FALSE(late.any);
        REQUIRE(late.in.lines_end.has_value());
        CHECK(util::format_time(*late.in.lines_end) == "2026-12-07T00:30:10.000Z");
        // With --to, the quiet up to it is judged: a recording's end, not a dead site.
        const auto to = replay(cfg, log, "2026-12-07T05:00:00Z", false, "2026-12-07T05:05:00Z");
        REQUIRE(to.any);
        CHECK(to.result.triggers == 0);
        REQUIRE_FALSE(to.shown.empty());
        CHECK(to.shown.front().conditions.at(0).verdict == decision::Verdict::insufficient_sample);
    }
}
