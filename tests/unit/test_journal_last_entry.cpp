// SPDX-License-Identifier: MIT
#include "journal/reader.hpp"
#include "journal/records.hpp"
#include "journal/writer.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fstream>

using namespace rollback;
using namespace rollback::journal;

TEST_SUITE("journal") {
    TEST_CASE("last entry: read from the end of the journal") {
        test::TempDir tmp;
        const auto file = tmp / "runs/20261126T143500Z-3fa9c1.jsonl";
        CHECK_FALSE(last_entry(file));
        {
            auto w = Writer::create(file, {{"run_id", "20261126T143500Z-3fa9c1"},
                                           {"created", "2026-11-26T14:35:00.000Z"}});
            SUBCASE("a journal of its header alone has none") {
                CHECK_FALSE(last_entry(file));
            }
            w.append(to_json(StepStarted{"s", 1}));
            auto one = last_entry(file);
            REQUIRE(one);
            CHECK(one->type() == RecordType::step_started);
            CHECK(one->seq == 1);
            w.append(to_json(RunFinished{"succeeded", 0, 12, std::nullopt}));
        }
        auto last = last_entry(file);
        REQUIRE(last);
        CHECK(last->type() == RecordType::run_finished);
        CHECK(std::get<RunFinished>(last->record).state == "succeeded");

        SUBCASE("a torn last line is not a record: the one before it is the last") {
            std::ofstream(file, std::ios::app) << R"({"seq":3,"time":"2026-11-26T14:3)";
            auto before = last_entry(file);
            REQUIRE(before);
            CHECK(before->type() == RecordType::run_finished);
        }
        SUBCASE("a last line longer than asked for is not read") {
            CHECK_FALSE(last_entry(file, 40));
            CHECK(last_entry(file, 400));
        }
    }
}
