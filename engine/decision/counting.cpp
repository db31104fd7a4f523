// SPDX-License-Identifier: MIT
#include "decision/evaluator_impl.hpp"

#include <algorithm>

namespace rollback::decision {

bool Evaluator::Impl::counting_satisfied(const CondState& c, SystemTime now) const {
    const ConditionSpec& sp = c.spec;
    switch (sp.counting) {
    case Counting::immediate:
        return c.consec >= 1;
    case Counting::for_duration:
        return c.run_start && now - *c.run_start >= sp.for_duration;
    case Counting::consecutive:
        return c.consec >= sp.consecutive;
    case Counting::m_of_n:
        return std::count(c.recent.begin(), c.recent.end(), true) >= sp.m;
    }
    return false;
}

void Evaluator::Impl::count(CondState& c, Outcome outcome, SystemTime now,
                            ConditionRecord& r) const {
    const ConditionSpec& sp = c.spec;
    if (outcome == Outcome::missed) {
        ++c.missed_in_run;
        if (c.missed_in_run > sp.max_missed) {
            c.reset_counting();
        }
    } else {
        if (outcome == Outcome::breach) {
            if (!c.run_start) {
                c.run_start = now;
                c.run_breached = 0;
                c.run_ticks = 0;
                c.missed_in_run = 0;
            }
            ++c.run_breached;
            ++c.consec;
            c.missed_in_run = 0; // missed ticks in a row: an isolated one never adds up
        } else {
            c.run_start.reset();
            c.run_breached = 0;
            c.run_ticks = 0;
            c.consec = 0;
            c.missed_in_run = 0;
        }
        c.recent.push_back(outcome == Outcome::breach);
        while (static_cast<int>(c.recent.size()) > std::max(sp.n, 1)) {
            c.recent.pop_front();
        }
    }
    if (c.run_start) {
        ++c.run_ticks;
    }
    std::string& st = r.counting_state;
    auto append_missed = [&] {
        if (c.missed_in_run > 0) {
            st += " (";
            append_int(st, c.missed_in_run);
            st += " missed of ";
            append_int(st, sp.max_missed);
            st += " allowed)";
        }
    };
    switch (sp.counting) {
    case Counting::immediate:
        r.breached = outcome == Outcome::breach ? 1 : 0;
        r.of = 1;
        st = outcome == Outcome::breach ? "breached at this evaluation"
             : outcome == Outcome::ok   ? "not breached"
                                        : "not observed";
        break;
    case Counting::for_duration:
        r.breached = c.run_breached;
        r.of = c.run_ticks;
        if (!c.run_start) {
            st = "not breaching";
            break;
        }
        st.reserve(128);
        st += "breaching for ";
        st += describe_duration(now - *c.run_start);
        st += " of ";
        st += c.for_text;
        st += " required, ";
        append_int(st, c.run_breached);
        st += " of ";
        append_int(st, c.run_ticks);
        st += " evaluations breached";
        append_missed();
        break;
    case Counting::consecutive:
        r.breached = c.consec;
        r.of = sp.consecutive;
        st.reserve(96);
        append_int(st, c.consec);
        st += " consecutive breaches of ";
        append_int(st, sp.consecutive);
        st += " required";
        append_missed();
        break;
    case Counting::m_of_n: {
        int hits = static_cast<int>(std::count(c.recent.begin(), c.recent.end(), true));
        r.breached = hits;
        r.of = static_cast<int>(c.recent.size());
        st.reserve(64);
        append_int(st, hits);
        st += " of the last ";
        append_int(st, static_cast<long long>(c.recent.size()));
        st += " breached (";
        append_int(st, sp.m);
        st += " of ";
        append_int(st, sp.n);
        st += " required)";
        break;
    }
    }
}

} // namespace rollback::decision
