// SPDX-License-Identifier: MIT
#pragma once

// A run as people and machines read it afterwards, built from its journal alone:
// `rollback status` (state and step table), `history` (one line per run), `report` (the full
// timeline). Text is for terminals and pipes; JSON (Boost.JSON) for machines. Neither is masked
// here: callers print through util::mask_secrets (the journal holds no registered secret anyway).

#include "journal/reader.hpp"
#include "journal/state.hpp"
#include "report/record_text.hpp"
#include "state/store.hpp"

#include <boost/json/object.hpp>
#include <filesystem>
#include <optional>
#include <string>

namespace rollback::report {

/// What a person needs besides the fold: whether the run is live, and a dead holder's lock.
struct RunContext {
    bool live = false;                       ///< a live process executes this run now
    std::optional<state::Holder> stale_lock; ///< lock.json left by this run's dead process
    /// What the printed commands (`next: rollback resume RUN ...`) carry to find this state
    /// from any directory (state::state_args); "" for the state directory of the cwd.
    std::string state_args = {};
};

/// A run loaded for display: its journal, the fold, and the lock's view of it.
struct RunView {
    journal::Journal journal;
    journal::RunState state;
    RunContext ctx;
};

/// Reads the run's journal from `store`, asks its lock (live? a dead holder of this run?)
/// and folds. Throws util::Error (exit 2) for an invalid id, a missing or unreadable journal.
/// Without `keep_records` the records are folded as they are read and not kept (the view's
/// journal holds its header and warnings only): what `status` needs of a long run. `state_args`
/// goes to RunContext::state_args.
RunView load_run(const state::Store& store, const std::string& run_id,
                 const std::string& state_args, bool keep_records = true);

/// `rollback status`: the run header (who, why, when, state), the step table, warnings and the
/// next command to type when the run is interrupted or needs attention. Ends with a newline.
std::string format_status(const journal::RunState& s, const RunContext& ctx);

/// One verify check a person forced past, for a person: `smoke: marked done by alice at T with
/// --force (reason); the check never passed`.
std::string not_verified_text(const journal::NotVerified& n);

/// `rollback status --json`: the RunState as one object (steps as an array, in plan order).
boost::json::object status_json(const journal::RunState& s, const RunContext& ctx);

/// `rollback history`: the column header line and one line per run (no trailing newline).
std::string history_header();
std::string format_history_line(const journal::RunState& s);
/// A run whose journal cannot be read still gets a line, with the error.
std::string format_history_error(const std::string& run_id, const std::string& error);
boost::json::object history_json(const journal::RunState& s);

/// `rollback report`: the status block, then every record as a timeline line
/// (`TIME  +ELAPSED  what happened`, output tails indented), then warnings.
std::string format_report(const journal::Journal& j, const journal::RunState& s,
                          const RunContext& ctx);

/// `rollback report` of the run `run_id` of `store` (what format_report() gives of load_run()),
/// its journal read once: each record folded and written into the timeline as it is read, none
/// kept. util::Error as load_run().
std::string report_text(const state::Store& store, const std::string& run_id,
                        const std::string& state_args);

/// `rollback report --json`: {"run": status_json, "timeline": [every record as written],
/// "warnings": [...]}.
boost::json::object report_json(const journal::Journal& j, const journal::RunState& s,
                                const RunContext& ctx);

} // namespace rollback::report
