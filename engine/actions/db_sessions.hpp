// SPDX-License-Identifier: MIT
#pragma once

// The database actions' side of "Step sessions" (db/sessions.hpp): their attempts' sessions
// named and fenced from a step's context, and ended by name before the step runs again.

#include "actions/action.hpp"
#include "db/sessions.hpp"

namespace rollback::actions {

/// The session of `ctx`'s attempt: named ctx.session_name, fenced by ctx.fence before each
/// effect ("the commit of step \"ID\"" and the like: `effect` names it).
db::StepSession step_session(const Context& ctx, const std::string& effect);

/// `work()` (db/'s work of a step attempt), a refused fence (db::Fenced) rethrown as what the
/// fence threw (util::Error, exit 7): the orchestrator stops the run on it.
template <class Work>
auto fenced_work(Work&& work) -> decltype(work()) {
    try {
        return work();
    } catch (const db::Fenced& f) {
        std::rethrow_exception(f.error);
    }
}

/// Action::end_sessions on the server of `dsn` (a DSN text; one that does not parse is `error`).
/// `maintenance`: looked at through the server's maintenance database (pg_restore: the step's
/// own database may not accept connections halfway through a swap).
SessionSweep end_db_sessions(const std::string& dsn, bool maintenance,
                             const std::vector<std::string>& names, util::Millis wait);

} // namespace rollback::actions
