// SPDX-License-Identifier: MIT
#pragma once

// state::Store in PostgreSQL, shared by every engine host that names the same database
// (`[target] state = "postgresql://..."` or `[state] dsn`, docs/config.md "Shared state in
// PostgreSQL"). The tables live in one schema (default `rollback`), created and migrated by
// `rollback state init` or on first use, versioned in `<schema>.schema_version`
// (pg_schema.cpp). Every document is kept in the same text the local files hold (a record, a
// request, a marker, a journal line), so a value read back went through the same parsers.
//
// The run lock is one row (`<schema>.lease`): a generation counted up by every acquisition, the
// holder, and an expiry on the database server's clock (one clock for every host). A holder
// renews it from a heartbeat thread of its own connection; a holder that goes silent past the
// expiry (dead, paused, partitioned) loses it to the next starter, who gets a greater
// generation. Every journal append is one transaction that first locks the lease row FOR KEY
// SHARE and checks that its generation is still the current one: a holder that was taken over
// appends nothing (fencing), an acquisition (FOR UPDATE) and an append never interleave, and the
// holder's own renewal (a non-key UPDATE) never waits for its append.

#include "db/connection.hpp"
#include "state/leadership.hpp"
#include "state/store.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace pqxx {
class connection_base;
} // namespace pqxx

namespace rollback::state {

/// What a command does with the shared state's schema when it opens the store: a command that
/// only reads never creates nor migrates it (a role with no CREATE on the database reads), and
/// refuses a schema that is missing or older than this build (`rollback state init`); a writer
/// creates or migrates it when it is not at this build's version. Neither issues DDL on a
/// schema already at this build's version.
enum class SchemaAccess { read, write };

struct PgStoreOptions {
    /// The schema holding the tables (an SQL identifier; quoted).
    std::string schema = "rollback";
    SchemaAccess access = SchemaAccess::write;
    /// How long a holder that stopped renewing keeps the run lock.
    std::chrono::milliseconds lease_ttl{std::chrono::seconds(15)};
    /// How often a holder's lease renews itself; 0: never by itself (tests of silence).
    std::chrono::milliseconds heartbeat{std::chrono::seconds(5)};
    /// How long an operation waits for a server that went away or stopped answering
    /// (reconnecting each second) before it fails: an append then stops the run with exit 7
    /// (pg_retry.hpp).
    std::chrono::milliseconds reconnect_for{std::chrono::seconds(30)};
    /// Asked while the store's own operations wait for the server (not a run's appends, nor its
    /// lease): true ends the wait at once (the process is being interrupted). May be empty.
    std::function<bool()> stop_waiting = nullptr;
};

/// What `rollback state init` did: the schema's version before (0: none) and after.
struct SchemaMigration {
    int from = 0;
    int to = 0;
};

/// The schema version this build creates and reads.
int pg_schema_version();

/// Creates or migrates the schema of `options.schema` to pg_schema_version() when it is not at
/// that version (no DDL when it is), serialized between hosts by an advisory lock
/// (`options.access` is not read: `rollback state init` writes). util::Error (exit 2) when the
/// database holds a newer version; db::ConnectError (exit 1) when the server cannot be reached;
/// util::Error (exit 1) when the role may not create it.
SchemaMigration init_pg_schema(const db::Dsn& dsn, const PgStoreOptions& options = {});

class PgStore : public Store {
  public:
    /// Connects and checks the schema: with SchemaAccess::write creates or migrates it when it
    /// is not at this build's version (init_pg_schema); with SchemaAccess::read refuses a
    /// missing or older one (util::Error exit 2: `rollback state init`). `local_dir` keeps what
    /// stays on this host: the runs' artifacts (dumps, exports) and rollback.log.
    PgStore(db::Dsn dsn, std::filesystem::path local_dir, PgStoreOptions options = {});
    ~PgStore() override;

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
    void request_approval(const ApprovalRequest& a, std::uint64_t leader_generation) override;
    bool note_told(const ApprovalRequest& next, std::uint64_t leader_generation) override;

    std::optional<decision::BaselineBook> baselines() const override;
    void put_baselines(const decision::BaselineBook& book) override;

    std::string put_deploy_marker(const DeployMarker& m) override;
    std::optional<DeployMarker> deploy_marker() const override;
    std::vector<DeployMarker> deploy_history(const std::string& target) const override;
    std::string deploy_history_location() const override;

    std::vector<BadRelease> bad_releases() const override;
    void record_bad_release(const BadRelease& bad) override;

    LeaseAttempt acquire_lease(const Holder& owner) override;
    LeaseAttempt acquire_fenced_lease(const Holder& owner, const RunFence& fence) override;
    std::optional<Holder> lease_holder() const override;
    std::optional<Holder> dead_holder() const override;

    std::vector<std::string> list_runs() const override;
    std::optional<std::string> latest_run() const override;
    journal::Journal read_journal(const std::string& run_id,
                                  const journal::RecordSink* each = nullptr) const override;
    std::optional<journal::Entry> last_record(const std::string& run_id) const override;
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

    /// The lease row as it is now (for `status`): generation, holder, whether it is live.
    struct LeaseRow {
        std::uint64_t generation = 0;
        bool held = false;
        bool live = false; ///< held and not past its expiry
        std::optional<Holder> holder;
        std::string expires_at; ///< RFC 3339 UTC; "" when none
        /// When this generation took it (RFC 3339 UTC; "" when never): a leader's "since".
        std::string acquired_at;
    };
    LeaseRow lease_row() const;

    /// The monitors' leadership for `me`, on the lease row "leader" (the same rules as the run
    /// lock: a generation, an expiry renewed by a heartbeat while held). The store must outlive
    /// it.
    std::unique_ptr<Leadership> leadership(const Holder& me);
    /// The leader now (for `status`); nullopt when nobody leads.
    std::optional<Leader> leader() const;
    /// The lease row `row` ("run", "leader") as it is now.
    LeaseRow lease_row(const std::string& row) const;
    /// Takes the lease row `row` for `owner` when it is free (as acquire_lease does "run"),
    /// under `fence` when given (acquire_fenced_lease). Never waits on a silent holder's
    /// transaction more than k_acquire_lock_timeout_ms (then util::Error, exit 7).
    LeaseAttempt acquire_row(const std::string& row, const Holder& owner,
                             const RunFence* fence = nullptr);
    /// From now on the policy memory is kept only while the leadership of `generation` is live
    /// (checked in the same transaction; util::Error exit 4 otherwise): a deposed leader
    /// overwrites nothing its successor kept. Set by the leadership when it is won.
    void fence_policy_writes(std::uint64_t generation) { m_policy_fence = generation; }

    /// "postgresql (host=... dbname=... user=...) schema rollback": for messages, masked.
    const std::string& where() const { return m_where; }

  private:
    /// Runs `attempt(conn, again)` on the store's connection, under its mutex, as one operation
    /// bounded as pg_retry.hpp says: a connection lost or silent is opened again and the attempt
    /// made again (`again` true: a write whose commit's answer was lost looks whether it took
    /// effect) for up to `reconnect_for`; then util::Error(`code`) whose message starts with
    /// `what`. Defined in pg_retry.hpp.
    template <class F>
    auto with_session(const std::string& what, util::ExitCode code, F&& attempt) const;
    /// The document `name` of the table documents (nullopt when none), and writing it.
    std::optional<std::string> document(const std::string& name) const;
    void put_document_now(const std::string& name, const std::string& doc);
    /// One attempt of acquire_row in its own transaction: the generation it took, or 0 with
    /// `out.holder` (a live holder). `me`: the owner's holder text; `again`: an earlier attempt's
    /// commit may have taken it already.
    std::uint64_t take_row(pqxx::connection_base& conn, const std::string& row,
                           const std::string& me, const RunFence* fence, bool again,
                           LeaseAttempt& out) const;

    db::Dsn m_dsn;
    std::filesystem::path m_local;
    PgStoreOptions m_options;
    std::string m_where;
    std::string m_s; ///< the quoted schema name followed by '.'
    mutable std::mutex m_mutex;
    mutable db::Connection m_conn;
    std::atomic<std::uint64_t> m_policy_fence{0}; ///< see fence_policy_writes; 0: none
};

} // namespace rollback::state
