// SPDX-License-Identifier: MIT
#include "state/memory_store.hpp"

#include "journal/paths.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"
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

std::vector<ActiveAlert> MemoryStore::active_alerts() const {
    return alerts_ ? parse_active_alerts(*alerts_, "memory:alerts") : std::vector<ActiveAlert>{};
}

void MemoryStore::put_active_alerts(const std::vector<ActiveAlert>& alerts) {
    alerts_ = active_alerts_json(alerts);
}

void MemoryStore::put_approval(const ApprovalRequest& a) {
    check_decision_id(a.decision_id);
    approvals_[a.decision_id] = approval_json(a);
}

bool MemoryStore::answer_pending_approval(const ApprovalRequest& next) {
    check_decision_id(next.decision_id);
    auto it = approvals_.find(next.decision_id);
    if (it == approvals_.end()) {
        return false;
    }
    const auto now = parse_approval(it->second, "memory:approvals/" + next.decision_id);
    if (now.state != "pending" || !now.run_id.empty()) {
        return false;
    }
    it->second = approval_json(next);
    return true;
}

std::optional<ApprovalRequest> MemoryStore::approval(const std::string& decision_id) const {
    check_decision_id(decision_id);
    auto it = approvals_.find(decision_id);
    if (it == approvals_.end()) {
        return std::nullopt;
    }
    return parse_approval(it->second, "memory:approvals/" + decision_id);
}

std::vector<ApprovalRequest> MemoryStore::approvals(std::vector<std::string>* skipped) const {
    std::vector<ApprovalRequest> out;
    std::vector<std::string> unreadable;
    for (const auto& [id, text] : approvals_) { // ids start with the time
        try {
            out.push_back(parse_approval(text, "memory:approvals/" + id));
        } catch (const util::Error& e) {
            unreadable.push_back(e.what());
        }
    }
    passed_over(unreadable, skipped);
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
    void set_reason(const std::string& reason) override {
        m_holder.reason = reason;
        if (current() && m_row->holder) {
            m_row->holder->reason = reason;
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

namespace {

void check_run_id(const std::string& run_id) {
    if (!journal::is_valid_run_id(run_id)) {
        throw util::Error("not a run id: " + util::quoted(run_id), util::ExitCode::invalid,
                          "run 'rollback history' to list the runs");
    }
}

// Appends fenced by the lease: each one first checks that the lease it was opened under is
// still the store's current one (the conditional insert a shared store makes).
class MemoryAppender final : public journal::Appender {
  public:
    MemoryAppender(std::shared_ptr<MemoryStore::LeaseRow> row, std::uint64_t generation,
                   std::shared_ptr<std::string> content, std::string where, std::uint64_t next_seq,
                   std::string last_hash)
        : m_row(std::move(row)), m_generation(generation), m_content(std::move(content)),
          m_where(std::move(where)), m_next_seq(next_seq), m_last_hash(std::move(last_hash)) {}

    std::uint64_t append(boost::json::object record, journal::Durability) override {
        check_fence("this record");
        const auto now =
            m_row->clock != nullptr ? m_row->clock->now() : std::chrono::system_clock::now();
        const std::uint64_t seq = m_next_seq;
        std::string line =
            journal::record_line(std::move(record), seq, util::format_time(now), m_last_hash);
        *m_content += line + "\n";
        m_last_hash = util::sha256_hex(line);
        ++m_next_seq;
        return seq;
    }
    void check_fence(const std::string& before) override {
        if (m_row->generation != m_generation || !m_row->live()) {
            m_fenced = true;
            throw util::Error("journal " + m_where + ": the run lock of generation " +
                                  std::to_string(m_generation) +
                                  " was lost; nothing more is recorded (checked before " + before +
                                  ")",
                              util::ExitCode::state_unwritable);
        }
    }
    void sync() override {}
    bool space_exhausted() const override { return false; }
    bool broken() const override { return m_fenced; }
    bool fenced() const override { return m_fenced; }
    std::string location() const override { return m_where; }

  private:
    bool m_fenced = false; ///< the lease was lost: every further append is refused
    std::shared_ptr<MemoryStore::LeaseRow> m_row;
    std::uint64_t m_generation;
    std::shared_ptr<std::string> m_content;
    std::string m_where;
    std::uint64_t m_next_seq;
    std::string m_last_hash;
};

} // namespace

std::vector<std::string> MemoryStore::list_runs() const {
    std::vector<std::string> out;
    for (auto it = journals_.rbegin(); it != journals_.rend(); ++it) { // ids sort by time
        out.push_back(it->first);
    }
    return out;
}

std::optional<std::string> MemoryStore::latest_run() const {
    if (journals_.empty()) {
        return std::nullopt;
    }
    return journals_.rbegin()->first;
}

std::string MemoryStore::journal_location(const std::string& run_id) const {
    return "memory:runs/" + run_id + ".jsonl";
}

std::filesystem::path MemoryStore::artifacts_dir(const std::string& run_id) const {
    check_run_id(run_id);
    return std::filesystem::temp_directory_path() / "rollback-memory-store" / run_id;
}

std::string MemoryStore::journal_text(const std::string& run_id) const {
    check_run_id(run_id);
    auto it = journals_.find(run_id);
    if (it == journals_.end()) {
        throw util::Error("journal " + journal_location(run_id) + " does not exist",
                          util::ExitCode::invalid, "run 'rollback history' to list the runs");
    }
    return *it->second;
}

void MemoryStore::import_journal(const std::string& run_id, const std::string& text,
                                 const std::string& state_args) {
    check_run_id(run_id);
    auto& content = journals_[run_id];
    if (content) {
        throw util::Error(
            "journal " + journal_location(run_id) + " exists already", util::ExitCode::invalid,
            "a run is imported once; compare with: rollback state export " + run_id + state_args);
    }
    content = std::make_shared<std::string>(text);
}

journal::Journal MemoryStore::read_journal(const std::string& run_id,
                                           const journal::RecordSink* each) const {
    check_run_id(run_id);
    auto it = journals_.find(run_id);
    if (it == journals_.end()) {
        throw util::Error("journal " + journal_location(run_id) + " does not exist",
                          util::ExitCode::invalid, "run 'rollback history' to list the runs");
    }
    return journal::parse(*it->second, journal_location(run_id), each);
}

std::unique_ptr<journal::Appender>
MemoryStore::create_journal(const std::string& run_id, const boost::json::object& header_fields,
                            const RunLease& lease) {
    check_run_id(run_id);
    if (lease_->generation != lease.generation() || !lease_->live()) {
        throw util::Error("cannot create journal " + journal_location(run_id) +
                              ": the run lock is not held by this lease",
                          util::ExitCode::state_unwritable);
    }
    auto& content = journals_[run_id];
    if (content) {
        throw util::Error("cannot create journal " + journal_location(run_id) + ": it exists",
                          util::ExitCode::state_unwritable);
    }
    const auto now = clock_ != nullptr ? clock_->now() : std::chrono::system_clock::now();
    const std::string header = journal::header_line(header_fields, util::format_time(now));
    content = std::make_shared<std::string>(header + "\n");
    return std::make_unique<MemoryAppender>(lease_, lease.generation(), content,
                                            journal_location(run_id), 1, util::sha256_hex(header));
}

std::unique_ptr<journal::Appender> MemoryStore::open_journal(const std::string& run_id,
                                                             const RunLease& lease,
                                                             std::vector<std::string>* warnings) {
    journal::Journal j = read_journal(run_id);
    auto& content = journals_.at(run_id);
    content->resize(j.valid_bytes); // a torn tail is cut, as Writer::open_existing does
    if (warnings != nullptr) {
        warnings->insert(warnings->end(), j.warnings.begin(), j.warnings.end());
    }
    const size_t end = content->size() - 1;
    const size_t nl = end == 0 ? std::string::npos : content->rfind('\n', end - 1);
    const size_t begin = nl == std::string::npos ? 0 : nl + 1;
    return std::make_unique<MemoryAppender>(
        lease_, lease.generation(), content, journal_location(run_id), j.records.size() + 1,
        util::sha256_hex(std::string_view(*content).substr(begin, end - begin)));
}

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

std::optional<std::string> MemoryStore::gate_document(const std::string& run_id,
                                                      const std::string& name) const {
    auto it = gates_.find({run_id, name});
    if (it == gates_.end()) {
        return std::nullopt;
    }
    return it->second;
}

bool MemoryStore::create_gate_document(const std::string& run_id, const std::string& name,
                                       const std::string& doc) {
    return gates_.emplace(std::make_pair(run_id, name), doc).second;
}

void MemoryStore::rename_gate_document(const std::string& run_id, const std::string& from,
                                       const std::string& to) {
    auto it = gates_.find({run_id, from});
    if (it != gates_.end()) {
        gates_[{run_id, to}] = it->second;
        gates_.erase(it);
    }
}

std::vector<std::string> MemoryStore::gate_documents(const std::string& run_id) const {
    std::vector<std::string> out;
    for (auto it = gates_.lower_bound({run_id, ""});
         it != gates_.end() && it->first.first == run_id; ++it) {
        out.push_back(it->first.second);
    }
    return out;
}

std::string MemoryStore::gate_location(const std::string& run_id, const std::string& name) const {
    return "memory:runs/" + run_id + "/gates/" + name;
}

std::optional<std::string> MemoryStore::policy_memory_document() const {
    return policy_memory_;
}

void MemoryStore::put_policy_memory_document(const std::string& doc) {
    policy_memory_ = doc;
}

std::string MemoryStore::policy_memory_location() const {
    return "memory:monitor-policy";
}

} // namespace rollback::state
