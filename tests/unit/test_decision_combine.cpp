// SPDX-License-Identifier: MIT
// One record of the signal and the alert conditions (`check`, `explain --now`): decided again
// by the tick's rule over all of them.
#include "decision/combine.hpp"

#include <doctest/doctest.h>

using namespace rollback;
using namespace rollback::decision;

namespace {

ConditionRecord condition(std::string name, Verdict v, Action a, Mode m = Mode::auto_) {
    ConditionRecord c;
    c.name = std::move(name);
    c.signal = "web.error_rate";
    c.verdict = v;
    c.action = a;
    c.mode = m;
    c.observed = 0.5;
    c.comparator = "above";
    c.threshold = 0.1;
    c.counting_state = "1 of the last 1 breached";
    return c;
}

DecisionRecord record(std::vector<ConditionRecord> conditions) {
    DecisionRecord r;
    r.conditions = std::move(conditions);
    r.reason = decision_reason(r);
    return r;
}

} // namespace

TEST_SUITE("decision") {
    TEST_CASE("combined records count every condition and take the heaviest action") {
        auto signals = record({condition("errors", Verdict::ok, Action::none)});
        auto alerts = record({condition("page", Verdict::firing, Action::trigger)});
        alerts.action = Action::trigger;
        alerts.cause = "page";
        const auto r = combine(signals, alerts, Mode::auto_);
        REQUIRE(r.conditions.size() == 2);
        CHECK(r.action == Action::trigger);
        CHECK(r.cause == "page");
        CHECK(r.executed);
        CHECK(r.reason.rfind("condition \"page\" is firing: web.error_rate = 0.5, above 0.1", 0) ==
              0);
    }

    TEST_CASE("no action in either: the reason counts the conditions of both") {
        auto signals = record({condition("errors", Verdict::ok, Action::none)});
        auto missing = condition("page", Verdict::no_data, Action::none);
        missing.missing = Missing::no_data;
        const auto r = combine(signals, record({missing}), Mode::auto_);
        CHECK(r.action == Action::none);
        CHECK_FALSE(r.executed);
        CHECK(r.reason == "no action: 2 conditions, 0 breaching, 1 without usable data");
    }

    TEST_CASE("an executed action outranks a heavier shadow of mode observe") {
        auto signals =
            record({condition("shadow", Verdict::firing, Action::trigger, Mode::observe)});
        auto alerts = record({condition("page", Verdict::firing, Action::notify)});
        const auto r = combine(signals, alerts, Mode::auto_);
        CHECK(r.action == Action::notify);
        CHECK(r.cause == "page");
        CHECK(r.mode == Mode::auto_);
        CHECK(r.executed);
    }
}
