// SPDX-License-Identifier: MIT
#include "report/progress_bar.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <random>

using rollback::report::progress_bar;

TEST_SUITE("report") {
    TEST_CASE("progress bar: a restore's progress line drawn with its facts kept") {
        auto bar = progress_bar("restoring: 12/40 items, ETA 30s", 80);
        REQUIRE(bar);
        CHECK(*bar == "restoring [#########.....................]  30% 12/40 items, ETA 30s");
        CHECK(*progress_bar("restoring: 40/40 items, done in 3s", 80) ==
              "restoring [##############################] 100% 40/40 items, done in 3s");
        CHECK(*progress_bar("restoring: 0/7", 40) == "restoring [...................]   0% 0/7");
    }

    TEST_CASE("progress bar: other lines and impossible counts are left as text") {
        for (const char* line : {"waiting for health", "restoring: 5 items", "restoring: 41/40 x",
                                 "restoring: 1/0 items", ": 1/2", "restoring: 1/2x",
                                 "restoring: -1/2", "restoring: 99999999999999999999/1"}) {
            CAPTURE(line);
            CHECK_FALSE(progress_bar(line, 80));
        }
        CHECK_FALSE(progress_bar("restoring: 12/40 items, ETA 30s", 20)); // does not fit
    }

    TEST_CASE("progress bar: the width an 80-column step list leaves still draws a bar") {
        // 80 columns less "  restore-db  running             0.0s    " (about 42): the label
        // goes, the counts and the ETA stay whole.
        auto bar = progress_bar("restoring: 7/11 items, ETA 2s", 38);
        REQUIRE(bar);
        CHECK(*bar == "[#######.....]  63% 7/11 items, ETA 2s");
        bar = progress_bar("restoring: 7/11 items, ETA 1m30s", 34);
        REQUIRE(bar);
        CHECK(*bar == "[###..]  63% 7/11 items, ETA 1m30s");
        CHECK(bar->size() == 34);
    }

    TEST_CASE("progress bar: generated counts and widths — fits the width and the fill is exact") {
        std::mt19937 rng(7);
        for (int i = 0; i < 5000; ++i) {
            const uint64_t total = 1 + rng() % 100000;
            const uint64_t done = rng() % (total + 1);
            const size_t cols = 10 + rng() % 140;
            const std::string line =
                "restoring: " + std::to_string(done) + "/" + std::to_string(total) + " items";
            auto bar = progress_bar(line, cols);
            if (!bar) {
                CHECK(line.size() + 17 > cols); // only when the shortest form cannot fit
                continue;
            }
            CHECK(bar->size() <= cols);
            CHECK(bar->find(std::to_string(done) + "/" + std::to_string(total) + " items") !=
                  std::string::npos);
            const size_t open = bar->find('['), close = bar->find(']');
            const size_t cells = close - open - 1;
            const auto filled =
                static_cast<size_t>(std::count(bar->begin() + open, bar->begin() + close, '#'));
            CHECK(filled == done * cells / total);
        }
    }
}
