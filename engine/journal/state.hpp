// SPDX-License-Identifier: MIT
#pragma once

// The state of a run, folded from its journal alone (pure: no I/O). `rollback status`,
// `rollback report` and resume use it. The record vocabulary is specified in docs/journal.md.

#include "journal/reader.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rollback::journal {

/// Written to journals and printed by name; never renumber or rename.
enum class RunStatus {
    running,
    succeeded,
    failed,
    verification_failed,
    interrupted,
    needs_attention
};
enum class StepStatus {
    pending,
    running,
    succeeded,
    failed,
    skipped,
    timed_out,
    interrupted,
    marked_done,
    verification_failed,
};
std::string_view to_string(RunStatus s);
std::string_view to_string(StepStatus s);
std::optional<RunStatus> parse_run_status(std::string_view name);
std::optional<StepStatus> parse_step_status(std::string_view name);

/// Every record type the engine writes or wrote (docs/journal.md "Record vocabulary"), header
/// and `note` (older engines' only) included. fold() and the report know each of them; any
/// other type is a warning.
const std::vector<std::string_view>& record_types();

/// A process group a step's attempt started (record step_process): the token that finds its
/// survivors after the engine died (exec::GroupToken, spelled here without depending on exec/).
struct ProcessGroup {
    int attempt = 0;
    int pgid = 0;
    std::uint64_t leader_start = 0; ///< clock ticks since boot (field 22 of /proc/<pid>/stat)
    std::string boot_id;
    std::string token; ///< the attempt token in its programs' environment ("" = none recorded)
    std::string command;
    std::string written; ///< the step_process record's time: the leader started before it
    /// A step_process_exited names it: its program ended by itself, so what still runs of the
    /// group was left running deliberately (never waited for or ended by a resume).
    bool exited = false;
    std::string exit; ///< how it ended, for a person: "exit 0", "signal 9", "failed_to_start"
};

/// Hashes a step id given as std::string or std::string_view alike (heterogeneous look-up).
struct StepIdHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view id) const noexcept {
        return std::hash<std::string_view>{}(id);
    }
};

/// A process a step left running when its program exited by itself (step_finished left_running).
using LeftProcess = Process;

struct StepState {
    std::string id;
    std::string phase;
    std::string action;
    bool idempotent = false;
    bool has_probe = false;
    bool is_finally = false;
    StepStatus status = StepStatus::pending;
    /// A step_started with no step_finished/marked_done/retry after it: what resume must resolve
    /// (the side effect may or may not have happened).
    bool in_flight = false;
    int attempts = 0; ///< highest attempt number started
    std::optional<int> exit_code;
    std::int64_t duration_ms = 0;
    std::string summary;
    std::string output_tail;
    std::string why;           ///< skip reason, mark-done reason, attention message
    std::string started;       ///< time of the last step_started
    std::string finished;      ///< time of the last step_finished
    std::string probe_verdict; ///< last step_probe verdict: done | not_done | error; "" = none
    /// Groups of the last attempt while it has no step_finished, minus those a step_survivors
    /// record settled: what resume must wait for or end before anything else of this step runs
    /// (those not `exited`), or leave alone (`exited`).
    std::vector<ProcessGroup> groups;
    /// The last attempt has no step_finished, but its one program's exit decided it (a
    /// step_process_exited with `step_status`): status, exit_code and summary are from there,
    /// in_flight is false. Resume writes the missing step_finished.
    bool finished_by_exit = false;
    std::vector<LeftProcess> left_running; ///< of the last step_finished
    std::string stage; ///< last step_progress stage of the current attempt ("" = none recorded)
    /// A step on hosts: host → its last status there ("running" between step_host_started and
    /// step_host_finished: the host did not finish), in host name order. Kept across attempts.
    std::map<std::string, std::string> hosts;
};

/// A check of the verify phase that never passed and that a person marked done with --force
/// (step_marked_done "unverified"): the run rests on their word, not on the check.
struct NotVerified {
    std::string step;
    std::string by;
    std::string at; ///< time of the step_marked_done record
    std::string why;
};

/// The run was handed over to the next leader (run_handed_over) and not resumed since.
struct HandOver {
    RunHandedOver record;
    std::string at; ///< the record's time
};

/// The run was abandoned for a new run (run_abandoned) and not resumed since.
struct Abandonment {
    RunAbandoned record;
    std::string at; ///< the record's time
};

struct RunState {
    std::string run_id;
    std::string playbook; ///< path
    std::string playbook_name;
    std::string playbook_sha256;
    std::string inventory_sha256; ///< "" when the run had no inventory file
    std::string reason;
    Trigger trigger{"", {}, {}, {}, {}}; ///< kind "" until a run_started says otherwise
    std::string user;
    std::string host;
    int pid = 0;
    bool dry_run = false;
    std::string created;  ///< header "created"
    std::string started;  ///< time of run_started
    std::string finished; ///< time of the last run_finished; "" while not finished
    RunStatus status = RunStatus::running;
    std::optional<int> exit_code;
    std::int64_t duration_ms = 0;
    std::string attention; ///< last needs_attention message ("" = none)
    std::string signal;    ///< run_interrupted (or run_handed_over) signal name ("" = none)
    std::string stopped;   ///< run_stopped "why": the state directory refused a record
    std::optional<HandOver> handed_over;  ///< cleared by run_resumed
    std::optional<Abandonment> abandoned; ///< cleared by run_resumed
    /// Lifecycle hooks that failed or sent nothing, one line each: `notify (after-step restore):
    /// nothing_sent: no destination configured ...`.
    std::vector<std::string> hook_problems;
    int resumes = 0; ///< run_resumed records
    /// Verify checks forced past (in record order); a later attempt of the step takes it out.
    /// A run that ends `succeeded` with any of these is NOT verified: status, report, history
    /// say so.
    std::vector<NotVerified> not_verified;
    std::vector<StepState> steps; ///< plan order (run_started "steps"), unknown steps appended
    /// id -> index in `steps` (by fold); looked up by a string_view without a copy.
    std::unordered_map<std::string, size_t, StepIdHash, std::equal_to<>> step_index;
    std::vector<std::string> warnings; ///< the journal's warnings plus records that made no sense
    std::string journal_problem;       ///< Journal::chain_problem: "" when the hash chain links

    const StepState* step(std::string_view id) const;
    /// Ids of steps started but not finished (see StepState::in_flight), in plan order.
    std::vector<std::string> in_flight_steps() const;
    /// True when every finally step has a final status (succeeded, failed, skipped, ...).
    bool finally_done() const;
};

/// Folds the journal's records in order. Without a run_finished (or with a run_resumed after the
/// last one) the run is `running` when `live_holder` (a live process holds the state directory's
/// lock for this run, see is_run_live), else `interrupted` — and its running steps show as
/// `interrupted` with in_flight still true.
RunState fold(const Journal& journal, bool live_holder);

/// fold() one record at a time, for a journal read with a RecordSink (its records not kept).
class Fold {
  public:
    Fold();
    ~Fold();
    Fold(const Fold&) = delete;
    Fold& operator=(const Fold&) = delete;
    void apply(const Entry& e);
    /// What fold() gives for a journal of `journal`'s header and warnings and the records
    /// applied; the Fold is spent.
    RunState finish(const Journal& journal, bool live_holder);

  private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace rollback::journal
