// SPDX-License-Identifier: MIT
#include "orchestrator/step_sessions.hpp"

#include "actions/action.hpp"
#include "exec/runner.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

namespace rollback::orchestrator {
namespace {

// PostgreSQL keeps NAMEDATALEN - 1 bytes of an application_name.
constexpr size_t k_max_name = 63;
// A terminated backend ends at its next interrupt check (a COMMIT under way finishes first).
constexpr util::Millis k_session_wait{10000};

bool printable_ascii(std::string_view s) {
    for (char c : s) {
        if (c < 0x20 || c > 0x7e) {
            return false;
        }
    }
    return true;
}

std::vector<journal::DbSession> sessions(const std::vector<actions::Session>& from) {
    std::vector<journal::DbSession> out;
    for (const auto& s : from) {
        out.push_back({s.pid, s.name, s.database, s.user, s.state});
    }
    return out;
}

std::string listing(const std::vector<actions::Session>& from) {
    std::string out;
    for (const auto& s : from) {
        out += (out.empty() ? "" : ", ") + std::string("pid ") + std::to_string(s.pid) + " (" +
               s.user + " on " + s.database + (s.state.empty() ? "" : ", " + s.state) + ")";
    }
    return out;
}

/// "'a', 'b'": the names as SQL literals, for the query a person runs.
std::string literals(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
        out += (out.empty() ? "" : ", ") + std::string("'") + n + "'";
    }
    return out;
}

} // namespace

std::string step_session_name(const std::string& run_id, const std::string& step, int attempt) {
    const std::string head = "rollback/" + run_id + "/";
    const std::string tail = "/" + std::to_string(attempt);
    if (head.size() + step.size() + tail.size() <= k_max_name && printable_ascii(step)) {
        return head + step + tail;
    }
    const std::string hash = "~" + util::sha256_hex(step).substr(0, 8);
    const size_t room = k_max_name - std::min(k_max_name, head.size() + tail.size() + hash.size());
    std::string cut;
    for (char c : step) {
        if (cut.size() >= room) {
            break;
        }
        cut += (c < 0x20 || c > 0x7e) ? '_' : c;
    }
    return head + cut + hash + tail;
}

void settle_sessions(const journal::RunState& state, const playbook::Playbook& pb,
                     const SurvivorHooks& hooks, SurvivorReport& report) {
    for (const auto& st : state.steps) {
        if (!st.in_flight || st.attempts < 1) {
            continue;
        }
        const playbook::Step* step = pb.find_step(st.id);
        const actions::Action* action =
            step != nullptr ? actions::find_action(step->action) : nullptr;
        if (action == nullptr || !action->holds_sessions()) {
            continue;
        }
        if (exec::interrupt_requested() != 0) {
            report.interrupted = true; // the next resume looks again
            return;
        }
        // Every attempt's name: an attempt that ended (step_finished) closed its sessions, but
        // a deposed engine may still hold one of an attempt another resume already swept.
        std::vector<std::string> names;
        for (int a = 1; a <= st.attempts; ++a) {
            names.push_back(step_session_name(state.run_id, st.id, a));
        }
        const actions::SessionSweep sweep = action->end_sessions(pb, *step, names, k_session_wait);
        journal::StepSessions rec{st.id,   st.attempts,     sweep.server, sessions(sweep.found),
                                  "ended", sweep.waited_ms, std::nullopt, std::nullopt};
        const std::string whose = "database sessions of step \"" + st.id +
                                  "\"'s interrupted attempt " + std::to_string(st.attempts);
        if (!sweep.error.empty()) {
            rec.outcome = "unchecked";
            rec.why = sweep.error;
            hooks.record(rec);
            const std::string why = "the " + whose + " could not be looked for on " + sweep.server +
                                    ": " + sweep.error +
                                    " (one still open may commit after the step runs again)";
            log::warn("step {}: {}", st.id, util::mask_secrets(why));
            hooks.progress(st.id, why);
            report.unchecked[st.id] = why;
            continue;
        }
        if (sweep.found.empty()) {
            continue; // the common case: nothing to record
        }
        if (!sweep.remaining.empty()) {
            rec.outcome = "remain";
            rec.remaining = sessions(sweep.remaining);
            if (!sweep.refused.empty()) {
                rec.why = sweep.refused;
            }
        }
        hooks.record(rec);
        if (sweep.remaining.empty()) {
            hooks.progress(st.id, whose + " ended (their open transactions rolled back): " +
                                      listing(sweep.found));
            continue;
        }
        std::string block =
            whose + " are still open on " + sweep.server + " after " +
            util::format_duration(util::Millis(sweep.waited_ms)) + ": " + listing(sweep.remaining) +
            (sweep.refused.empty() ? "" : "; the server refused to end them: " + sweep.refused) +
            " (look: SELECT pid, usename, state, query FROM pg_stat_activity "
            "WHERE application_name IN (" +
            literals(names) + "); end: SELECT pg_terminate_backend(pid) ...)";
        log::warn("step {}: {}", st.id, util::mask_secrets(block));
        hooks.progress(st.id, block);
        auto& b = report.blocked[st.id];
        b += (b.empty() ? "" : "; ") + block;
    }
}

} // namespace rollback::orchestrator
