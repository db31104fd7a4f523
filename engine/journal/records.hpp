// SPDX-License-Identifier: MIT
#pragma once

// The journal's records, typed: one struct per record type (docs/journal.md "Record
// vocabulary"), and their JSON in one place (records.cpp). Writers build a record and append
// to_json(record); readers get an Entry and dispatch on its RecordType.

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rollback::journal {

/// Every record type, header included, in the order of the Record variant. Unknown stands for a
/// type this engine does not know (a newer writer's): kept and shown, never folded.
enum class RecordType : std::uint8_t {
    header,
    run_started,
    run_resumed,
    step_skipped,
    step_started,
    step_process,
    step_progress,
    step_survivors,
    step_finished,
    step_probe,
    step_marked_done,
    step_retry_requested,
    needs_attention,
    hook,
    run_interrupted,
    run_stopped,
    run_finished,
    note,
    step_process_exited,
    step_host_started,
    step_host_finished,
    run_handed_over,
    run_abandoned,
    step_sessions,
    unknown,
};
/// The name written in "type"; "" for unknown.
std::string_view to_string(RecordType t);
/// RecordType::unknown for a name this engine does not write.
RecordType record_type(std::string_view name);

/// Why a run started: kept in run_started (`reason` beside the `trigger` object), read by `when`
/// conditions, hooks, `status` and `explain`.
struct Trigger {
    std::string kind = "manual"; ///< "manual", "condition", "webhook", "monitor", "approved"
    std::string condition;       ///< condition name, e.g. "error-rate", "security"
    std::string severity;        ///< "critical", "warning", ... (empty = unspecified)
    std::string reason;          ///< --reason text (run_started "reason")
    std::string decision_id;     ///< the decision record that caused the run, if any
};

/// A process named in a record: {pid, command}.
struct Process {
    int pid = 0;
    std::string command;
    bool left_group = false; ///< found by its attempt token outside the group (setsid)
};

/// A database session (a server backend) of a step's attempt, known by its application_name.
struct DbSession {
    int pid = 0; ///< the backend's pid on the database server
    std::string name;
    std::string database;
    std::string user;
    std::string state; ///< pg_stat_activity.state when seen ("" when not shown)
};

/// One step of the plan in run_started "steps".
struct PlannedStep {
    std::string id;
    std::string phase;
    std::string action;
    bool idempotent = false;
    bool has_probe = false;
    bool is_finally = false; ///< "finally"
};

/// --only / --skip / --from of the run (run_started "selection").
struct StepSelection {
    std::vector<std::string> only;
    std::vector<std::string> skip;
    std::string from;
};

struct Header {
    std::string format;
    std::int64_t version = 0;
    std::string run_id;
    std::string created;
};
/// A playbook variable as the run resolved it (run_started "vars"): a resume goes on with these
/// values. A secret's value is never written: its origin (where it is read from) and a keyed
/// fingerprint (HMAC-SHA-256 with the run's key, which is not in the journal) tell whether the
/// value a resume reads is the run's.
struct RunVar {
    std::string name;
    std::string origin; ///< "env NAME", ".env NAME", "default", "--var", "playbook"
    bool secret = false;
    std::string value;       ///< not secret: the value; secret: ""
    std::string fingerprint; ///< secret: "hmac-sha256:HEX" ("" = none recorded)
};
struct RunStarted {
    std::string run_id;
    std::string playbook; ///< path
    std::string playbook_sha256;
    std::string inventory_sha256; ///< of [remote] inventory's file; "" without one (not written)
    std::string playbook_name;
    Trigger trigger;         ///< `reason` is the record's top-level "reason"
    bool has_trigger = true; ///< false: a record without a "trigger" object (read only)
    std::string user;
    std::string host;
    int pid = 0;
    bool dry_run = false;
    std::vector<PlannedStep> steps;
    StepSelection selection;
    std::vector<RunVar> vars;
    bool has_vars = false; ///< false: a record without "vars" (written before they were kept)
};
struct RunResumed {
    std::string by;
    std::string why;
    int pid = 0;
    std::string host;
    /// Variables this resume took from its own command line, environment or .env although the
    /// run had resolved them differently (--allow-changed-vars); written only when not empty.
    std::vector<std::string> vars_changed = {};
};
struct StepSkipped {
    std::string step;
    std::string why;
};
struct StepStarted {
    std::string step;
    std::optional<int> attempt; ///< always written; absent only in a foreign record
};
struct StepProcess {
    std::string step;
    int attempt = 0;
    int pgid = 0;
    std::uint64_t leader_start = 0; ///< clock ticks since boot (field 22 of /proc/<pid>/stat)
    std::string boot_id;
    /// The attempt token in its programs' environment; absent in journals written before it.
    std::optional<std::string> token;
    std::string command;
};
struct StepProgress {
    std::string step;
    std::string stage;
    boost::json::object facts; ///< the action's facts, written after "stage" in their order
};
struct StepSurvivors {
    std::string step;
    int attempt = 0;
    int pgid = 0;
    std::vector<Process> found;
    std::string outcome; ///< exited | terminated | killed | remain | left_alone | not_proven
    std::int64_t waited_ms = 0;
    std::optional<std::vector<Process>> remaining; ///< with outcome remain
    std::optional<std::vector<Process>> unproven;  ///< seen, without the proof: never signalled
    std::optional<std::string> why;                ///< with not_proven
    std::optional<std::string> exit;               ///< with left_alone: "exit 0", "signal 9"
    std::optional<std::string> host;               ///< on a host: its processes there (pgid 0)
};
struct StepFinished {
    std::string step;
    std::optional<int> attempt; ///< always written; absent only in a foreign record
    std::string status;
    std::optional<int> exit_code; ///< absent when the action ran no child
    std::optional<std::int64_t> duration_ms;
    std::string summary;
    std::string output_tail;
    boost::json::object details;
    std::vector<Process> left_running; ///< written only when not empty
    bool recovered = false; ///< written by a resume from step_process_exited (only when true)
};
/// A probe's answer: the step's own probe command (`by` empty: exit_code, output_tail) or the
/// action's (`by` = "action": state).
struct StepProbe {
    std::string step;
    std::string by;
    std::optional<int> exit_code;
    std::string verdict; ///< done | not_done | error
    std::string output_tail;
    std::string state;
    std::string host; ///< a step on hosts: the host it ran on ("" for a local probe)
};
struct StepMarkedDone {
    std::string step;
    std::string by;
    std::string why;
    std::optional<std::string> probe_state;
    /// A check of the verify phase that never passed, marked done with --force: it verified
    /// nothing, and the run that ends `succeeded` says so (RunFinished::not_verified).
    bool unverified = false;
};
struct StepRetryRequested {
    std::string step;
    std::string by;
    std::string why;
};
struct NeedsAttention {
    std::optional<std::string> step;
    std::string message;
};
struct Hook {
    std::string event;
    std::string hook;
    std::string step; ///< "" for run-level events
    std::string status;
    std::string summary;
    std::string reason;
    std::string output_tail;
};
struct RunInterrupted {
    std::string signal;
    /// "" (the steps: the finally steps run now) or "survivors": the signal came while a resume
    /// (or `run --abandon-stale`) waited for what an interrupted attempt left running — nothing
    /// else is done, no finally step runs (they run when the run is resumed).
    std::string during = {};
};
struct RunStopped {
    std::string why;
};
struct RunFinished {
    std::string state;
    std::optional<int> exit_code;
    std::optional<std::int64_t> duration_ms; ///< always written; absent only in a foreign record
    std::optional<int> tolerated_failures;
    /// A succeeded run's verify checks a person forced past (StepMarkedDone::unverified).
    std::vector<std::string> not_verified = {};
};
/// Free text: written by engines before every record was typed (a hand-over, an abandoned run);
/// still read and shown, never written now.
struct Note {
    std::string text;
};
/// A program of the attempt ended by itself (not by the engine's timeout or interrupt).
struct StepProcessExited {
    std::string step;
    int attempt = 0;
    int pgid = 0;
    std::string ending; ///< exited | signaled | failed_to_start
    std::optional<int> exit_code;
    std::optional<int> signal;
    std::optional<std::string> error;
    /// When the action's result is that program's ending (exec, hook): the step's status.
    std::optional<std::string> step_status;
    std::optional<std::string> summary;
};
/// A step's attempt began on one host (issue 15): durable before the host's program runs.
struct StepHostStarted {
    std::string step;
    int attempt = 0;
    std::string host;
    int batch = 0; ///< 1-based
};
/// A step's attempt ended on one host: the remote program's result and its groups on the host.
struct StepHostFinished {
    std::string step;
    int attempt = 0;
    std::string host;
    std::string status;
    std::optional<int> exit_code;
    std::int64_t duration_ms = 0;
    std::string summary;
    std::string output_tail;
    std::vector<int> remote_groups; ///< the process groups its programs had on the host
};
/// A monitor's run among monitors sharing a state, interrupted by a signal (systemctl stop, a
/// leader stepping down): written instead of run_interrupted. No finally step runs now; the next
/// leader's resume runs the remaining steps, then the finally steps.
struct RunHandedOver {
    std::string signal; ///< "SIGTERM", "SIGINT", ...
    std::string during; ///< "steps" (the regular steps) or "finally" (the finally steps)
    /// The step the signal interrupted ("" = none: it came between steps), its attempt under way
    /// (absent: none had started, e.g. the step waited to retry), the status the engine gave
    /// that attempt when it ended its programs, and that attempt's summary.
    std::string step;
    std::optional<int> attempt;
    std::string step_status;
    std::string step_summary;
    std::string to = "next_leader"; ///< who takes the run over
    std::int64_t generation = 0;    ///< the leadership generation that handed it over
    std::string resume;             ///< the command that continues the run by hand
};
/// A run whose holder died, left by a person who started a new run with --abandon-stale: the
/// new run holds the lock; this one stays as it was (its survivors settled).
struct RunAbandoned {
    std::string new_run; ///< the run started in its place
    std::string by;      ///< who started it
    std::string host;
    int pid = 0;
};
/// The database sessions of a step's interrupted attempts, ended by a resume before anything
/// else of the step (docs/actions.md "Step sessions").
struct StepSessions {
    std::string step;
    int attempt = 0;    ///< the interrupted attempt (the earlier ones' names were looked for too)
    std::string server; ///< the DSN looked at, masked
    std::vector<DbSession> found;
    std::string outcome; ///< ended | remain | unchecked
    std::int64_t waited_ms = 0;
    std::optional<std::vector<DbSession>> remaining; ///< with remain
    std::optional<std::string> why; ///< remain: the server's refusal; unchecked: why not looked at
};
struct Unknown {
    std::string type; ///< as written ("" when the record has none)
};

/// One alternative per RecordType, in its order: `RecordType(record.index())` is the type.
using Record = std::variant<Header, RunStarted, RunResumed, StepSkipped, StepStarted, StepProcess,
                            StepProgress, StepSurvivors, StepFinished, StepProbe, StepMarkedDone,
                            StepRetryRequested, NeedsAttention, Hook, RunInterrupted, RunStopped,
                            RunFinished, Note, StepProcessExited, StepHostStarted, StepHostFinished,
                            RunHandedOver, RunAbandoned, StepSessions, Unknown>;

inline RecordType type_of(const Record& r) {
    return static_cast<RecordType>(r.index());
}

/// A record as read from a journal: where it is in the chain, when it was written, what it says.
struct Entry {
    std::int64_t seq = -1; ///< -1 when the record has none
    std::string time;      ///< "" when the record has none
    Record record;

    RecordType type() const { return type_of(record); }
    /// The record's "step" ("" for run-level records).
    std::string_view step() const;
    /// The record's "output_tail" (step_finished, step_host_finished, step_probe, hook), else "".
    std::string_view output_tail() const;
};

/// The record's fields as written: {"type": ..., fields in the documented order}. The writer
/// adds "seq" and "time" in front and "prev" and "hash" at the end. Unknown gives {"type"}.
boost::json::object to_json(const Record& r);

/// Reads one parsed line. Never throws: a field of the wrong type reads as absent, an unknown
/// "type" gives Unknown.
Entry read_entry(const boost::json::object& line);

} // namespace rollback::journal
