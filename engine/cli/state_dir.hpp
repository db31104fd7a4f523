// SPDX-License-Identifier: MIT
#pragma once

// Where the state lives (journals, the run lock, decision records, approvals, logs): one rule for
// every command, so a person's run, the monitor's, `trigger` and `approve` of one target share one
// lock and every reading command sees every run (docs/config.md "The state directory").

#include "cli/config_search.hpp"
#include "cli/options.hpp"
#include "config/config.hpp"
#include "playbook/model.hpp"
#include "state/pg_store.hpp"
#include "state/store.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace rollback::cli {

struct StateDir {
    std::filesystem::path dir; ///< absolute, normalized
    std::string origin;        ///< how it was chosen, for messages: "--state-dir", …
    /// The shared store the configuration names (`[target] state`, `[state]`): then the state
    /// is kept there, and `dir` keeps only this host's files (rollback.log, run artifacts).
    std::optional<config::SharedState> shared;
    /// The configuration that named the state (canonical), empty when none did: a suggested
    /// command passes it (`-c FILE`) to find the same shared state from any directory.
    std::filesystem::path config;
};

/// The rule, first match wins: `--state-dir DIR`; `$ROLLBACK_STATE_DIR`; the shared state
/// (`[target] state`, `[state]`) or else the `[target] state_dir` of the config find_config()
/// finds (default `.rollback/` beside it); `.rollback/` beside the playbook; `./.rollback`.
/// A shared state the configuration names is not dropped for `$ROLLBACK_STATE_DIR`: it then
/// chooses only the local directory (`dir`: the log, run artifacts); `--state-dir` names a
/// local state.
/// Every path canonical (util::canonical_path). A config that does not load throws its
/// util::InvalidInput (exit 2): the state cannot be known.
StateDir resolve_state_dir(const CommonOptions& common, const std::filesystem::path& playbook);

/// The store the rule found: state::PgStore on the shared state, else state::LocalStore on
/// `sd.dir`. `access`: a command that writes (run, resume, trigger, approve, check, deployed,
/// monitor, state import) creates or migrates the shared schema when it is not at this build's
/// version; one that only reads (status, history, report, explain, audit, state export, plan,
/// approve --list) never does: a missing or older schema is util::Error exit 2 (`rollback state
/// init`). While the store waits for a server that went away, an interrupt (SIGINT, SIGTERM)
/// ends the wait. util::Error as PgStore throws (exit 2 for a bad DSN or a newer schema, exit 1
/// when the server cannot be reached).
std::unique_ptr<state::Store> open_store(const StateDir& sd, state::SchemaAccess access);

/// Where the state is, for messages: the directory, or the shared store (masked).
std::string state_where(const StateDir& sd);

/// What a suggested command needs to find the same state from any directory: " --state-dir
/// DIR" for a directory, " -c FILE" for the shared state (the configuration that names it);
/// state::state_args, the one helper every printed command goes through.
std::string state_args(const StateDir& sd);

/// Refuses (util::Error, exit 2, nothing done) when this process's user is not the owner of the
/// state directory `sd.dir` (when it exists and the state is not shared): files `command`
/// creates there (the lock, a run's journal, an answer) would belong to the wrong user, and
/// the owner, the monitor's service user, could not write them any more (`sudo rollback
/// approve` as root in the packaged layout). The hint names the owner to run it as.
void require_state_owner(const StateDir& sd, const std::string& command,
                         const std::string& files = "the lock, the run's journal, the answer");

/// Before a command writes into the local state directory (`check`, `deployed`, `trigger`,
/// `monitor`): the directory created and writable — else util::Error exit 7 (state
/// unwritable) naming it, with the hint `rollback run` gives, never an internal error — then
/// require_state_owner (`files`: what it would create there, e.g. "decision records").
void prepare_state_dir(const StateDir& sd, const std::string& command, const std::string& files);

/// Before a run starts in `sd` (the monitor, at every start): when the older layout's
/// directory beside `playbook` (`.rollback/`, not `sd.dir`) has its run lock held by a live
/// run, that run holds this target's lock: util::Error exit 4 (locked) naming the holder, never
/// a second run beside it (break-it 48/F3).
void refuse_older_layout_lock(const StateDir& sd, const std::filesystem::path& playbook);

/// Refuses (util::Error, exit 2, located at the step) when the local state directory `sd.dir`
/// lies inside a directory a step of `pb` on this machine replaces: the `releases/` of a
/// `release_switch` step's deploy_root (its `current` link points into them), the work tree of
/// a `git_checkout` step's repo. The state would move with the switch, and a second starter of
/// the target would take another lock (docs/config.md "The state directory and release links").
void refuse_state_in_releases(const StateDir& sd, const playbook::Playbook& pb);

/// The same rule for a command that loaded the config already (`cfg` is the one find_config()
/// finds).
StateDir resolve_state_dir(const CommonOptions& common, const config::Config& cfg);

} // namespace rollback::cli
