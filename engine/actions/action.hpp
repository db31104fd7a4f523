// SPDX-License-Identifier: MIT
#pragma once

// One interface for every kind of step. One file per action kind implements it
// (actions/exec_action.cpp, actions/pg_restore.cpp, ...); registry.cpp lists them.

#include "exec/runner.hpp"
#include "journal/records.hpp"
#include "playbook/model.hpp"
#include "state/store.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rollback::actions {

/// Why the run started (as its journal keeps it); `when` conditions and hooks read it.
using Trigger = journal::Trigger;

/// Everything an action may use. Actions never touch the journal directly.
struct Context {
    const playbook::Playbook& playbook;
    const playbook::Step& step;
    exec::ProcessRunner& runner;
    std::string run_id;
    std::filesystem::path state_dir;
    std::filesystem::path run_dir; ///< <state_dir>/runs/<run_id>/ : artifacts (CSV, dumps)
    /// The releases marked bad (release_switch, git_checkout), kept by the run's state::Store.
    state::BadReleases& bad_releases;
    const Trigger& trigger;
    bool verbose = false;
    /// Progress for a person (restore progress, "waiting for health"); shown live on a terminal.
    std::function<void(const std::string& line)> progress;
    /// A stage of a multi-stage action reached (pg_restore: "restored", "swapped", ...): the
    /// orchestrator journals it as step_progress before returning. May be empty.
    std::function<void(const std::string& stage, const boost::json::object& facts)> stage = nullptr;
    /// Tells the playbook's hooks for lifecycle `event` ("on-approval") with `status` and the
    /// event's extra fields (hooks/README.md); each hook's outcome is journaled. May be empty.
    std::function<void(std::string_view event, std::string_view status,
                       const boost::json::object& extra)>
        notify = nullptr;
    /// The approval gates of the run's store (approve); null: the state directory's files.
    state::GateDocuments* gates = nullptr;
    /// The host the step runs on (`hosts`): `runner` runs its programs there and paths are the
    /// host's. Empty: the engine's own machine.
    std::string host = {};
    /// The application_name every database session of this attempt carries (docs/actions.md
    /// "Step sessions"): a resume ends the sessions of an interrupted attempt by it. Empty
    /// outside a step's attempt (preflight, probe, rehearse): "rollback".
    std::string session_name = {};
    /// What a command the step prints for a person adds to find the run's state from any
    /// directory (state::state_args: " --state-dir DIR", " -c FILE"); empty: `state_dir`'s.
    std::string state_args = {};
    /// The run lock's fence for an effect inside the step that no journal record announces (a
    /// COMMIT, a further request of `attempts`): called right before it, with what it is for
    /// ("attempt 3 of step \"drain\""); throws util::Error (exit 7) when this process lost the
    /// run lock, and then the step does nothing more. Empty: nothing to check.
    std::function<void(const std::string& before)> fence = nullptr;
};

/// ctx.fence(before) when the context has one.
inline void check_fence(const Context& ctx, const std::string& before) {
    if (ctx.fence) {
        ctx.fence(before);
    }
}

/// A database session of an interrupted attempt, as Action::end_sessions found it.
struct Session {
    int pid = 0; ///< the server's backend pid
    std::string name;
    std::string database;
    std::string user;
    std::string state; ///< "active", "idle in transaction", ... ("" when not shown)
};

/// What Action::end_sessions found and did on the step's server.
struct SessionSweep {
    std::string server;             ///< where it looked (the DSN, masked)
    std::vector<Session> found;     ///< carrying one of the names, at any look
    std::vector<Session> remaining; ///< still there after pg_terminate_backend and the wait
    std::string refused;            ///< why the server refused to end one (no privilege)
    std::string error;              ///< the server could not be looked at: nothing was done
    std::int64_t waited_ms = 0;
};

/// Where a revert happens, as the bad-release records name it: `path`, prefixed with
/// "HOST:" for a step on a host (each host's releases are its own).
std::string location_of(const Context& ctx, const std::string& path);

enum class Status {
    succeeded,
    failed,              ///< the action did not do its job
    verification_failed, ///< a verification (http, sql_assert, ...) did not hold: exit code 3
    timed_out,
    interrupted,
};
std::string_view to_string(Status s);

struct Result {
    Status status = Status::failed;
    int exit_code = -1;          ///< of the child, when there was one
    std::string summary;         ///< one line for the report: "exit 0", "restored 12 tables", ...
    std::string output_tail;     ///< last bytes of stdout+stderr, for the report
    boost::json::object details; ///< action-specific facts for the journal/report (counts, files)
};

/// One preflight line: what was checked and, when not ok, what is wrong (and a hint).
struct Check {
    bool ok = true;
    std::string what;    ///< "program /usr/bin/pg_restore is executable"
    std::string problem; ///< when !ok
    std::string hint;
    /// ok, but a person should know (a leftover database to drop): shown as "note", `hint` too.
    bool notice = false;
};

/// A built-in answer to "is this already done?" for a step that started and did not finish.
struct ProbeAnswer {
    enum class Verdict {
        done,     ///< the step's whole effect is in place
        not_done, ///< running the step again is safe: it continues from where it stopped
        unknown,  ///< the state is not one the step leaves: a person must decide
    };
    Verdict verdict = Verdict::unknown;
    std::string state; ///< what was found, for a person ("the swap did not happen: ...")
};

/// A step's own keys as its action parsed them: the kind's typed struct (also when there are
/// problems: what could be read, for describe) and every problem, located.
struct Parsed {
    std::shared_ptr<const playbook::ActionParams> params;
    std::vector<util::Diagnostic> diagnostics;
};

/// Every action kind is one actions::KindAction<Kind> (actions/kind_action.hpp): its keys are
/// parsed once into Kind::Params, and each phase below reads that struct, never raw keys.
class Action {
  public:
    virtual ~Action() = default;
    /// The action-specific keys a step of this kind accepts (beyond the common step keys) and
    /// which of them are required. The loader uses these for "unknown key"/"missing key".
    virtual std::vector<std::string> keys() const = 0;
    virtual std::vector<std::string> required_keys() const = 0;
    /// How a {{variable}} is written into each key that is not plain data (SQL, URL, header):
    /// see playbook::ActionSpec::encodings. Empty: every key is plain data.
    virtual std::map<std::string, playbook::Encoding> encodings() const = 0;
    /// Type and value checks of the step's own keys, located via step.params / step.where, and
    /// the typed struct they make. Pure: reads no file, runs nothing, so it is done once, at load.
    virtual Parsed parse(const playbook::Playbook& pb, const playbook::Step& step) const = 0;
    /// parse's diagnostics alone.
    std::vector<util::Diagnostic> validate(const playbook::Playbook& pb,
                                           const playbook::Step& step) const {
        return parse(pb, step).diagnostics;
    }
    /// The resolved arguments as the plan shows them (secrets are masked by the caller).
    virtual std::string describe(const playbook::Step& step) const = 0;
    /// Read-only preflight: never changes anything.
    virtual std::vector<Check> preflight(const Context& ctx) const = 0;
    /// Does the work once (the orchestrator handles retries, timeouts of the step as a whole,
    /// journaling). Never throws for the work's own failure: that is a Result.
    virtual Result run(const Context& ctx) const = 0;
    /// For a kind whose run() is one program and whose result is that program's ending (exec,
    /// hook): the Result `exited` (how the program ended by itself, no output yet) makes.
    /// The orchestrator journals it as soon as the program is reaped, so a resume after the
    /// engine died while the step was finishing knows how it ended. nullopt for other kinds.
    virtual std::optional<Result> result_of_exit(const exec::Outcome& exited) const = 0;
    /// Whether probe() answers for this kind of step (resume and `status` use it).
    virtual bool has_probe() const = 0;
    /// Looks (read-only) at what an interrupted run of the step left. Never throws: a failure
    /// to look is Verdict::unknown with the reason.
    virtual ProbeAnswer probe(const Context& ctx) const = 0;
    /// Whether the kind's attempts hold database sessions (Context::session_name).
    virtual bool holds_sessions() const = 0;
    /// Ends the sessions named one of `names` (an interrupted attempt's) on the step's server
    /// and waits up to `wait` for them to be gone. Never throws. A kind holding none: nothing.
    virtual SessionSweep end_sessions(const playbook::Playbook& pb, const playbook::Step& step,
                                      const std::vector<std::string>& names,
                                      util::Millis wait) const = 0;
};

/// Parses `step` with its action (Action::parse) and, when it parsed without a problem, keeps
/// the result in step.parsed. Returns the diagnostics; none for an unknown action (the loader
/// reports that itself). LoadOptions::validate_step of every command that loads a playbook.
std::vector<util::Diagnostic> parse_step(const playbook::Playbook& pb, playbook::Step& step);

/// The action for `name`, or nullptr.
const Action* find_action(std::string_view name);
/// Every action name, for "did you mean" and docs.
std::vector<std::string> action_names();

} // namespace rollback::actions
