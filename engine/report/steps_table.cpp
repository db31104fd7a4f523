// SPDX-License-Identifier: MIT
#include "report/steps_table.hpp"

#include "util/duration.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <chrono>

namespace rollback::report {
namespace {

using journal::StepStatus;

/// `s` appended to `out`, padded with spaces to `width`.
void append_padded(std::string& out, std::string_view s, size_t width) {
    out += s;
    if (s.size() < width) {
        out.append(width - s.size(), ' ');
    }
}

std::string ms_text(std::int64_t ms) {
    return util::format_duration(util::Millis(ms));
}

std::string step_detail(const journal::StepState& st, bool live) {
    switch (st.status) {
    case StepStatus::skipped:
    case StepStatus::marked_done:
        return st.why;
    case StepStatus::running: {
        // Where a long step is (a restore's stage: side_created, restored, verified, ...) and
        // for how long, for the person looking from a second terminal.
        std::string out = "started " + st.started;
        if (const auto t = util::parse_time(st.started); t && live) {
            const auto ago = std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::system_clock::now() - *t);
            if (ago.count() >= 0) {
                out += " (" + util::format_duration(ago) + " ago)";
            }
        }
        if (!st.stage.empty()) {
            out += ", stage " + st.stage;
        }
        return out;
    }
    case StepStatus::interrupted:
        if (st.in_flight) {
            std::string how = st.idempotent  ? "resume re-runs it (idempotent)"
                              : st.has_probe ? "resume runs its probe first"
                                             : "resume asks a person (not idempotent, no probe)";
            return "started, not finished" +
                   (st.stage.empty() ? std::string() : " (last stage reached: " + st.stage + ")") +
                   ": " + how;
        }
        return st.summary;
    case StepStatus::pending:
        return st.why.empty() ? (live ? "" : "not started") : st.why;
    default:
        return st.summary;
    }
}

} // namespace

void append_steps_table(std::string& out, const journal::RunState& s, bool live) {
    if (s.steps.empty()) {
        return;
    }
    size_t w_id = 4, w_phase = 5, w_state = 5;
    for (const auto& st : s.steps) {
        w_id = std::max(w_id, st.id.size());
        w_phase = std::max(w_phase, st.phase.size());
        w_state = std::max(w_state, journal::to_string(st.status).size());
    }
    out += "\n  ";
    append_padded(out, "STEP", w_id + 2);
    append_padded(out, "PHASE", w_phase + 2);
    append_padded(out, "STATE", w_state + 2);
    out += "TRIES  EXIT  TIME     DETAIL\n";
    std::string line; // one row, built in place (a long run has a row per step)
    for (const auto& st : s.steps) {
        std::string exit = st.exit_code ? std::to_string(*st.exit_code) : "-";
        std::string time =
            st.duration_ms > 0 || !st.finished.empty() ? ms_text(st.duration_ms) : "-";
        const std::string detail = step_detail(st, live);
        line.assign("  ");
        append_padded(line, st.id, w_id + 2);
        append_padded(line, st.phase, w_phase + 2);
        append_padded(line, journal::to_string(st.status), w_state + 2);
        append_padded(line, std::to_string(st.attempts), 7);
        append_padded(line, exit, 6);
        append_padded(line, time, 9);
        // Only the first line of a detail fits a table row.
        line.append(detail, 0, detail.find('\n'));
        while (!line.empty() && line.back() == ' ') {
            line.pop_back();
        }
        out += line;
        out += '\n';
        for (const auto& p : st.left_running) {
            out += "  " + std::string(w_id + 2, ' ') + "left running: pid " +
                   std::to_string(p.pid) + " (" + p.command + ")" +
                   (p.left_group ? " [left the group]" : "") + "\n";
        }
    }
}

} // namespace rollback::report
