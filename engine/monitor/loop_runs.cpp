// SPDX-License-Identifier: MIT
// The runs the monitor notices ending — its own, a person's (`rollback run`, `trigger`,
// `approve`, `resume`), a webhook's: counted on /metrics, and a rollback's end starts the
// recurrence watch and leaves its release out of the baselines.
#include "journal/state.hpp"
#include "monitor/loop.hpp"
#include "monitor/rollbacks.hpp"
#include "util/log.hpp"

namespace rollback::monitor {

std::optional<std::string> Loop::newest_run() {
    const auto version = m_env.store.runs_version();
    if (!version) {
        m_runs_version.reset();
        return m_env.store.latest_run();
    }
    if (m_runs_version != version || ++m_ticks_since_listing >= k_relist_ticks) {
        m_runs_version = version;
        m_ticks_since_listing = 0;
        m_latest_listed = m_env.store.latest_run();
    }
    return m_latest_listed;
}

/// A rollback run that finished since the last look — started by this monitor, a person
/// (`rollback run`, `trigger`, `approve`) or a webhook: the release it left is no baseline,
/// and for `watch_after` a recurrence is reported, not triggered again.
void Loop::notice_runs() {
    for (auto it = m_unfinished_runs.begin(); it != m_unfinished_runs.end();) {
        const std::string id = *it;
        try {
            auto last = m_env.store.last_record(id);
            if (last && last->type() != journal::RecordType::run_finished) {
                ++it;
                continue;
            }
            it = m_unfinished_runs.erase(it);
            if (last) {
                note_run_end(id, journal::fold(m_env.store.read_journal(id), false));
            }
        } catch (const std::exception& e) {
            log::warn("monitor: cannot read run {}: {}", id, e.what());
            it = m_unfinished_runs.erase(it);
        }
    }
    auto latest = newest_run();
    if (!latest || latest == m_last_run) {
        return;
    }
    if (m_unfinished_seen && m_unfinished_seen->first != *latest) {
        // A newer run came while this one was unfinished: it is still watched (resumed later).
        m_unfinished_runs.insert(m_unfinished_seen->first);
        m_unfinished_seen.reset();
    }
    try {
        std::optional<std::pair<std::string, std::uint64_t>> seen;
        if (auto version = m_env.store.journal_version(*latest)) {
            seen.emplace(*latest, *version);
            if (seen == m_unfinished_seen) {
                return; // no new record since the last look
            }
        }
        // A run ends with run_finished: until its last record says so, the journal (however
        // long) is not read and folded again.
        if (auto last = m_env.store.last_record(*latest);
            !last || last->type() != journal::RecordType::run_finished) {
            m_unfinished_seen = seen;
            return;
        }
        auto st = journal::fold(m_env.store.read_journal(*latest), false);
        if (st.finished.empty()) {
            m_unfinished_seen = seen; // still running, or died: look again when it grows
            return;
        }
        m_last_run = latest;
        m_unfinished_seen.reset();
        note_run_end(*latest, st);
    } catch (const std::exception& e) {
        log::warn("monitor: cannot read run {}: {}", *latest, e.what());
        m_last_run = latest;
    }
}

void Loop::watch_if_unfinished(const std::optional<std::string>& run) {
    if (!run) {
        return;
    }
    try {
        auto last = m_env.store.last_record(*run);
        if (last && last->type() != journal::RecordType::run_finished) {
            m_unfinished_runs.insert(*run);
        }
    } catch (const std::exception& e) {
        log::warn("monitor: cannot read run {}: {}", *run, e.what());
    }
}

void Loop::note_run_end(const std::string& id, const journal::RunState& st) {
    if (st.dry_run || st.finished.empty()) {
        return;
    }
    if (m_endpoint) {
        m_endpoint->run_ended(st);
    }
    if (auto end = rollback_end(st, m_env.clock.now())) {
        m_mon->rolled_back(*end);
        m_baselines_dirty = true;
        log::info("monitor: run {} finished ({}): watching for a recurrence", id,
                  journal::to_string(st.status));
        event(
            {{"event", "run_noticed"}, {"run_id", id}, {"status", journal::to_string(st.status)}});
    }
}

} // namespace rollback::monitor
