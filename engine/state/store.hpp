// SPDX-License-Identifier: MIT
#pragma once

// What the engine keeps between processes, behind narrow interfaces grouped under state::Store:
// decision records and tick logs, approval requests, baselines, deploy markers, bad releases.
// LocalStore keeps them in the state directory (docs/config.md "The state directory"), MemoryStore
// in memory for tests. A shared implementation (PostgreSQL, issue 14) implements the same
// interfaces: callers hold a Store& and never a path.

#include "decision/evaluator.hpp"
#include "decision/record.hpp"
#include "util/time.hpp"

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
    std::string state = "pending"; ///< pending | approved
    std::string approved_by;
    std::optional<util::SystemTime> approved_at;
    std::string run_id; ///< the run the approval started
};

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
    /// Every request, oldest first (decision ids start with their time).
    virtual std::vector<ApprovalRequest> approvals() const = 0;
};

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
    std::string release;
    util::SystemTime time;
    std::string target; ///< the config's target ("" in markers older than the field)
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

/// Everything above, from one place.
class Store : public DecisionLog,
              public Approvals,
              public Baselines,
              public DeployMarkers,
              public BadReleases {};

/// Throws util::Error (exit 2) unless `id` is a name that stays inside its directory: decision
/// ids are "<time>.<ms>Z-<hex>".
void check_decision_id(const std::string& id);

/// The tick line of `r` (without newline), as append_tick keeps it.
std::string tick_line(const decision::DecisionRecord& r, const std::string& written_id);

/// The JSON document of an approval request (without newline), and back. parse_approval throws
/// util::Error naming `where` when the document is malformed.
std::string approval_json(const ApprovalRequest& a);
ApprovalRequest parse_approval(const std::string& text, const std::string& where);

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
