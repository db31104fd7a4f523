// SPDX-License-Identifier: MIT
#pragma once

// Which of several monitors sharing one state acts (docs/config.md "Shared state in
// PostgreSQL", "Leadership"). Followers evaluate and record; only the leader acts. The monitor
// loop asks may_act() once per evaluation, in one place, before anything that acts.

#include "state/store.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace rollback::state {

/// The leader now: who, the generation of its leadership (greater for every new leader) and
/// when its lease ends unless renewed ("" when it has no expiry).
struct Leader {
    Holder holder;
    std::uint64_t generation = 0;
    std::string expires_at;
};

class Leadership {
  public:
    virtual ~Leadership() = default;
    /// True while this process leads: renews the leadership when held, takes it when nobody
    /// holds it (or its holder went silent past its lease). A store that cannot be reached
    /// answers false (logged): a process that cannot tell acts on nothing.
    virtual bool may_act() = 0;
    /// The generation of the leadership this process won last (0: none, or alone on its
    /// state): what a run it starts is fenced by (RunFence).
    virtual std::uint64_t generation() const = 0;
    /// True when the leadership this process won is still live now, read from the store
    /// without renewing it: the check right before an action outside the journal (an approval
    /// request, a [decision] hook), so a leader paused past its lease acts on nothing after a
    /// takeover. False when it cannot tell (the store did not answer).
    virtual bool leads_now() const = 0;
    /// Who leads now; nullopt when nobody does.
    virtual std::optional<Leader> leader() const = 0;
    /// Gives the leadership up now (a clean exit), so a follower takes over at its next
    /// evaluation instead of after the lease. Never throws.
    virtual void step_down() noexcept = 0;
};

/// A monitor alone on its state (a state directory): it always leads.
class SoleLeadership final : public Leadership {
  public:
    explicit SoleLeadership(Holder me) : m_me(std::move(me)) {}
    bool may_act() override { return true; }
    std::uint64_t generation() const override { return 0; }
    bool leads_now() const override { return true; }
    std::optional<Leader> leader() const override { return Leader{m_me, 1, ""}; }
    void step_down() noexcept override {}

  private:
    Holder m_me;
};

} // namespace rollback::state
