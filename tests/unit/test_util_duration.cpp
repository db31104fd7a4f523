// SPDX-License-Identifier: MIT
#include "util/duration.hpp"
#include "util/strings.hpp"

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
