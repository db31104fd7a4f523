// SPDX-License-Identifier: MIT
#include "util/duration.hpp"
#include "util/strings.hpp"

#include <cstdio>
#include <doctest/doctest.h>

using namespace rollback::util;

TEST_SUITE("util") {
    TEST_CASE("durations parse and print") {
        CHECK(parse_duration("250ms") == Millis(250));
        CHECK(parse_duration("30s") == Millis(30'000));
        CHECK(parse_duration("1h30m") == Millis(5'400'000));
        CHECK(parse_duration("1.5s") == Millis(1500));
        CHECK_FALSE(parse_duration(""));
        CHECK_FALSE(parse_duration("10"));
        CHECK_FALSE(parse_duration("5 s"));
        CHECK_FALSE(parse_duration("-5s"));
        CHECK_FALSE(parse_duration("5x"));
        CHECK(format_duration(Millis(250)) == "250ms");
        CHECK(format_duration(Millis(1200)) == "1.2s");
        CHECK(format_duration(Millis(90'000)) == "1m30s");
    }

    TEST_CASE("durations print as snprintf printed them — every millisecond to two minutes") {
        // The formatting before it was written with integers (util/duration.cpp).
        auto by_snprintf = [](long long ms) {
            char buf[64];
            if (ms < 1000) {
                std::snprintf(buf, sizeof buf, "%lldms", ms);
            } else if (ms < 60'000 && ms % 1000 == 0) {
                std::snprintf(buf, sizeof buf, "%llds", ms / 1000);
            } else if (ms < 60'000) {
                std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
            } else {
                return std::string();
            }
            return std::string(buf);
        };
        int differ = 0;
        for (long long ms = -1500; ms < 60'000; ++ms) {
            if (format_duration(Millis(ms)) != by_snprintf(ms)) {
                INFO(ms << ": " << format_duration(Millis(ms)) << " vs " << by_snprintf(ms));
                CHECK(++differ < 5);
            }
        }
        CHECK(differ == 0);
        // Half a tenth rounds as the double does: 1.25 is exact (to even), 1.35 is above.
        CHECK(format_duration(Millis(1250)) == "1.2s");
        CHECK(format_duration(Millis(1350)) == "1.4s");
        CHECK(format_duration(Millis(1050)) == "1.1s");
        CHECK(format_duration(Millis(59'960)) == "60.0s");
        CHECK(format_duration(Millis(9'960)) == "10.0s");
        CHECK(format_duration(Millis(-3)) == "-3ms");
        CHECK(format_duration(Millis(60'000)) == "1m");
        CHECK(format_duration(Millis(3'723'000)) == "1h2m3s");
        CHECK(format_duration(Millis(120'500)) == "2m");
    }

    TEST_CASE("closest_match suggests typos only") {
        std::vector<std::string> keys{"timeout", "retries", "argv", "on_failure"};
        CHECK(closest_match("timout", keys) == "timeout");
        CHECK(closest_match("retires", keys) == "retries");
        CHECK(closest_match("zzzzzzzz", keys).empty());
    }
    TEST_CASE(
        "durations are bounded: ten years at most — a gate or a wait cannot overflow the clock") {
        CHECK(rollback::util::parse_duration("3650d") == rollback::util::k_max_duration);
        CHECK_FALSE(rollback::util::parse_duration("3651d"));
        CHECK_FALSE(rollback::util::parse_duration("100000d"));
        CHECK_FALSE(rollback::util::parse_duration("87601h"));
    }
}
