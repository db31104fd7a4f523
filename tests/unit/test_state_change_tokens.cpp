// SPDX-License-Identifier: MIT
// The cheap change tokens of state::Runs the monitor's idle tick relies on: a new run changes
// runs_version(), a record appended changes journal_version(); a store that cannot tell says so.
#include "state/local_store.hpp"
#include "state/memory_store.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <thread>

using namespace rollback;

TEST_SUITE("state") {
    TEST_CASE("change tokens: a new run and a growing journal change them — unchanged otherwise") {
        test::TempDir dir;
        state::LocalStore store(dir.path());
        const std::string first = "20261126T100000Z-aaaaaa", second = "20261126T110000Z-bbbbbb";
        CHECK_FALSE(store.runs_version()); // no runs yet: nothing to watch
        CHECK_FALSE(store.journal_version(first));

        auto lease = store.acquire_lease(state::this_process_holder(first, "test")).lease;
        REQUIRE(lease);
        auto j = store.create_journal(first, {{"run_id", first}}, *lease);
        const auto v1 = store.runs_version();
        REQUIRE(v1);
        CHECK(store.runs_version() == v1);
        const auto size1 = store.journal_version(first);
        REQUIRE(size1);
        j->append({{"type", "note"}, {"text", "one"}});
        const auto size2 = store.journal_version(first);
        REQUIRE(size2);
        CHECK(*size2 > *size1);
        CHECK(store.runs_version() == v1); // a record is no new run

        // Directory times tick with the kernel's coarse clock: a new run a moment later.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        store.create_journal(second, {{"run_id", second}}, *lease);
        CHECK(store.runs_version() != v1);
        CHECK(store.latest_run() == second);
    }

    TEST_CASE("change tokens: a store that cannot tell cheaply says so") {
        state::MemoryStore store;
        CHECK_FALSE(store.runs_version());
        CHECK_FALSE(store.journal_version("20261126T100000Z-aaaaaa"));
    }
}
