// SPDX-License-Identifier: MIT
#include "util/time.hpp"

#include <doctest/doctest.h>

using namespace rollback;
using std::chrono::seconds;

namespace {

int64_t epoch_s(util::SystemTime t) {
    return std::chrono::duration_cast<seconds>(t.time_since_epoch()).count();
}

std::string why_not(std::string_view text) {
    std::string why;
    CHECK_FALSE(util::parse_time(text, &why));
    return why;
}

} // namespace

TEST_SUITE("util") {
    TEST_CASE("time: RFC 3339 with offsets and fractions — and the plain UTC form") {
        CHECK(epoch_s(*util::parse_time("2026-11-30T05:00:00Z")) == 1796014800);
        CHECK(epoch_s(*util::parse_time("2026-11-30 05:00:00")) == 1796014800);
        CHECK(epoch_s(*util::parse_time("2026-11-30T06:30:00+01:30")) == 1796014800);
        CHECK(epoch_s(*util::parse_time("2026-11-30T03:00:00-02:00")) == 1796014800);
        auto t = util::parse_time("2026-11-30T05:00:00.123456789Z");
        REQUIRE(t);
        CHECK(t->time_since_epoch().count() % 1'000'000'000 == 123456789);
        CHECK(util::format_time(*t) == "2026-11-30T05:00:00.123Z");
    }

    TEST_CASE("time: an offset that is not ±HH:MM is an error — not a time 23 days off") {
        CHECK(why_not("2026-11-30T05:00:00+ab:cd").find("+ab:cd") != std::string::npos);
        CHECK(why_not("2026-11-30T05:00:00+05:99").find("+05:99") != std::string::npos);
        CHECK_FALSE(util::parse_time("2026-11-30T05:00:00+5:30"));
        CHECK_FALSE(util::parse_time("2026-11-30T05:00:00+0530"));
        CHECK_FALSE(util::parse_time("2026-11-30T05:00:00 +01:00"));
    }

    TEST_CASE("time: dates and times that do not exist are errors — never rolled over") {
        CHECK(why_not("2026-02-31T05:00:00Z") == "no such date and time: 2026-02-31T05:00:00");
        CHECK_FALSE(util::parse_time("2026-02-29 00:00:00")); // 2026 is not a leap year
        CHECK(util::parse_time("2028-02-29 00:00:00"));
        CHECK_FALSE(util::parse_time("2026-11-30T25:00:00Z"));
        CHECK_FALSE(util::parse_time("2026-11-30T24:00:00Z"));
        CHECK_FALSE(util::parse_time("2026-11-30T05:60:00Z"));
        CHECK_FALSE(util::parse_time("2026-13-01T05:00:00Z"));
        CHECK_FALSE(util::parse_time("2026-1-3T05:00:00Z"));
        CHECK_FALSE(util::parse_time("2026-11-30T05:00:00."));
        CHECK_FALSE(util::parse_time("2026-11-30T05:00:00.1234567890Z"));
        CHECK_FALSE(util::parse_time(""));
    }

    TEST_CASE("time: parse_time reads back what format_time wrote over the whole range") {
        // format_time goes through gmtime_r, parse_time through its own arithmetic: two ways
        // that must agree on every calendar day, leap years and centuries included.
        const int64_t first = epoch_s(*util::parse_time("1678-01-01T00:00:00Z"));
        const int64_t last = epoch_s(*util::parse_time("2261-12-31T23:59:59Z"));
        int checked = 0;
        std::string first_wrong;
        for (int64_t s = first; s <= last; s += 86400 / 2 + 3607) {
            const auto t = *util::time_from_millis(s * 1000 + (s % 1000 + 1000) % 1000);
            const auto back = util::parse_time(util::format_time(t));
            if ((!back || *back != t) && first_wrong.empty()) {
                first_wrong = util::format_time(t);
            }
            ++checked;
        }
        CHECK(first_wrong == "");
        CHECK(checked > 300000);
    }

    TEST_CASE("time: years the nanosecond clock cannot hold are refused — never wrapped") {
        CHECK(why_not("9999-12-31T23:59:59Z") == "year 9999 is outside 1678..2261");
        CHECK(why_not("1000-01-01 00:00:00") == "year 1000 is outside 1678..2261");
        CHECK(why_not("0000-01-01 00:00:00") == "year 0 is outside 1678..2261");
        CHECK(util::parse_time("2261-12-31T23:59:59Z"));
        CHECK(util::parse_time("1678-01-01T00:00:00Z"));
        // An offset cannot carry the last second past the end.
        CHECK(why_not("2261-12-31T23:59:59-23:59") == "year 2262 is outside 1678..2261");
    }

    TEST_CASE("time: conversions from epoch numbers are checked") {
        CHECK(epoch_s(*util::time_from_seconds(1796014800)) == 1796014800);
        CHECK_FALSE(util::time_from_seconds(INT64_MAX));
        CHECK_FALSE(util::time_from_seconds(INT64_MIN));
        CHECK_FALSE(util::time_from_seconds(253402300799)); // 9999-12-31T23:59:59Z
        CHECK_FALSE(util::time_from_millis(INT64_MAX));
        CHECK(util::format_time(*util::time_from_millis(-1)) == "1969-12-31T23:59:59.999Z");
    }
}
