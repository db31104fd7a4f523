// SPDX-License-Identifier: MIT
#pragma once

// What the engine keeps between processes, behind narrow interfaces grouped under state::Store:
// decision records and tick logs, approval requests, baselines. LocalStore keeps them in the
// state directory (docs/config.md "The state directory"), MemoryStore in memory for tests. A
// shared implementation (PostgreSQL, issue 14) implements the same interfaces: callers hold a
// Store& and never a path.

#include "decision/evaluator.hpp"
#include "decision/record.hpp"
#include "util/time.hpp"

#include <optional>
#include <string>
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

/// Everything above, from one place.
class Store : public DecisionLog, public Approvals, public Baselines {};

/// Throws util::Error (exit 2) unless `id` is a name that stays inside its directory: decision
/// ids are "<time>.<ms>Z-<hex>".
void check_decision_id(const std::string& id);

/// The tick line of `r` (without newline), as append_tick keeps it.
std::string tick_line(const decision::DecisionRecord& r, const std::string& written_id);

/// The JSON document of an approval request (without newline), and back. parse_approval throws
/// util::Error naming `where` when the document is malformed.
std::string approval_json(const ApprovalRequest& a);
ApprovalRequest parse_approval(const std::string& text, const std::string& where);

} // namespace rollback::state
