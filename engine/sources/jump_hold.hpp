// SPDX-License-Identifier: MIT
#pragma once

// The rule that keeps a wild date (a typo'd year, a worker whose clock runs ahead or behind) from
// moving a recorded stream's clock, shared by access logs and CSV series (docs/decision.md, "Event
// time and lateness"). An entry dated more than `jump` ahead of the stream's clock starts a held
// run; the entries after it join the run while they are within `jump` of its first entry. The run
// is confirmed — counted, in order — by the first entry at least `jump` after its first (the
// stream's time went on past it), and refuted — not counted — by the first entry more than `jump`
// before its first (the stream came back: the run was ahead of it). So a burst of any number of
// lines from a clock that runs ahead confirms nothing by itself: its lines span less than `jump`
// of their own time, and the next right line refutes them all. The stream's first entries get no
// more trust than any other: before any entry counts they are held too, confirmed when they go on
// for `jump` (an entry at least `jump` after the first and at most `jump` after the newest); an
// entry more than `jump` away starts a held run. A run behind the first run is refuted by an entry
// back at the first run's time, and confirmed — refuting the first run, which was ahead — by one a
// jump after its own first that is still behind; a run ahead of the first is judged as in the
// middle, and when it is confirmed (or the stream ends) the first run counts unless it is
// isolated (at most 3 entries, and fewer than the run after it) — so a first line a year behind the
// rest does not anchor the stream a year back, a burst ahead at the start is refuted as in the
// middle, and a sparse stream (one entry an hour) keeps its first entry.

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace rollback::sources {

template <class Entry>
class JumpHold {
  public:
    explicit JumpHold(int64_t jump) : m_jump(jump) {}

    bool empty() const { return m_run.entries.empty() && m_start.entries.empty(); }

    /// One entry at time `t` (the caller's unit), in stream order. `clock()` is the stream's
    /// clock — the newest counted entry, INT64_MIN before any — read after each confirmation.
    /// `count(entry)` is called for every entry that counts, in stream order; `refuse(entry)` for
    /// every held entry that was refuted.
    template <class Clock, class Count, class Refuse>
    void feed(Entry e, int64_t t, Clock&& clock, Count&& count, Refuse&& refuse) {
        if (!m_run.entries.empty()) {
            const bool behind_start =
                !m_start.entries.empty() && m_run.first < m_start.first - m_jump;
            if (t < m_run.first - m_jump || (behind_start && t >= m_start.first - m_jump)) {
                // The stream came back: the run was ahead of it (or, behind the first run, the
                // stream went on from the first run, not from it).
                m_run.release(refuse);
            } else if (behind_start && t - m_run.first >= m_jump) {
                // The stream went on from a run a jump behind its first: the first run was
                // ahead of it, as a burst ahead in the middle is.
                m_start.release(refuse);
                m_run.release(count);
            } else if (t - m_run.first >= m_jump) {
                settle_start(count, refuse); // the stream's time went on past the run
                m_run.release(count);
            } else {
                m_run.add(std::move(e), t);
                return;
            }
        }
        if (clock() == INT64_MIN) {
            // No clock yet: the stream's first run is held too. It is confirmed when it goes on
            // for a jump; an entry a jump away from it starts a second run.
            if (m_start.entries.empty() ||
                (t >= m_start.first - m_jump && t - m_start.first < m_jump)) {
                m_start.add(std::move(e), t);
                return;
            }
            if (t < m_start.first - m_jump || t - m_start.newest > m_jump) {
                m_run.add(std::move(e), t);
                return;
            }
            m_start.release(count);
        }
        if (t - clock() > m_jump) {
            m_run.add(std::move(e), t);
            return;
        }
        count(std::move(e));
    }

    /// The stream ends (a replay) or its reading does (live, max_gap INT64_MAX): entries still
    /// held count or not. A first run with fewer entries than the run after it does not count;
    /// a run after the clock counts when it starts at most `max_gap` after it.
    template <class Clock, class Count, class Refuse>
    void finish(Clock&& clock, int64_t max_gap, Count&& count, Refuse&& refuse) {
        settle_start(count, refuse);
        if (!m_run.entries.empty()) {
            const int64_t c = clock();
            if (c == INT64_MIN || m_run.first - c <= max_gap) {
                m_run.release(count);
            } else {
                m_run.release(refuse);
            }
        }
    }

  private:
    struct Run {
        std::vector<Entry> entries;
        int64_t first = 0, newest = 0;
        void add(Entry e, int64_t t) {
            if (entries.empty()) {
                first = newest = t;
            }
            newest = std::max(newest, t);
            entries.push_back(std::move(e));
        }
        template <class F>
        void release(F&& f) {
            std::vector<Entry> held = std::move(entries);
            entries.clear();
            for (auto& e : held) {
                f(std::move(e));
            }
        }
    };
    /// A first run of at most this many entries, with fewer than the run after it, is an
    /// isolated wild start (a typo'd year on one to three rows).
    static constexpr size_t k_isolated = 3;
    /// The held run is confirmed (or the stream ends) while the first run is held: the first
    /// run counts unless it is isolated — at most k_isolated entries and fewer than the held
    /// run — then it is the stream's wild start (a line a year behind the rest), refuted like a
    /// wild entry in the middle. A sparse stream (one entry an hour) keeps its first entry (one
    /// against one), and so does a log whose first minute fails and then goes silent.
    template <class Count, class Refuse>
    void settle_start(Count&& count, Refuse&& refuse) {
        if (m_start.entries.empty()) {
            return;
        }
        if (m_start.entries.size() <= k_isolated && m_start.entries.size() < m_run.entries.size()) {
            m_start.release(refuse);
        } else {
            m_start.release(count);
        }
    }
    int64_t m_jump;
    Run m_start; ///< the stream's first run, while no entry has counted
    Run m_run;   ///< a run apart from the clock (or from the first run)
};

} // namespace rollback::sources
