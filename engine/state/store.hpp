// SPDX-License-Identifier: MIT
#pragma once

// What the engine keeps between processes, behind narrow interfaces grouped under state::Store:
// decision records and tick logs, approval requests, baselines, deploy markers, bad releases,
// the run lock.
// LocalStore keeps them in the state directory (docs/config.md "The state directory"), MemoryStore
// in memory for tests. A shared implementation (PostgreSQL, issue 14) implements the same
// interfaces: callers hold a Store& and never a path.

#include "decision/evaluator.hpp"
#include "decision/record.hpp"
#include "journal/reader.hpp"
#include "journal/writer.hpp"
#include "state/active_alerts.hpp"
#include "util/time.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::state {

/// A decision that waits for a person (mode = "confirm") until approved or expired.
struct ApprovalRequest {
    std::string decision_id;
    util::SystemTime requested_at;
    util::SystemTime expires_at;
    std::string condition, severity, reason;
    std::string state = "pending";               ///< pending | approved | rejected | withdrawn
    std::string approved_by;                     ///< who answered (approved or rejected)
    std::optional<util::SystemTime> approved_at; ///< when
    std::string answer_reason;                   ///< the --reason given with the answer
    std::string run_id;                          ///< the run the approval started
    /// Withdrawn by the monitor: its incident ended (resolved) before anyone answered, so the
    /// evidence it asked about is stale; when and why.
    std::optional<util::SystemTime> withdrawn_at;
    std::string withdrawn_reason;
    /// The [decision] hooks told of it so far (each called and returned, whatever its exit
    /// status), and whether its announcement is done: every hook told, or none configured
    /// (docs/config.md "Leadership"). The leader that holds the lease finishes an announcement
    /// its predecessor left undone. A request kept before these fields reads as announced.
    std::vector<std::string> told;
    bool announced = false;
};

/// `stored` with what `next` adds to its announcement: the hooks of `next.told` it lacks, and
/// `announced` once either says so; nothing else of `next`.
ApprovalRequest with_told(ApprovalRequest stored, const ApprovalRequest& next);

/// Decision records (one per decision that mattered) and the tick log (every evaluation).
class DecisionLog {
  public:
    virtual ~DecisionLog() = default;
    /// Keeps `r` under decision::record_id(r), replacing a record of that id; returns where it
    /// went, for messages (a file path for LocalStore).
    virtual std::string put_record(const decision::DecisionRecord& r) = 0;
    /// The record `id`. util::Error (exit 2) when there is none; the parser's error when it is
    /// malformed.
    virtual decision::DecisionRecord record(const std::string& id) const = 0;
    /// The id of the newest record kept (ids start with their UTC time), nullopt when none.
    virtual std::optional<std::string> newest_record_id() const = 0;
    /// One line per evaluation, "no action" included: {version, kind: "tick", time, action,
    /// executed, record (`written_id`, "" when no record was kept), conditions}. Days older than
    /// `keep_days` are dropped when a new day starts. Failing to append is logged, never thrown.
    virtual void append_tick(const decision::DecisionRecord& r, const std::string& written_id,
                             int keep_days = 14) = 0;
    /// The tick lines of the UTC day `day` ("YYYY-MM-DD"), oldest first, without newline;
    /// empty when that day has none (or was dropped).
    virtual std::vector<std::string> ticks_of_day(const std::string& day) const = 0;
};

/// Approval requests by decision id.
class Approvals {
  public:
    virtual ~Approvals() = default;
    /// Creates or replaces the request of `a.decision_id`. util::Error (exit 2) for an id that
    /// is no decision id.
    virtual void put_approval(const ApprovalRequest& a) = 0;
    /// nullopt when there is no request for `decision_id`; util::Error when it is malformed.
    virtual std::optional<ApprovalRequest> approval(const std::string& decision_id) const = 0;
    /// Every request, oldest first (decision ids start with their time). One that cannot be read
    /// or parsed (a dangling link, another user's file, a damaged document) is left out, logged,
    /// and its reason appended to `skipped` when given: one bad request never keeps the others
    /// from being listed, answered or filed (break-it 42/01).
    virtual std::vector<ApprovalRequest>
    approvals(std::vector<std::string>* skipped = nullptr) const = 0;
    /// A compare-and-set: replaces the request of `next.decision_id` with `next` only when the
    /// stored one is still "pending" and names no run, in one step no other writer can come
    /// between (`rollback approve` under the run lock: one request starts at most one run).
    /// True when replaced; false, nothing changed, when it is answered, withdrawn, has a run, or
    /// is gone.
    virtual bool answer_pending_approval(const ApprovalRequest& next) = 0;
    /// Files `a`, a new request of the monitor that leads under `leader_generation` (0: alone on
    /// its state), keeping nothing and throwing util::Error exit 4 (locked) when that leadership
    /// is no longer live, or when another request of the same condition is still pending and
    /// unexpired at `a.requested_at` (one incident, one request). A shared store checks both in
    /// the transaction that keeps it.
    virtual void request_approval(const ApprovalRequest& a, std::uint64_t leader_generation);
    /// Keeps what the [decision] hooks were told of the request of `next.decision_id`
    /// (with_told: `next.told` and `announced` added, nothing else written), only while it is
    /// pending with no run — the compare-and-set every answer is — and, for the monitor that
    /// leads under `leader_generation` (0: alone on its state), only while that leadership is
    /// live, in one step no takeover comes between. False, nothing changed, when it was answered
    /// or is gone; util::Error exit 4 (locked) when the leadership is no longer live.
    virtual bool note_told(const ApprovalRequest& next, std::uint64_t leader_generation);
};

/// Another request of `a`'s condition that is pending and unexpired at `a.requested_at` among
/// `all` (its decision id), "" when none.
std::string pending_twin(const std::vector<ApprovalRequest>& all, const ApprovalRequest& a);
/// Another request of `a`'s condition among `all` that was approved and was open at the same
/// time as `a` (their [requested_at, expires_at] overlap: one incident), nullopt when none:
/// `rollback approve` of `a` then starts no second run.
std::optional<ApprovalRequest> approved_twin(const std::vector<ApprovalRequest>& all,
                                             const ApprovalRequest& a);

/// The baselines the monitor learnt, kept across its restarts.
class Baselines {
  public:
    virtual ~Baselines() = default;
    /// nullopt when none were saved; the parser's error when they are malformed.
    virtual std::optional<decision::BaselineBook> baselines() const = 0;
    virtual void put_baselines(const decision::BaselineBook& book) = 0;
};

/// A deploy `rollback deployed` recorded: the release now running and when it went live.
struct DeployMarker {
    DeployMarker() = default;
    DeployMarker(std::string release_, util::SystemTime time_, std::string target_ = {},
                 std::optional<util::SystemTime> recorded_at_ = std::nullopt)
        : release(std::move(release_)), time(time_), target(std::move(target_)),
          recorded_at(recorded_at_) {}
    std::string release;
    util::SystemTime time;
    std::string target; ///< the config's target ("" in markers older than the field)
    /// When `rollback deployed` wrote it (rounded up to the millisecond; nullopt in markers older
    /// than the field): a marker dated earlier (--time in the past) reached the monitor only
    /// then, and the replay applies it then too (docs/decision.md "Commands").
    std::optional<util::SystemTime> recorded_at;
    /// The time from which a monitor can have read it: the later of `time` and `recorded_at`.
    util::SystemTime known_at() const {
        return recorded_at && *recorded_at > time ? *recorded_at : time;
    }
};

/// The deploy markers: the latest one, and the history every marker was appended to.
class DeployMarkers {
  public:
    virtual ~DeployMarkers() = default;
    /// Makes `m` the latest marker and appends it to the history; returns where the latest
    /// marker is kept, for messages. util::Error when it cannot be kept.
    virtual std::string put_deploy_marker(const DeployMarker& m) = 0;
    /// The latest marker, nullopt when none; util::Error naming where it is when malformed.
    virtual std::optional<DeployMarker> deploy_marker() const = 0;
    /// Every marker of `target` (markers of other targets sharing the state are left out; every
    /// marker when `target` is empty), in time order — the history, else the latest marker alone;
    /// empty when none. util::InvalidInput (exit 2) locating each malformed line.
    virtual std::vector<DeployMarker> deploy_history(const std::string& target) const = 0;
    /// Where the history is kept, for messages ("<state_dir>/deploys.jsonl").
    virtual std::string deploy_history_location() const = 0;
};

/// A release that a run rolled back from ("marked bad"): never switched back to automatically.
struct BadRelease {
    std::string release;       ///< version ("v2") or git ref
    std::string location;      ///< the deploy_root or git work tree it belongs to (absolute)
    std::string marked_bad_at; ///< RFC 3339 UTC
    std::string run_id;
    std::string switched_to; ///< the release the run switched to instead
};

/// The releases marked bad, read by release_switch, git_checkout and `status`.
class BadReleases {
  public:
    virtual ~BadReleases() = default;
    /// Every bad release, oldest first; empty when none. util::Error (exit 1) when what is kept
    /// cannot be read or is not ours.
    virtual std::vector<BadRelease> bad_releases() const = 0;
    /// Adds `bad`, replacing an earlier record of the same location and release; all or
    /// nothing. util::Error (exit 1) when it cannot be kept.
    virtual void record_bad_release(const BadRelease& bad) = 0;
};

/// Who holds (or held) the run lock: the run, its process and why. `started` is when the lease
/// was acquired (util::format_time).
struct Holder {
    std::string run_id;
    int pid = 0;
    std::string host;
    std::string started;
    std::string reason;
    std::string user;
};

/// The run lock, held: a lease on "one run at a time" for the state. Releasing it (or the
/// holder's death) lets the next starter in. Not copyable; the destructor releases.
class RunLease {
  public:
    virtual ~RunLease() = default;
    const Holder& holder() const { return m_holder; }
    /// The fencing token: greater for every acquisition of the lock. A store shared between
    /// hosts makes each journal append of the holder conditional on it still being current, so
    /// a holder that lost its lease can never record (or start) another step.
    std::uint64_t generation() const { return m_generation; }
    /// nullopt: held until released or the holder dies (LocalStore: the kernel's flock).
    /// Otherwise the lease ends then unless renew()ed first (a heartbeat).
    virtual std::optional<util::SystemTime> expires_at() const = 0;
    /// Extends the lease; false when it was lost (expired and taken by another holder).
    virtual bool renew() = 0;
    /// Names another run in the holder (once the run id is known, or on resume).
    virtual void set_run_id(const std::string& run_id) = 0;
    /// Says why in the holder (a resume learns its run's reason from the journal it reads
    /// under the lease).
    virtual void set_reason(const std::string& reason) = 0;
    /// Releases now (idempotent). Never throws.
    virtual void release() noexcept = 0;
    /// Releases, leaving `dead` recorded as the holder that died unfinished (for a starter
    /// that refuses to start over it). util::Error (exit 7) when that cannot be recorded.
    virtual void release_leaving(const Holder& dead) = 0;

    RunLease(const RunLease&) = delete;
    RunLease& operator=(const RunLease&) = delete;

  protected:
    RunLease(Holder holder, std::uint64_t generation)
        : m_holder(std::move(holder)), m_generation(generation) {}
    Holder m_holder;
    std::uint64_t m_generation = 0;
};

/// The result of RunLocks::acquire: either `lease` (we hold it), or `holder` names who does.
struct LeaseAttempt {
    std::unique_ptr<RunLease> lease;
    /// When not acquired: the live holder (its fields may be empty when it did not say who it
    /// is in time: then `holder->pid == 0`).
    std::optional<Holder> holder;
    /// When acquired: a previous holder that died without releasing, i.e. a run that may be
    /// unfinished (offer `rollback resume <run_id>`). Never discarded silently.
    std::optional<Holder> stale;
};

/// What a monitor's start (or resume) of a run must still hold when it takes the run lock, in
/// the same transaction (docs/config.md "Leadership"): the leadership of `leader_generation`,
/// live; and for a start, the shared policy memory naming `decided_run` as the run its leader
/// decided to start (another monitor that acted since wrote another).
struct RunFence {
    std::uint64_t leader_generation = 0; ///< 0: the monitor is alone on its state
    std::string decided_run;             ///< "" for a resume
};

/// One run at a time per state: a person's run, the monitor's, `trigger` and `approve`.
class RunLocks {
  public:
    virtual ~RunLocks() = default;
    /// Tries to take the lock for `owner` without waiting for the holder. util::Error (exit 7,
    /// state_unwritable) when the state cannot be written.
    virtual LeaseAttempt acquire_lease(const Holder& owner) = 0;
    /// acquire_lease for a monitor's run under `fence`: util::Error exit 4 (locked) when this
    /// process no longer leads or another run was decided; exit 7 when the policy memory does
    /// not name the decided run (it could not be kept). A state with one monitor (no leader
    /// row) has nothing to check.
    virtual LeaseAttempt acquire_fenced_lease(const Holder& owner, const RunFence& fence) {
        (void)fence;
        return acquire_lease(owner);
    }
    /// The holder when the lock is held now; nullopt when free.
    virtual std::optional<Holder> lease_holder() const = 0;
    /// A holder that died without releasing (the lock is free); nullopt when none.
    virtual std::optional<Holder> dead_holder() const = 0;
    /// True when `run_id` is being executed right now: the lock is held for it.
    bool is_run_live(const std::string& run_id) const {
        auto h = lease_holder();
        return h && h->run_id == run_id;
    }
};

/// Runs and their journals (the format is journal/'s, docs/journal.md; where a journal is kept
/// is the store's).
class Runs {
  public:
    virtual ~Runs() = default;
    /// Ids of every run with a journal, newest first; empty when none.
    virtual std::vector<std::string> list_runs() const = 0;
    /// The newest run's id, if any.
    virtual std::optional<std::string> latest_run() const = 0;
    /// A token that changes when a run is added, cheaper than latest_run() (LocalStore: the runs
    /// directory's mtime); nullopt when the store cannot tell cheaply — ask latest_run().
    virtual std::optional<std::int64_t> runs_version() const { return std::nullopt; }
    /// A token that changes when the journal of `run_id` grows, cheaper than reading it
    /// (LocalStore: its size); nullopt when the store cannot tell — read it.
    virtual std::optional<std::uint64_t> journal_version(const std::string& /*run_id*/) const {
        return std::nullopt;
    }
    /// The journal of `run_id`, as journal::read reads it (with `each`: its records handed to
    /// `each`, not kept). util::Error (exit 2) for an id that is no run id, a missing or
    /// unreadable journal.
    virtual journal::Journal read_journal(const std::string& run_id,
                                          const journal::RecordSink* each = nullptr) const = 0;
    /// The last complete record of `run_id`'s journal (how a watcher learns that a run has
    /// finished), cheaper than read_journal where the store can (LocalStore: the file's end;
    /// PgStore: one row). nullopt when the journal holds no record after its header, or its
    /// last line cannot be read; util::Error as read_journal where it reads the whole journal.
    virtual std::optional<journal::Entry> last_record(const std::string& run_id) const;
    /// Starts the journal of a new run with its header. Every append through the result is
    /// conditional on `lease` still being the current lease (fencing: a holder that lost the
    /// lock records nothing more). util::Error (exit 7) when it cannot be created.
    virtual std::unique_ptr<journal::Appender>
    create_journal(const std::string& run_id, const boost::json::object& header_fields,
                   const RunLease& lease) = 0;
    /// Continues the journal of `run_id` (resume, a note in an abandoned run): a torn last
    /// record is cut off with a warning added to `warnings`. Fenced by `lease` like
    /// create_journal. util::Error as read_journal, or exit 7 when it cannot be written.
    virtual std::unique_ptr<journal::Appender> open_journal(const std::string& run_id,
                                                            const RunLease& lease,
                                                            std::vector<std::string>* warnings) = 0;
    /// open_journal() of `as_read`, what read_journal gave of `run_id` (records kept or not)
    /// while the caller held `lease`, so no writer changed it since: a store that can continues
    /// from what that reading found (LocalStore: its complete lines, the last one's hash, its
    /// warnings) instead of reading the journal again. The default reads it again.
    virtual std::unique_ptr<journal::Appender>
    continue_journal(const std::string& run_id, const journal::Journal& as_read,
                     const RunLease& lease, std::vector<std::string>* warnings) {
        (void)as_read;
        return open_journal(run_id, lease, warnings);
    }
    /// The journal's bytes exactly as the JSON Lines file of docs/journal.md holds them (what
    /// `audit verify` checks and `state export` writes). util::Error as read_journal.
    virtual std::string journal_text(const std::string& run_id) const = 0;
    /// Keeps `text`, a whole journal of `run_id` (`state import`), as it is: the caller has
    /// verified it. util::Error (exit 2) when the store has a journal of that run already, or
    /// for an id that is no run id (its hint's `rollback state export RUN` carries `state_args`,
    /// state::state_args, so it finds this store from any directory); exit 7 when it cannot be
    /// written.
    virtual void import_journal(const std::string& run_id, const std::string& text,
                                const std::string& state_args) = 0;
    /// Where a run's journal is, for messages.
    virtual std::string journal_location(const std::string& run_id) const = 0;
    /// The local directory for the run's artifacts (dumps, reconciliation exports); not
    /// created here. util::Error (exit 2) for an id that is no run id.
    virtual std::filesystem::path artifacts_dir(const std::string& run_id) const = 0;
};

/// The documents of the approval gates of runs (state/step_gate.hpp writes and reads them): per
/// run, by name ("<step>.request", "<step>.answer", "<step>.request.1", ...), each written once.
class GateDocuments {
  public:
    virtual ~GateDocuments() = default;
    /// The document `name` of `run_id`, nullopt when there is none.
    virtual std::optional<std::string> gate_document(const std::string& run_id,
                                                     const std::string& name) const = 0;
    /// Keeps `doc` as `name` unless a document of that name exists: of two writers exactly one
    /// wins. false, writing nothing, when it existed. util::Error (exit 7) when it cannot be kept.
    virtual bool create_gate_document(const std::string& run_id, const std::string& name,
                                      const std::string& doc) = 0;
    /// Renames `from` to `to` (a gate asked again keeps its old documents aside).
    virtual void rename_gate_document(const std::string& run_id, const std::string& from,
                                      const std::string& to) = 0;
    /// The names of the run's documents, sorted; empty when none.
    virtual std::vector<std::string> gate_documents(const std::string& run_id) const = 0;
    /// Where `name` is kept, for messages (a file path for LocalStore).
    virtual std::string gate_location(const std::string& run_id, const std::string& name) const = 0;
};

/// The monitor's incident-policy memory (state/policy_memory.hpp writes and reads the document).
class PolicyMemoryDocument {
  public:
    virtual ~PolicyMemoryDocument() = default;
    /// The document, nullopt when none was kept.
    virtual std::optional<std::string> policy_memory_document() const = 0;
    /// Replaces it (atomically). util::Error when it cannot be kept.
    virtual void put_policy_memory_document(const std::string& doc) = 0;
    /// Where it is kept, for messages.
    virtual std::string policy_memory_location() const = 0;
};

/// Everything above, from one place.
class Store : public DecisionLog,
              public Approvals,
              public Baselines,
              public DeployMarkers,
              public BadReleases,
              public RunLocks,
              public Runs,
              public GateDocuments,
              public PolicyMemoryDocument,
              public ActiveAlerts {};

/// lock.json's document of a holder, and back (missing keys stay empty/0).
boost::json::object to_json(const Holder& h);
Holder holder_from_json(const boost::json::object& o);

/// The host name of this machine ("unknown" when it has none).
std::string this_host();
/// A Holder for this process: pid, host name, user ($USER or the passwd entry), time now.
Holder this_process_holder(std::string run_id, std::string reason);

/// Throws util::Error (exit 2) unless `id` is a name that stays inside its directory: decision
/// ids are "<time>.<ms>Z-<hex>".
void check_decision_id(const std::string& id);

/// The tick line of `r` (without newline), as append_tick keeps it.
std::string tick_line(const decision::DecisionRecord& r, const std::string& written_id);

/// The JSON document of an approval request (without newline), and back. parse_approval throws
/// util::Error naming `where` when the document is malformed.
std::string approval_json(const ApprovalRequest& a);
ApprovalRequest parse_approval(const std::string& text, const std::string& where);
/// Logs each request an approvals() reading left out ("approval request passed over: ...") and
/// appends them to `skipped` when given.
void passed_over(const std::vector<std::string>& unreadable, std::vector<std::string>* skipped);

/// The JSON line of a deploy marker (without newline): {version, kind: "deploy", release, time,
/// target}, as `rollback deployed --json` prints it and the history keeps it.
std::string deploy_marker_json(const DeployMarker& m);
/// The latest marker's document; util::Error naming `where` when malformed.
DeployMarker parse_deploy_marker(const std::string& text, const std::string& where);
/// The markers of `target` in the history `text` (one JSON line each), in time order;
/// util::InvalidInput locating every malformed line in `where`.
std::vector<DeployMarker> parse_deploy_history(std::string_view text, const std::string& where,
                                               const std::string& target);

/// The bad-release document: {"version":1,"bad_releases":[...]} (without newline), and back.
/// parse_bad_releases throws util::Error (exit 1) naming `where` when it is not ours.
std::string bad_releases_json(const std::vector<BadRelease>& all);
std::vector<BadRelease> parse_bad_releases(const std::string& text, const std::string& where);
/// `all` with `bad` added, replacing an earlier record of the same location and release.
std::vector<BadRelease> with_bad_release(std::vector<BadRelease> all, const BadRelease& bad);

} // namespace rollback::state
