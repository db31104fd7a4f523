// SPDX-License-Identifier: MIT
#include "monitor/rollbacks.hpp"

#include <algorithm>

namespace rollback::monitor {

std::optional<util::SystemTime> rollback_end(const journal::RunState& st,
                                             util::SystemTime fallback) {
    if (st.finished.empty() || st.dry_run) {
        return std::nullopt;
    }
    if (st.status != journal::RunStatus::succeeded &&
        st.status != journal::RunStatus::verification_failed) {
        return std::nullopt;
    }
    return util::parse_time(st.finished).value_or(fallback);
}

std::vector<util::SystemTime> recorded_rollbacks(const state::Runs& runs, uint64_t& unreadable) {
    std::vector<util::SystemTime> out;
    for (const auto& id : runs.list_runs()) {
        try {
            const auto st = journal::fold(runs.read_journal(id), false);
            // A finished run's end is in its journal; the fallback is never used for one.
            if (auto end = rollback_end(st, util::SystemTime{})) {
                if (*end != util::SystemTime{}) {
                    out.push_back(*end);
                }
            }
        } catch (const std::exception&) {
            ++unreadable;
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace rollback::monitor
