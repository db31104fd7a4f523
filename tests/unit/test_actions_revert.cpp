// SPDX-License-Identifier: MIT
// The flow release_switch and git_checkout share (actions/revert.hpp): choosing "previous" past
// the releases marked bad, and carrying a plan out.
#include "actions/revert.hpp"

#include "support/action_harness.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace rollback;
using actions::RevertPlan;

namespace {

state::BadRelease bad(const std::string& release, const std::string& location) {
    return {release, location, "2026-12-01T00:00:00Z", "run-0", "v0"};
}

} // namespace

TEST_SUITE("actions") {
    TEST_CASE("revert: previous passes over the releases marked bad at that location only") {
        const std::vector<state::BadRelease> marked{bad("v3", "/srv/a"), bad("v2", "/srv/b")};
        RevertPlan plan;
        CHECK(actions::pick_previous({"v3", "v3", "v2", "v1"}, marked, "/srv/a", plan) == "v2");
        CHECK(plan.skipped == std::vector<std::string>{"v3"});
        CHECK(actions::skipped_note(plan) == " (skipped bad: v3)");

        RevertPlan none;
        CHECK(actions::pick_previous({"v3"}, marked, "/srv/a", none).empty());
        CHECK(actions::pick_previous({}, marked, "/srv/a", none).empty());
        CHECK(actions::skipped_note(RevertPlan{}).empty());
    }

    TEST_CASE("revert: a plan with a problem fails with its hint and marks nothing bad") {
        test::TempDir tmp;
        test::ActionHarness h(tmp.path(), "exec", "{}");
        RevertPlan plan;
        plan.from = "v2";
        plan.chosen_by = "named";
        plan.problem = "release \"v9\" does not exist";
        plan.hint = "name another release";
        bool applied = false;
        actions::RevertWork work{"deploy_root",
                                 "/srv/a",
                                 false,
                                 "already on",
                                 "done",
                                 "switched",
                                 [&](actions::Result&) { return applied = true; }};
        auto r = actions::carry_out(h.context(), plan, work);
        CHECK(r.status == actions::Status::failed);
        CHECK(r.summary == "release \"v9\" does not exist");
        CHECK(r.output_tail == "hint: name another release\n");
        CHECK(r.details.at("deploy_root") == "/srv/a");
        CHECK_FALSE(r.details.contains("from_commit"));
        CHECK_FALSE(applied);
        CHECK(h.store.bad_releases().empty());
    }

    TEST_CASE("revert: already done succeeds without a change — otherwise from is marked bad "
              "before the change") {
        test::TempDir tmp;
        test::ActionHarness h(tmp.path(), "exec", "{}");
        RevertPlan plan;
        plan.from = "v2";
        plan.from_commit = "abc";
        plan.to = "v1";
        plan.to_commit = "def";
        plan.chosen_by = "named";
        size_t marked_when_applied = 99;
        actions::RevertWork work{"repo",
                                 "/srv/repo",
                                 true,
                                 "already at",
                                 "checked out v1",
                                 "checked out v1 (was v2)",
                                 [&](actions::Result&) {
                                     marked_when_applied = h.store.bad_releases().size();
                                     return true;
                                 }};
        SUBCASE("already done") {
            plan.already_done = true;
            auto r = actions::carry_out(h.context(), plan, work);
            CHECK(r.status == actions::Status::succeeded);
            CHECK(r.summary == "already at v1");
            CHECK(marked_when_applied == 99);
            CHECK(h.store.bad_releases().empty());
        }
        SUBCASE("changed") {
            auto r = actions::carry_out(h.context(), plan, work);
            CHECK(r.status == actions::Status::succeeded);
            CHECK(r.summary == "checked out v1 (was v2)");
            CHECK(marked_when_applied == 1);
            CHECK(r.details.at("from_commit") == "abc");
            CHECK(r.details.at("marked_bad") == "v2");
            CHECK(h.progress ==
                  std::vector<std::string>{"checked out v1 (was v2, now marked bad)"});
            auto marked = h.store.bad_releases();
            REQUIRE(marked.size() == 1);
            CHECK(marked[0].release == "v2");
            CHECK(marked[0].location == "/srv/repo");
            CHECK(marked[0].switched_to == "v1");
            CHECK(marked[0].run_id == h.run_id);
        }
        SUBCASE("the change fails") {
            work.apply = [](actions::Result& r) {
                r.summary = "git checkout v1 failed: exit 1";
                return false;
            };
            auto r = actions::carry_out(h.context(), plan, work);
            CHECK(r.status == actions::Status::failed);
            CHECK(r.summary == "git checkout v1 failed: exit 1");
            CHECK_FALSE(r.details.contains("marked_bad"));
            CHECK(h.store.bad_releases().size() == 1); // a retry finishes this switch
        }
    }
}
