// SPDX-License-Identifier: MIT
#pragma once

// A step's database sessions (docs/actions.md "Step sessions"): every session an attempt of a
// `sql`, `sql_assert` or `pg_restore` step opens carries the attempt's name as its
// application_name, and every effect it sends (a COMMIT, a stage mark, the swap, a DROP) goes
// after a check that its engine still holds the run lock — session open, fence, effect. Before
// the step runs again (resume, failover), the sessions of its interrupted attempts are ended
// on the server (pg_terminate_backend rolls back what they left uncommitted) and waited for.

#include "db/connection.hpp"
#include "util/duration.hpp"

#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace rollback::db {

/// What a step's fence threw, carried through db/'s error handling untouched: it is no
/// std::exception, so no `catch (const std::exception&)` turns it into an outcome (a deposed
/// engine's "restore failed; side database dropped" would be an effect of its own). The action
/// that called into db/ rethrows `error` (actions/db_sessions.hpp).
struct Fenced {
    std::exception_ptr error;
};

/// How the sessions of one step attempt are named and fenced. Empty: unnamed ("rollback"),
/// unfenced (preflight, probe, rehearse, backup).
struct StepSession {
    std::string name; ///< the attempt's application_name; "" leaves the DSN's (else "rollback")
    /// Called with the session open, right before each effect: throws (util::Error, exit 7)
    /// when the engine lost the run lock. May be empty.
    std::function<void()> before_effect = nullptr;

    /// `dsn` with application_name = name (a DSN's own is overridden), or `dsn` when unnamed.
    Dsn named(const Dsn& dsn) const;
    /// Session open, fence, effect: calls before_effect (when set) right before an effect;
    /// what it throws is thrown as Fenced, so the effect is not made, an open transaction is
    /// rolled back on the way out, and no error handling of db/ makes an outcome of it.
    void fence() const;
};

/// A server backend as pg_stat_activity shows it.
struct Backend {
    int pid = 0;
    std::string name; ///< application_name
    std::string database;
    std::string user;
    std::string state; ///< "active", "idle in transaction", ... ("" when not shown)
};

/// What end_named_sessions found and did.
struct SessionSweep {
    std::vector<Backend> found;     ///< named so at the first look
    std::vector<Backend> remaining; ///< still there after pg_terminate_backend and the wait
    std::string refused;            ///< why the server refused to end one (masked; no privilege)
    std::string error;              ///< the server could not be looked at (masked): nothing done
    util::Millis waited{0};
};

/// Ends every backend of the server of `dsn` (any database) whose application_name is one of
/// `names` — pg_terminate_backend, which rolls back its open transaction — and waits up to
/// `wait` for them to be gone (a backend ends its commit, if it is in one, before it dies).
/// Never throws: a server that cannot be reached is `error`, a refusal `refused`.
SessionSweep end_named_sessions(const Dsn& dsn, const std::vector<std::string>& names,
                                util::Millis wait);

} // namespace rollback::db
