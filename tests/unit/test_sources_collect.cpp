// SPDX-License-Identifier: MIT
#include "sources/collect.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

using namespace rollback;

namespace {

std::string line(const std::string& when) {
    return "127.0.0.1 - - [" + when + " +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\" 0.010\n";
}

} // namespace

TEST_SUITE("sources") {
    TEST_CASE("replay: lines years apart are refused before their empty intervals are held") {
        test::TempDir dir;
        auto log = dir.write("access.log",
                             line("01/Jan/2001:00:00:00") + line("01/Jan/2001:00:00:01") +
                                 line("29/Nov/2026:00:00:00") + line("29/Nov/2026:00:00:01") +
                                 line("29/Nov/2026:00:00:05"));
        const auto started = std::chrono::steady_clock::now();
        try {
            sources::read_samples(log, "combined_request_time", 1, 0, std::nullopt, std::nullopt,
                                  1000);
            FAIL("expected util::Error");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::invalid);
            CHECK(std::string(e.what()) ==
                  log.string() +
                      ": the lines span 2001-01-01T00:00:01.000Z .. 2001-01-01T00:16:41.000Z, "
                      "more than 1000 intervals of 1 s (at most 1000)");
        }
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
    }

    TEST_CASE("replay: a gap of years is refused before one of its quiet intervals is made") {
        test::TempDir dir;
        auto log = dir.write("access.log",
                             line("01/Jan/2001:00:00:00") + line("01/Jan/2001:00:00:02") +
                                 line("29/Nov/2026:00:00:00") + line("29/Nov/2026:00:00:01") +
                                 line("29/Nov/2026:00:00:05"));
        std::vector<decision::Sample> made;
        try {
            sources::stream_samples(log, "combined_request_time", 1, 0, std::nullopt, std::nullopt,
                                    1000, 0, [&](decision::Sample s) { made.push_back(s); });
            FAIL("expected util::Error");
        } catch (const util::Error& e) {
            // The same words as when the bound is passed sample by sample.
            CHECK(std::string(e.what()) ==
                  log.string() +
                      ": the lines span 2001-01-01T00:00:01.000Z .. 2001-01-01T00:16:41.000Z, "
                      "more than 1000 intervals of 1 s (at most 1000)");
        }
        // The two 2001 seconds with a line and the quiet one between them: not the gap.
        REQUIRE(made.size() == 3);
        CHECK(made[1].count == 0);
        CHECK(made[2].count == 1);
    }

    TEST_CASE("replay: the bound counts the samples of the range only") {
        test::TempDir dir;
        std::string text;
        for (int s = 0; s < 60; ++s) {
            text += line("29/Nov/2026:00:00:" + std::string(s < 10 ? "0" : "") + std::to_string(s));
        }
        text += line("29/Nov/2026:00:20:00") + line("29/Nov/2026:00:20:01");
        auto log = dir.write("access.log", text);
        auto from = util::parse_time("2026-11-29T00:00:30Z");
        auto to = util::parse_time("2026-11-29T00:01:00Z");
        size_t n = 0;
        auto st = sources::stream_samples(log, "combined_request_time", 1, 0, from, to, 31, 0,
                                          [&](decision::Sample) { ++n; });
        CHECK(n == 31); // 00:00:30 .. 00:01:00
        CHECK(st.stats.parsed == 62);
        CHECK_THROWS_AS(sources::stream_samples(log, "combined_request_time", 1, 0, from,
                                                std::nullopt, 100, 0, [](decision::Sample) {}),
                        util::Error); // 00:00:30 .. 00:20:02 is 1173 samples
    }

    TEST_CASE("replay: --from/--to aggregate only the lines of the range") {
        test::TempDir dir;
        auto log =
            dir.write("access.log", line("01/Jan/2001:00:00:00") + line("29/Nov/2026:00:00:00") +
                                        line("29/Nov/2026:00:00:05"));
        auto from = util::parse_time("2026-11-29T00:00:00Z");
        auto to = util::parse_time("2026-11-29T00:01:00Z");
        auto in = sources::read_samples(log, "combined_request_time", 1, 0, from, to, 1000);
        // 00:00:00 .. 00:01:00: the line of 2001 says the log was written before the range, so
        // the second ending at --from is a quiet one (break-it 44/05, as the replay from the
        // start makes it); two lines, then quiet seconds up to --to, as the live monitor makes
        // them at a tick --to (docs/decision.md, "The end of a replay").
        REQUIRE(in.samples.size() == 61);
        CHECK(in.samples.front().time == *from);
        CHECK(in.samples.front().count == 0);
        CHECK(in.samples[1].count == 1);
        CHECK(in.samples[6].count == 1);
        CHECK(in.samples.back().count == 0);
        CHECK(in.samples.back().time == *to);
        CHECK(in.stats.parsed == 3);
    }

    TEST_CASE("replay: a FIFO or a directory is refused — not waited on") {
        test::TempDir dir;
        const auto fifo = dir / "fifo";
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
        CHECK_THROWS_AS(sources::read_samples(fifo, "combined", 10, 0), util::Error);
        CHECK_THROWS_AS(sources::read_samples(dir.path(), "combined", 10, 0), util::Error);
    }
}
