// SPDX-License-Identifier: MIT
// monitor-policy.json carries every part of the incident policy's memory (break-it issue 10,
// findings 03, 06 and 10): written and read back equal; version 1 files still read.
#include "state/memory_store.hpp"
#include "state/policy_memory.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"

#include <doctest/doctest.h>

using namespace rollback;
using namespace std::chrono_literals;

TEST_SUITE("state") {
    TEST_CASE("the policy memory round-trips with its open incidents and escalations") {
        rollback::test::TempDir dir;
        const auto t = util::SystemTime(std::chrono::seconds(1'795'996'800));
        decision::Evaluator::PolicyMemory m;
        m.cooldown_until = t + 1h;
        m.watch_until = t + 30min;
        decision::Evaluator::ConditionMemory a;
        a.incident_since = t;
        a.ok_since = t + 5s;
        a.acted = true;
        a.approval_id = "20261130-000000-abcdef12";
        a.approval_expires = t + 1h;
        a.approval_expired = true;
        m.conditions["checkout-errors"] = a;
        decision::Evaluator::ConditionMemory b;
        b.last_escalated = t + 2s;
        b.missing_verdict = decision::Verdict::error;
        b.noted_cooldown = t + 1h;
        m.conditions["orders"] = b;
        // Version 3: the last tick judged, an http source's failure run.
        m.evaluated_until = t + 7s;
        decision::Evaluator::ConditionMemory d;
        d.fail_since = t - 10s;
        d.fail_last = t + 6s;
        m.conditions["health-down"] = d;
        // A shadow's (mode observe) trigger: a restart into mode auto acts on the incident.
        decision::Evaluator::ConditionMemory s;
        s.incident_since = t;
        s.acted = true;
        s.shadow_acted = true;
        m.conditions["shadow"] = s;
        state::save_policy_memory(dir.path(), m);
        auto back = state::load_policy_memory(dir.path());
        REQUIRE(back);
        CHECK(*back == m);

        // Version 1: the cooldown and the watch only.
        dir.write("monitor-policy.json",
                  "{\"version\":1,\"cooldown_until\":\"2026-11-30T01:00:00Z\","
                  "\"watch_until\":\"\"}\n");
        back = state::load_policy_memory(dir.path());
        REQUIRE(back);
        CHECK(back->cooldown_until == t + 1h);
        CHECK(back->conditions.empty());
    }

    TEST_CASE("the decided run keeps the run that excluded it and a new decision clears it") {
        state::MemoryStore store;
        decision::Evaluator::PolicyMemory m;
        m.decided_run = decision::Evaluator::PolicyMemory::DecidedRun{
            "20261206-140000-aaaaaaaa", "20261206-135959-bbbbbbbb", "checkout-errors"};
        state::save_policy_memory(store, m, "20261206-135000-cccccccc");
        std::string by = "stale";
        auto back = state::load_policy_memory(store, &by);
        REQUIRE(back);
        CHECK(*back == m);
        CHECK(by == "20261206-135000-cccccccc");

        // Saved again without an exclusion (a new decided run): none is read back.
        m.decided_run->run_id = "20261206-141000-dddddddd";
        state::save_policy_memory(store, m);
        back = state::load_policy_memory(store, &by);
        REQUIRE(back);
        CHECK(back->decided_run == m.decided_run);
        CHECK(by.empty());

        // No decided run: an exclusion has nothing to belong to.
        m.decided_run.reset();
        state::save_policy_memory(store, m, "20261206-135000-cccccccc");
        back = state::load_policy_memory(store, &by);
        REQUIRE(back);
        CHECK(!back->decided_run);
        CHECK(by.empty());
    }
}
