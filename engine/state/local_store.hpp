// SPDX-License-Identifier: MIT
#pragma once

// state::Store in a state directory, in the files and formats docs/config.md describes:
//   decisions/<id>.json               a decision record (decision::to_json, one line)
//   decisions/ticks-YYYY-MM-DD.jsonl  the tick log of that UTC day
//   approvals/<decision_id>.json      an approval request
//   baselines.json                    the monitor's baselines
//   deploy.json, deploys.jsonl        the latest deploy marker, the history of them
//   releases.json                     the releases marked bad
//   alerts.json                       the alerts the monitor holds active (active_alerts.hpp)
//   runs/<run_id>.jsonl, runs/<run_id>/  a run's journal (journal::Writer) and artifacts
//   lock, lock.json                   the run lock (local_lock.hpp): flock()ed file counting
//                                     acquisitions, and who holds it
// Every whole-file write is atomic (write, fsync, rename); tick lines are appends.

#include "state/store.hpp"

#include <filesystem>

namespace rollback::state {

class LocalStore : public Store {
  public:
    explicit LocalStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
    const std::filesystem::path& dir() const { return dir_; }

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
    std::string deploy_history_location() const override;

    std::vector<BadRelease> bad_releases() const override;
    void record_bad_release(const BadRelease& bad) override;

    LeaseAttempt acquire_lease(const Holder& owner) override;
    std::optional<Holder> lease_holder() const override;
    std::optional<Holder> dead_holder() const override;

    std::vector<std::string> list_runs() const override;
    std::optional<std::string> latest_run() const override;
    std::optional<std::int64_t> runs_version() const override;
    std::optional<std::uint64_t> journal_version(const std::string& run_id) const override;
    std::optional<journal::Entry> last_record(const std::string& run_id) const override;
    journal::Journal read_journal(const std::string& run_id,
                                  const journal::RecordSink* each = nullptr) const override;
    std::unique_ptr<journal::Appender> create_journal(const std::string& run_id,
                                                      const boost::json::object& header_fields,
                                                      const RunLease& lease) override;
    std::unique_ptr<journal::Appender>
    continue_journal(const std::string& run_id, const journal::Journal& as_read,
                     const RunLease& lease, std::vector<std::string>* warnings) override;
    std::unique_ptr<journal::Appender> open_journal(const std::string& run_id,
                                                    const RunLease& lease,
                                                    std::vector<std::string>* warnings) override;
    std::string journal_text(const std::string& run_id) const override;
    void import_journal(const std::string& run_id, const std::string& text,
                        const std::string& state_args) override;
    std::string journal_location(const std::string& run_id) const override;
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

    /// Where the request of `decision_id` is kept. util::Error (exit 2) for a bad id.
    std::filesystem::path approval_path(const std::string& decision_id) const;

  private:
    std::filesystem::path dir_;
};

} // namespace rollback::state
