// SPDX-License-Identifier: MIT
#pragma once

// state::Store in memory, for tests: the same contracts as LocalStore (the same errors, the same
// tick lines and keep), nothing on disk.

#include "state/store.hpp"

#include <chrono>
#include <map>
#include <memory>

namespace rollback::state {

class MemoryStore : public Store {
  public:
    /// Leases held until released.
    MemoryStore() = default;
    /// Leases that end `ttl` after they were acquired or last renewed, by `clock` (the shape of
    /// a store shared between hosts, where a holder's death is only seen as its silence).
    MemoryStore(const util::Clock& clock, std::chrono::milliseconds ttl)
        : clock_(&clock), ttl_(ttl) {}

    std::string put_record(const decision::DecisionRecord& r) override;
    decision::DecisionRecord record(const std::string& id) const override;
    std::optional<std::string> newest_record_id() const override;
    void append_tick(const decision::DecisionRecord& r, const std::string& written_id,
                     int keep_days = 14) override;
    std::vector<std::string> ticks_of_day(const std::string& day) const override;

    void put_approval(const ApprovalRequest& a) override;
    std::optional<ApprovalRequest> approval(const std::string& decision_id) const override;
    std::vector<ApprovalRequest>
    approvals(std::vector<std::string>* skipped = nullptr) const override;
    bool answer_pending_approval(const ApprovalRequest& next) override;

    std::optional<decision::BaselineBook> baselines() const override;
    void put_baselines(const decision::BaselineBook& book) override;

    std::string put_deploy_marker(const DeployMarker& m) override;
    std::optional<DeployMarker> deploy_marker() const override;
    std::vector<DeployMarker> deploy_history(const std::string& target) const override;
    std::string deploy_history_location() const override { return "memory:deploys"; }

    std::vector<BadRelease> bad_releases() const override;
    void record_bad_release(const BadRelease& bad) override;

    LeaseAttempt acquire_lease(const Holder& owner) override;
    std::optional<Holder> lease_holder() const override;
    std::optional<Holder> dead_holder() const override;

    std::vector<std::string> list_runs() const override;
    std::optional<std::string> latest_run() const override;
    journal::Journal read_journal(const std::string& run_id,
                                  const journal::RecordSink* each = nullptr) const override;
    std::unique_ptr<journal::Appender> create_journal(const std::string& run_id,
                                                      const boost::json::object& header_fields,
                                                      const RunLease& lease) override;
    std::unique_ptr<journal::Appender> open_journal(const std::string& run_id,
                                                    const RunLease& lease,
                                                    std::vector<std::string>* warnings) override;
    std::string journal_text(const std::string& run_id) const override;
    void import_journal(const std::string& run_id, const std::string& text,
                        const std::string& state_args) override;
    std::string journal_location(const std::string& run_id) const override;
    /// Under the system's temporary directory (artifacts are files even in tests).
    std::filesystem::path artifacts_dir(const std::string& run_id) const override;

    std::optional<std::string> gate_document(const std::string& run_id,
                                             const std::string& name) const override;
    bool create_gate_document(const std::string& run_id, const std::string& name,
                              const std::string& doc) override;
    void rename_gate_document(const std::string& run_id, const std::string& from,
                              const std::string& to) override;
    std::vector<std::string> gate_documents(const std::string& run_id) const override;
    std::string gate_location(const std::string& run_id, const std::string& name) const override;

    std::optional<std::string> policy_memory_document() const override;
    void put_policy_memory_document(const std::string& doc) override;
    std::string policy_memory_location() const override;

    std::vector<ActiveAlert> active_alerts() const override;
    void put_active_alerts(const std::vector<ActiveAlert>& alerts) override;

    /// The lock as one row, as a shared store would keep it; shared with the leases handed out,
    /// which may outlive the store.
    struct LeaseRow {
        bool held = false;
        std::optional<Holder> holder; ///< the holder; kept when it ended without releasing
        std::uint64_t generation = 0;
        std::optional<util::SystemTime> expires;
        const util::Clock* clock = nullptr;
        std::chrono::milliseconds ttl{0};
        bool live() const; ///< held and not expired
    };

    /// The tick lines kept, by UTC day ("YYYY-MM-DD"), each without newline.
    const std::map<std::string, std::vector<std::string>>& ticks() const { return ticks_; }

  private:
    std::map<std::string, std::string> records_; ///< id -> decision::to_json
    std::map<std::string, std::vector<std::string>> ticks_;
    std::map<std::string, std::string> approvals_; ///< id -> approval_json
    std::optional<std::string> baselines_;         ///< BaselineBook::to_json
    std::optional<std::string> deploy_;            ///< deploy_marker_json of the latest
    std::string deploys_;                          ///< the history, one line each
    std::optional<std::string> bad_releases_;      ///< bad_releases_json
    std::map<std::pair<std::string, std::string>, std::string> gates_; ///< (run, name) -> doc
    std::optional<std::string> policy_memory_;
    std::optional<std::string> alerts_; ///< active_alerts_json
    const util::Clock* clock_ = nullptr;
    std::chrono::milliseconds ttl_{0};
    std::shared_ptr<LeaseRow> lease_ = std::make_shared<LeaseRow>();
    /// run id -> the journal's lines, as a file would hold them; shared with its appenders.
    std::map<std::string, std::shared_ptr<std::string>> journals_;
};

} // namespace rollback::state
