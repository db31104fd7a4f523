// SPDX-License-Identifier: MIT
// One journal record as a line of text: the report's timeline, the live view's step lines.
#include "report/record_text.hpp"

#include "report/hosts_view.hpp"
#include "util/duration.hpp"
#include "util/strings.hpp"

#include <charconv>
#include <vector>

namespace rollback::report {

std::string trigger_text(const journal::Trigger& t) {
    if (t.kind.empty()) {
        return "";
    }
    std::string s = t.kind;
    if (!t.condition.empty()) {
        s += " " + t.condition;
    }
    std::vector<std::string> extra;
    if (!t.severity.empty()) {
        extra.push_back("severity " + t.severity);
    }
    if (!t.decision_id.empty()) {
        extra.push_back("decision " + t.decision_id);
    }
    if (!extra.empty()) {
        s += " (" + util::join(extra, ", ") + ")";
    }
    return s;
}

std::string interrupted_text(const journal::RunInterrupted& r) {
    if (r.during == "survivors") {
        // Nothing else of the run is done (docs/actions.md "Step processes"): the finally steps
        // wait for the next resume, which also looks at the processes again (break-it 41/03).
        return "interrupted by " + r.signal +
               " while waiting for what an interrupted attempt left running: nothing else was "
               "done, finally steps NOT run (they run when the run is resumed: rollback resume)";
    }
    return "interrupted by " + r.signal + "; running finally steps";
}

std::string hand_over_text(const journal::RunHandedOver& r) {
    std::string s = "to " + (r.to == "next_leader" ? std::string("the next leader") : r.to);
    if (r.generation != 0) {
        s += " (from generation " + std::to_string(r.generation) + ")";
    }
    s += " on " + r.signal;
    const bool in_finally = r.during == "finally";
    if (r.step.empty()) {
        s += in_finally ? " between finally steps" : " between steps";
    } else {
        s += " during step " + r.step + " (";
        if (r.attempt) {
            s += "attempt " + std::to_string(*r.attempt) + ": ";
        }
        s += r.step_status;
        if (!r.step_summary.empty() && r.step_summary != r.step_status) {
            s += ", " + r.step_summary;
        }
        s += ")";
    }
    s += in_finally ? "; its resume runs the finally steps not finished"
                    : "; its resume runs the remaining steps, then the finally steps";
    return s;
}

std::string abandoned_text(const journal::RunAbandoned& r) {
    std::string s = "for run " + r.new_run + ", started with --abandon-stale";
    if (!r.by.empty() || !r.host.empty()) {
        s += " by " + r.by + (r.host.empty() ? "" : "@" + r.host);
    }
    if (r.pid != 0) {
        s += " (pid " + std::to_string(r.pid) + ")";
    }
    return s;
}

namespace {

std::string ms_text(std::int64_t ms) {
    return util::format_duration(util::Millis(ms));
}

/// "pid 4242 (python3 -m http.server), pid 4250 (sleep 100)".
std::string processes_text(const std::vector<journal::Process>& list) {
    std::vector<std::string> parts;
    for (const auto& p : list) {
        parts.push_back("pid " + std::to_string(p.pid) + " (" + p.command + ")" +
                        (p.left_group ? " [left the group]" : ""));
    }
    return util::join(parts, ", ");
}

} // namespace

namespace {

std::string describe(const journal::Header& r) {
    return "journal created (format " + r.format + " v" + std::to_string(r.version) + ")";
}

std::string describe(const journal::RunStarted& r) {
    std::string s = "run started: playbook " + r.playbook_name;
    if (!r.playbook.empty()) {
        s += " (" + r.playbook + ")";
    }
    if (!r.trigger.reason.empty()) {
        s += ", reason " + util::quoted(r.trigger.reason);
    }
    if (r.has_trigger && !r.trigger.kind.empty()) {
        s += ", trigger " + trigger_text(r.trigger);
    }
    s += ", by " + r.user + "@" + r.host + " pid " + std::to_string(r.pid);
    s += ", " + std::to_string(r.steps.size()) + " steps";
    if (r.dry_run) {
        s += " (dry run)";
    }
    return s;
}

/// Appends `n` in decimal (without snprintf: two numbers a step in a long run's report).
void append_int(std::string& out, long long n) {
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, n).ptr);
}

void append(std::string& out, const journal::StepStarted& r) {
    out += "step ";
    out += r.step;
    out += ": started (attempt ";
    append_int(out, r.attempt.value_or(0));
    out += ')';
}

void append(std::string& out, const journal::StepFinished& r) {
    out += "step ";
    out += r.step;
    out += ": ";
    out += r.status;
    bool facts = false; // "(exit 1, 2.3s, attempt 2)": each fact after the first after ", "
    auto fact = [&] {
        out += facts ? ", " : " (";
        facts = true;
    };
    if (r.exit_code) {
        fact();
        out += "exit ";
        append_int(out, *r.exit_code);
    }
    if (r.duration_ms) {
        fact();
        out += ms_text(*r.duration_ms);
    }
    if (r.attempt && *r.attempt > 1) {
        fact();
        out += "attempt ";
        append_int(out, *r.attempt);
    }
    if (facts) {
        out += ')';
    }
    if (!r.summary.empty()) {
        out += ": ";
        out += r.summary;
    }
    if (r.recovered) {
        out += " (recorded by a resume: the program ended before the engine stopped)";
    }
    if (!r.left_running.empty()) {
        out += "; left running: ";
        out += processes_text(r.left_running);
    }
}

std::string describe(const journal::StepProcessExited& r) {
    return "step " + r.step + ": process group " + std::to_string(r.pgid) + " ended by itself (" +
           r.ending + (r.exit_code ? " " + std::to_string(*r.exit_code) : "") + ")" +
           (r.step_status ? ": the step " + *r.step_status : "");
}

std::string describe(const journal::StepSurvivors& r) {
    const std::string attempt = std::to_string(r.attempt);
    const std::string step = "step " + r.step + (r.host ? " on host " + *r.host : "");
    if (r.outcome == "left_alone") {
        return step + ": left running by attempt " + attempt + " (its program ended by itself, " +
               r.exit.value_or("") + "), left alone: " + processes_text(r.found);
    }
    if (r.outcome == "not_proven") {
        if (r.host) {
            return step + ": " + r.why.value_or("") + ": nothing looked at or signalled";
        }
        return step + ": the journal names process group " + std::to_string(r.pgid) +
               " for attempt " + attempt + ", but " + r.why.value_or("") + ": nothing signalled (" +
               processes_text(r.unproven.value_or(std::vector<journal::Process>{})) + ")";
    }
    std::string how =
        r.outcome == "exited"       ? "they ended by themselves"
        : r.outcome == "terminated" ? "ended them with SIGTERM"
        : r.outcome == "killed"
            ? "ended them with SIGKILL"
            : "still alive: " +
                  processes_text(r.remaining.value_or(std::vector<journal::Process>{}));
    std::string found = processes_text(r.found);
    if (r.unproven && !r.unproven->empty()) {
        // Waited for, never signalled: r.why says why.
        found += (found.empty() ? "" : "; ") + std::string("not signalled: ") +
                 processes_text(*r.unproven) + (r.why ? ", " + *r.why : "");
    }
    return step + ": processes of attempt " + attempt + " survived the engine (" + found +
           "); waited " + ms_text(r.waited_ms) + ", " + how;
}

std::string sessions_text(const std::vector<journal::DbSession>& sessions) {
    std::string out;
    for (const auto& x : sessions) {
        out += (out.empty() ? "" : ", ") + std::string("pid ") + std::to_string(x.pid) + " (" +
               x.user + " on " + x.database + (x.state.empty() ? "" : ", " + x.state) + ")";
    }
    return out;
}

std::string describe(const journal::StepSessions& r) {
    const std::string step = "step " + r.step + ": ";
    const std::string whose =
        "database sessions of attempt " + std::to_string(r.attempt) + " (and earlier)";
    if (r.outcome == "unchecked") {
        return step + "the " + whose + " could not be looked for on " + r.server + ": " +
               r.why.value_or("");
    }
    std::string s = step + whose + " open on " + r.server + ": " + sessions_text(r.found) +
                    "; waited " + ms_text(r.waited_ms) + ", ";
    if (r.outcome == "ended") {
        return s + "ended them (pg_terminate_backend: their open transactions rolled back)";
    }
    return s +
           "still open: " + sessions_text(r.remaining.value_or(std::vector<journal::DbSession>{})) +
           (r.why ? " (" + *r.why + ")" : "");
}

std::string describe(const journal::StepProbe& r) {
    if (r.by == "action") {
        return "step " + r.step + ": its action's probe says " + r.verdict + ": " + r.state;
    }
    return "step " + r.step + (r.host.empty() ? "" : " on host " + r.host) + ": probe says " +
           r.verdict + " (exit " + std::to_string(r.exit_code.value_or(-1)) + ")";
}

std::string describe(const journal::StepMarkedDone& r) {
    std::string s = "step " + r.step + ": marked done by " + r.by + " (" + r.why + ")";
    if (r.probe_state && !r.probe_state->empty()) {
        s += " although its probe said: " + *r.probe_state;
    }
    if (r.unverified) {
        s += " with --force: the check never passed, NOT verified";
    }
    return s;
}

std::string describe(const journal::Hook& r) {
    std::string s =
        "hook " + r.hook + " (" + r.event + (r.step.empty() ? "" : " " + r.step) + "): " + r.status;
    if (!r.reason.empty()) {
        s += ": " + r.reason;
    } else if (!r.summary.empty()) {
        s += " (" + r.summary + ")";
    }
    return s;
}

std::string describe(const journal::RunFinished& r) {
    std::string s = "run finished: " + r.state;
    if (!r.not_verified.empty()) {
        s += ", NOT verified (" + util::join(r.not_verified, ", ") + " forced past)";
    }
    if (r.exit_code) {
        s += " (exit " + std::to_string(*r.exit_code);
        if (r.duration_ms) {
            s += ", " + ms_text(*r.duration_ms);
        }
        s += ")";
    }
    return s;
}

} // namespace

std::string describe_record(const journal::Entry& e) {
    std::string out;
    append_record(out, e);
    return out;
}

namespace {

/// describe_record() of the records not appended in place (rarer than a step's start and end).
std::string describe_other(const journal::Entry& e) {
    using journal::RecordType;
    const auto& rec = e.record;
    switch (e.type()) {
    case RecordType::header:
        return describe(std::get<journal::Header>(rec));
    case RecordType::run_started:
        return describe(std::get<journal::RunStarted>(rec));
    case RecordType::step_skipped: {
        const auto& r = std::get<journal::StepSkipped>(rec);
        return "step " + r.step + ": skipped (" + r.why + ")";
    }
    case RecordType::step_started:
    case RecordType::step_finished:
        return describe_record(e);
    case RecordType::step_process: {
        const auto& r = std::get<journal::StepProcess>(rec);
        return "step " + r.step + ": process group " + std::to_string(r.pgid) +
               " started (attempt " + std::to_string(r.attempt) + "): " + r.command;
    }
    case RecordType::step_survivors:
        return describe(std::get<journal::StepSurvivors>(rec));
    case RecordType::step_sessions:
        return describe(std::get<journal::StepSessions>(rec));
    case RecordType::step_process_exited:
        return describe(std::get<journal::StepProcessExited>(rec));
    case RecordType::step_probe:
        return describe(std::get<journal::StepProbe>(rec));
    case RecordType::step_progress: {
        const auto& r = std::get<journal::StepProgress>(rec);
        return "step " + r.step + ": stage " + r.stage + " reached";
    }
    case RecordType::step_marked_done:
        return describe(std::get<journal::StepMarkedDone>(rec));
    case RecordType::step_retry_requested: {
        const auto& r = std::get<journal::StepRetryRequested>(rec);
        return "step " + r.step + ": retry requested by " + r.by + " (" + r.why + ")";
    }
    case RecordType::needs_attention: {
        const auto& r = std::get<journal::NeedsAttention>(rec);
        const std::string step = r.step.value_or("");
        return "needs attention" + (step.empty() ? std::string() : " at step " + step) + ": " +
               r.message;
    }
    case RecordType::run_interrupted: {
        const auto& r = std::get<journal::RunInterrupted>(rec);
        return r.during.empty() ? "run interrupted by " + r.signal : "run " + interrupted_text(r);
    }
    case RecordType::run_stopped:
        return "run stopped: " + std::get<journal::RunStopped>(rec).why;
    case RecordType::hook:
        return describe(std::get<journal::Hook>(rec));
    case RecordType::run_resumed: {
        const auto& r = std::get<journal::RunResumed>(rec);
        return "run resumed by " + r.by + " (pid " + std::to_string(r.pid) + " on " + r.host + ")";
    }
    case RecordType::run_finished:
        return describe(std::get<journal::RunFinished>(rec));
    case RecordType::note:
        return "note: " + std::get<journal::Note>(rec).text;
    case RecordType::run_handed_over: {
        const auto& r = std::get<journal::RunHandedOver>(rec);
        return "run handed over " + hand_over_text(r) +
               (r.resume.empty() ? "" : "; by hand: " + r.resume);
    }
    case RecordType::run_abandoned:
        return "run abandoned " + abandoned_text(std::get<journal::RunAbandoned>(rec));
    case RecordType::step_host_started:
    case RecordType::step_host_finished:
        return describe_host_record(e);
    case RecordType::unknown:
        break;
    }
    const std::string& type = std::get<journal::Unknown>(rec).type;
    return type.empty() ? "record without a type" : type + " (unknown record type)";
}

} // namespace

void append_record(std::string& out, const journal::Entry& e) {
    switch (e.type()) {
    case journal::RecordType::step_started:
        append(out, std::get<journal::StepStarted>(e.record));
        return;
    case journal::RecordType::step_finished:
        append(out, std::get<journal::StepFinished>(e.record));
        return;
    default:
        out += describe_other(e);
    }
}

} // namespace rollback::report
