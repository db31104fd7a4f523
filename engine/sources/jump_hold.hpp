// SPDX-License-Identifier: MIT
#pragma once

// The rule that keeps a wild date (a typo'd year, a worker whose clock runs ahead) from moving a
// recorded stream's clock, shared by access logs and CSV series (docs/decision.md, "Event time
// and lateness"): an entry dated more than `jump` ahead of the stream's clock (or the first one)
// starts a held run; the entries after it join the run while they are within `jump` of its first
// entry. The run is confirmed — counted, in order — by the first entry at least `jump` after its
// first (the stream's time really went on past it), and refuted — not counted — by the first
// entry more than `jump` before its first (the stream came back: the run was ahead of it). So a
// burst of any number of lines from a clock that runs ahead confirms nothing by itself: its lines
// span less than `jump` of their own time, and the next right line refutes them all.

#include <cstdint>
#include <utility>
#include <vector>

namespace rollback::sources {

template <class Entry>
class JumpHold {
  public:
    explicit JumpHold(int64_t jump) : m_jump(jump) {}

    bool empty() const { return m_held.empty(); }
    /// The time of the held run's first entry (the jump); meaningful when !empty().
    int64_t first() const { return m_first; }
    size_t size() const { return m_held.size(); }

    /// One entry at time `t` (the caller's unit), in stream order. `clock()` is the stream's
    /// clock — the newest counted entry, INT64_MIN before any — read after each confirmation.
    /// `count(entry)` is called for every entry that counts, in stream order; `refuse(entry)` for
    /// every held entry that a return refuted.
    template <class Clock, class Count, class Refuse>
    void feed(Entry e, int64_t t, Clock&& clock, Count&& count, Refuse&& refuse) {
        if (!m_held.empty()) {
            if (t < m_first - m_jump) {
                refute(refuse);
            } else if (t - m_first >= m_jump) {
                confirm(count);
            } else {
                m_held.push_back(std::move(e));
                return;
            }
        }
        const int64_t c = clock();
        if (c == INT64_MIN || t - c > m_jump) {
            m_first = t;
            m_held.push_back(std::move(e));
            return;
        }
        count(std::move(e));
    }

    /// Counts every held entry, in order (the stream's time went on past them).
    template <class Count>
    void confirm(Count&& count) {
        std::vector<Entry> held = std::move(m_held);
        m_held.clear();
        for (auto& e : held) {
            count(std::move(e));
        }
    }

    /// Counts none of the held entries.
    template <class Refuse>
    void refute(Refuse&& refuse) {
        std::vector<Entry> held = std::move(m_held);
        m_held.clear();
        for (auto& e : held) {
            refuse(std::move(e));
        }
    }

  private:
    int64_t m_jump;
    int64_t m_first = 0;
    std::vector<Entry> m_held;
};

} // namespace rollback::sources
