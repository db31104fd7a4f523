// SPDX-License-Identifier: MIT
#include "decision/sample.hpp"

#include <doctest/doctest.h>

using namespace rollback;

TEST_SUITE("decision") {
    TEST_CASE("a failed probe counts as an error, not as a latency of the target") {
        const util::SystemTime t{std::chrono::seconds(1'800'000'000)};
        auto ok = decision::Sample::make_probe(t, false, 120.0);
        CHECK(ok.count == 1);
        CHECK(ok.errors == 0);
        REQUIRE(ok.latency.size() == 1);
        CHECK(ok.latency[0].second == 1);
        auto refused = decision::Sample::make_probe(t, true, 0.0);
        CHECK(refused.count == 1);
        CHECK(refused.errors == 1);
        CHECK(refused.value == 0.0);
        CHECK(refused.latency.empty());
    }
}
