// SPDX-License-Identifier: MIT
// The monitors' leadership in the PostgreSQL store: a lease on the row "leader", with the run
// lock's rules (pg_lease.cpp).
#include "state/pg_store.hpp"

#include "util/log.hpp"

namespace rollback::state {

namespace {

// Leadership as a lease on the row "leader": held (and renewed by its heartbeat) while this
// process lives; taken by the next may_act() of a follower once it is free or expired.
class PgLeadership final : public Leadership {
  public:
    PgLeadership(PgStore& store, Holder me) : m_store(store), m_me(std::move(me)) {}
    ~PgLeadership() override { step_down(); }

    bool may_act() override {
        try {
            if (m_lease && m_lease->renew()) {
                return true;
            }
            if (m_lease) {
                log::warn("leadership of generation {} was lost", m_lease->generation());
                m_lease.reset();
            }
            auto attempt = m_store.acquire_row("leader", m_me);
            if (!attempt.lease) {
                return false;
            }
            m_lease = std::move(attempt.lease);
            m_generation = m_lease->generation();
            m_store.fence_policy_writes(m_generation);
            log::info("leading (generation {}){}", m_lease->generation(),
                      attempt.stale ? " after " + attempt.stale->host + " pid " +
                                          std::to_string(attempt.stale->pid) + " went silent"
                                    : std::string());
            return true;
        } catch (const std::exception& e) {
            log::warn("leadership: {}", e.what());
            return false;
        }
    }
    std::uint64_t generation() const override { return m_generation; }
    bool leads_now() const override {
        if (!m_lease) {
            return false;
        }
        try {
            const auto now = m_store.leader();
            return now && now->generation == m_generation;
        } catch (const std::exception& e) {
            log::warn("leadership: {}", e.what());
            return false;
        }
    }
    std::optional<Leader> leader() const override { return m_store.leader(); }
    void step_down() noexcept override {
        if (m_lease) {
            m_lease->release();
            m_lease.reset();
        }
    }

  private:
    PgStore& m_store;
    Holder m_me;
    std::unique_ptr<RunLease> m_lease;
    std::uint64_t m_generation = 0;
};

} // namespace

std::unique_ptr<Leadership> PgStore::leadership(const Holder& me) {
    return std::make_unique<PgLeadership>(*this, me);
}

std::optional<Leader> PgStore::leader() const {
    auto row = lease_row("leader");
    if (!row.live || !row.holder) {
        return std::nullopt;
    }
    return Leader{*row.holder, row.generation, row.expires_at};
}

} // namespace rollback::state
