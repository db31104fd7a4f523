// SPDX-License-Identifier: MIT
#include "journal/paths.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <set>

using namespace rollback;
using namespace rollback::journal;

TEST_SUITE("journal") {
    TEST_CASE("run ids are sortable by time and unique") {
        auto t = util::parse_time("2026-11-26T14:35:07Z").value();
        std::string id = new_run_id(t);
        CHECK(id.size() == 23);
        CHECK(id.rfind("20261126T143507Z-", 0) == 0);
        CHECK(is_valid_run_id(id));
        std::set<std::string> ids;
        for (int i = 0; i < 200; ++i) {
            ids.insert(new_run_id(t));
        }
        CHECK(ids.size() >= 199); // 24 random bits: a collision in 200 is ~1e-3 likely
        CHECK(new_run_id(t + std::chrono::seconds(1)) > new_run_id(t));
        CHECK_FALSE(is_valid_run_id("../../etc/passwd"));
        CHECK_FALSE(is_valid_run_id("20261126T143507Z-ABCDEF"));
        CHECK_FALSE(is_valid_run_id("20261126T143507Z-abcde"));
        CHECK_FALSE(is_valid_run_id(""));
    }

    TEST_CASE("run paths and listing") {
        test::TempDir tmp;
        CHECK(journal_path(tmp.path(), "20261126T143507Z-abcdef") ==
              tmp / "runs/20261126T143507Z-abcdef.jsonl");
        CHECK(run_dir(tmp.path(), "20261126T143507Z-abcdef") ==
              tmp / "runs/20261126T143507Z-abcdef");
        CHECK_THROWS_AS(journal_path(tmp.path(), "../x"), util::Error);
        CHECK(list_runs(tmp.path()).empty());
        CHECK_FALSE(latest_run(tmp.path()));
        tmp.write("runs/20261126T143507Z-abcdef.jsonl", "x");
        tmp.write("runs/20261127T000000Z-000001.jsonl", "x");
        tmp.write("runs/20261125T000000Z-000001.jsonl", "x");
        tmp.write("runs/20261128T000000Z-000001/artifact", "x"); // a run dir without journal
        tmp.write("runs/notes.jsonl", "x");
        auto ids = list_runs(tmp.path());
        REQUIRE(ids.size() == 3);
        CHECK(ids[0] == "20261127T000000Z-000001");
        CHECK(ids[1] == "20261126T143507Z-abcdef");
        CHECK(ids[2] == "20261125T000000Z-000001");
        CHECK(latest_run(tmp.path()) == "20261127T000000Z-000001");
    }

    TEST_CASE("latest run: of runs started in the same second the last written") {
        test::TempDir tmp;
        const auto older = tmp.write("runs/20261127T000000Z-ffffff.jsonl", "x");
        const auto newer = tmp.write("runs/20261127T000000Z-000001.jsonl", "x");
        tmp.write("runs/20261126T235959Z-000002.jsonl", "x");
        fs::last_write_time(older, fs::last_write_time(newer) - std::chrono::seconds(5));
        CHECK(list_runs(tmp.path()).front() == "20261127T000000Z-000001");
        CHECK(latest_run(tmp.path()) == "20261127T000000Z-000001");
        fs::last_write_time(older, fs::last_write_time(newer) + std::chrono::seconds(5));
        CHECK(list_runs(tmp.path()).front() == "20261127T000000Z-ffffff");
        CHECK(latest_run(tmp.path()) == "20261127T000000Z-ffffff");
    }
}
