// SPDX-License-Identifier: MIT
#include "state/memory_store.hpp"

#include "util/error.hpp"
#include "util/strings.hpp"

namespace rollback::state {

// Records, requests and baselines are kept serialized, so a value read back went through the
// same formats as LocalStore's files.

std::string MemoryStore::put_record(const decision::DecisionRecord& r) {
    const std::string id = decision::record_id(r);
    records_[id] = decision::to_json(r);
    return "memory:decisions/" + id;
}

decision::DecisionRecord MemoryStore::record(const std::string& id) const {
    auto it = records_.find(id);
    if (it == records_.end()) {
        throw util::Error("no decision record " + util::quoted(id) + " in memory",
                          util::ExitCode::invalid);
    }
    return decision::from_json(it->second);
}

std::optional<std::string> MemoryStore::newest_record_id() const {
    if (records_.empty()) {
        return std::nullopt;
    }
    return records_.rbegin()->first;
}

std::vector<std::string> MemoryStore::ticks_of_day(const std::string& day) const {
    auto it = ticks_.find(day);
    return it == ticks_.end() ? std::vector<std::string>{} : it->second;
}

void MemoryStore::append_tick(const decision::DecisionRecord& r, const std::string& written_id,
                              int keep_days) {
    const std::string day = util::format_time(r.time).substr(0, 10);
    const bool new_day = !ticks_.contains(day);
    ticks_[day].push_back(tick_line(r, written_id));
    if (!new_day) {
        return;
    }
    const std::string oldest =
        util::format_time(r.time - std::chrono::hours(24) * keep_days).substr(0, 10);
    ticks_.erase(ticks_.begin(), ticks_.lower_bound(oldest));
}

void MemoryStore::put_approval(const ApprovalRequest& a) {
    check_decision_id(a.decision_id);
    approvals_[a.decision_id] = approval_json(a);
}

std::optional<ApprovalRequest> MemoryStore::approval(const std::string& decision_id) const {
    check_decision_id(decision_id);
    auto it = approvals_.find(decision_id);
    if (it == approvals_.end()) {
        return std::nullopt;
    }
    return parse_approval(it->second, "memory:approvals/" + decision_id);
}

std::vector<ApprovalRequest> MemoryStore::approvals() const {
    std::vector<ApprovalRequest> out;
    for (const auto& [id, text] : approvals_) { // ids start with the time
        out.push_back(parse_approval(text, "memory:approvals/" + id));
    }
    return out;
}

std::optional<decision::BaselineBook> MemoryStore::baselines() const {
    if (!baselines_) {
        return std::nullopt;
    }
    return decision::BaselineBook::from_json(*baselines_);
}

void MemoryStore::put_baselines(const decision::BaselineBook& book) {
    baselines_ = book.to_json();
}

std::string MemoryStore::put_deploy_marker(const DeployMarker& m) {
    deploy_ = deploy_marker_json(m);
    deploys_ += *deploy_ + "\n";
    return "memory:deploy";
}

std::optional<DeployMarker> MemoryStore::deploy_marker() const {
    if (!deploy_) {
        return std::nullopt;
    }
    return parse_deploy_marker(*deploy_, "memory:deploy");
}

std::vector<DeployMarker> MemoryStore::deploy_history(const std::string& target) const {
    return parse_deploy_history(deploys_, deploy_history_location(), target);
}

std::vector<BadRelease> MemoryStore::bad_releases() const {
    if (!bad_releases_) {
        return {};
    }
    return parse_bad_releases(*bad_releases_, "memory:releases");
}

void MemoryStore::record_bad_release(const BadRelease& bad) {
    bad_releases_ = bad_releases_json(with_bad_release(bad_releases(), bad));
}

bool MemoryStore::LeaseRow::live() const {
    return held && (!expires || clock == nullptr || clock->now() < *expires);
}

namespace {

class MemoryLease final : public RunLease {
  public:
    MemoryLease(std::shared_ptr<MemoryStore::LeaseRow> row, Holder holder)
        : RunLease(std::move(holder), row->generation), m_row(std::move(row)) {}
    ~MemoryLease() override { release(); }
    std::optional<util::SystemTime> expires_at() const override {
        return current() ? m_row->expires : std::nullopt;
    }
    bool renew() override {
        if (!current() || !m_row->held) {
            return false;
        }
        if (m_row->clock != nullptr && m_row->ttl.count() > 0) {
            m_row->expires = m_row->clock->now() + m_row->ttl;
        }
        return true;
    }
    void set_run_id(const std::string& run_id) override {
        m_holder.run_id = run_id;
        if (current() && m_row->holder) {
            m_row->holder->run_id = run_id;
        }
    }
    void release() noexcept override {
        if (current() && m_row->held) {
            m_row->held = false;
            m_row->holder.reset();
        }
    }
    void release_leaving(const Holder& dead) override {
        if (current() && m_row->held) {
            m_row->held = false;
            m_row->holder = dead;
        }
    }

  private:
    // Another acquisition since ours: we lost the lease and must change nothing.
    bool current() const { return m_row->generation == m_generation; }
    std::shared_ptr<MemoryStore::LeaseRow> m_row;
};

} // namespace

LeaseAttempt MemoryStore::acquire_lease(const Holder& owner) {
    LeaseRow& row = *lease_;
    row.clock = clock_;
    row.ttl = ttl_;
    LeaseAttempt out;
    if (row.live()) {
        out.holder = row.holder.value_or(Holder{});
        return out;
    }
    out.stale = row.holder; // ended without releasing: died, or went silent past its expiry
    ++row.generation;
    row.held = true;
    row.holder = owner;
    row.expires.reset();
    if (clock_ != nullptr && ttl_.count() > 0) {
        row.expires = clock_->now() + ttl_;
    }
    out.lease = std::make_unique<MemoryLease>(lease_, owner);
    return out;
}

std::optional<Holder> MemoryStore::lease_holder() const {
    if (!lease_->live()) {
        return std::nullopt;
    }
    return lease_->holder.value_or(Holder{});
}

std::optional<Holder> MemoryStore::dead_holder() const {
    if (lease_->live()) {
        return std::nullopt;
    }
    return lease_->holder;
}

} // namespace rollback::state
