// SPDX-License-Identifier: MIT
#include "decision/combine.hpp"

#include "decision/evaluator_impl.hpp"

#include <algorithm>

namespace rollback::decision {

bool takes_over(Action a, Mode m, Action top, Mode top_mode) {
    const auto executes = [](Action x, Mode md) {
        return x != Action::none && md != Mode::observe;
    };
    const bool exec = executes(a, m), top_exec = executes(top, top_mode);
    return exec != top_exec ? exec : a > top;
}

std::string decision_reason(const DecisionRecord& r) {
    if (r.action == Action::none) {
        int pending = 0, missing = 0;
        for (const auto& c : r.conditions) {
            pending += c.verdict == Verdict::pending || c.verdict == Verdict::firing;
            missing += c.missing != Missing::none;
        }
        // Written at every tick of a replay: no temporaries.
        std::string reason;
        reason.reserve(80);
        reason += "no action: ";
        append_int(reason, static_cast<long long>(r.conditions.size()));
        reason += " conditions, ";
        append_int(reason, pending);
        reason += " breaching, ";
        append_int(reason, missing);
        reason += " without usable data";
        return reason;
    }
    const auto& c = *std::find_if(r.conditions.begin(), r.conditions.end(),
                                  [&](const auto& x) { return x.name == r.cause; });
    if (c.missing != Missing::none && c.verdict != Verdict::firing) {
        return "condition \"" + c.name + "\": " + std::string(to_string(c.missing)) + " (" +
               c.detail + "); policy " + std::string(to_string(*c.policy));
    }
    std::string reason =
        "condition \"" + c.name + "\" is firing: " + c.signal + " = " +
        (c.observed ? format_number(*c.observed) : std::string("none")) +
        (c.threshold ? ", " + c.comparator + " " + format_number(*c.threshold) : "") + "; " +
        c.counting_state;
    if (!c.detail.empty()) {
        reason += "; " + c.detail;
    }
    return reason;
}

DecisionRecord combine(DecisionRecord a, const DecisionRecord& b, Mode policy_mode) {
    a.conditions.insert(a.conditions.end(), b.conditions.begin(), b.conditions.end());
    a.action = Action::none;
    a.cause.clear();
    a.mode = policy_mode;
    for (const auto& c : a.conditions) {
        if (takes_over(c.action, c.mode, a.action, a.mode)) {
            a.action = c.action;
            a.cause = c.name;
            a.mode = c.mode;
        }
    }
    a.executed = a.action != Action::none && a.mode != Mode::observe;
    if (b.cooldown_until && (!a.cooldown_until || *a.cooldown_until < *b.cooldown_until)) {
        a.cooldown_until = b.cooldown_until;
    }
    a.reason = decision_reason(a);
    return a;
}

} // namespace rollback::decision
