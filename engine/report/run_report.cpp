// SPDX-License-Identifier: MIT
#include "report/run_report.hpp"

#include "journal/paths.hpp"
#include "report/hosts_view.hpp"
#include "report/steps_table.hpp"
#include "util/duration.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <boost/json/value.hpp>
#include <cstdio>

namespace rollback::report {
namespace {

namespace json = boost::json;
using journal::RunStatus;
using journal::StepStatus;

std::string ms_text(std::int64_t ms) {
    return util::format_duration(util::Millis(ms));
}

std::string pad(std::string s, size_t width) {
    if (s.size() < width) {
        s.append(width - s.size(), ' ');
    }
    return s;
}

json::object trigger_object(const journal::Trigger& t) {
    return {{"kind", t.kind},
            {"condition", t.condition},
            {"severity", t.severity},
            {"decision_id", t.decision_id}};
}

/// What the resume of a handed-over run does with the step the signal interrupted (as
/// orchestrator::decide_resume does with an interrupted step), e.g. ` (step slow runs again: it
/// is idempotent)`; "" when no step was interrupted.
std::string resume_of_handed_over(const journal::RunState& s) {
    const journal::StepState* st = s.step(s.handed_over->record.step);
    if (st == nullptr || st->status != StepStatus::interrupted) {
        return "";
    }
    const std::string step = "step " + st->id;
    return st->idempotent ? " (" + step + " runs again: it is idempotent)"
           : st->has_probe
               ? " (" + step + "'s probe tells whether it took effect)"
               : " (" + step + " waits for a person: it is not idempotent and has no probe)";
}

std::string next_steps(const journal::RunState& s, const RunContext& ctx) {
    if (ctx.live || s.run_id.empty()) {
        return "";
    }
    std::string out;
    if (ctx.stale_lock) {
        const auto& h = *ctx.stale_lock;
        // A process killed after its run_finished and before the release of its lock left a
        // finished run: nothing of it is left to do, and its lock blocks no one (break-it 46 F5).
        out += "  lock: run " + h.run_id + " (pid " + std::to_string(h.pid) + " on " + h.host +
               (s.finished.empty()
                    ? ") died without finishing; its lock was left in place\n"
                    : ") died after the run finished, before releasing its lock; the lock it "
                      "left blocks no next run\n");
    }
    // The step that failed (the last regular one): a run it stopped that ended has nothing left
    // for a bare resume, which only runs it again when asked (--retry); one that did not end
    // (killed in its finally steps) is finished by a bare resume, the step not run again.
    const journal::StepState* failed = nullptr;
    for (const auto& st : s.steps) {
        if (!st.is_finally && !st.in_flight &&
            (st.status == StepStatus::failed || st.status == StepStatus::timed_out ||
             st.status == StepStatus::verification_failed)) {
            failed = &st;
        }
    }
    const bool ended =
        (s.status == RunStatus::failed || s.status == RunStatus::verification_failed) &&
        s.finally_done();
    if (s.handed_over && s.status == RunStatus::interrupted) {
        out += "  next: the next leader resumes it" + resume_of_handed_over(s) +
               (s.handed_over->record.resume.empty()
                    ? ""
                    : "; with no leader left: " + s.handed_over->record.resume) +
               "\n";
    } else if (ended && failed != nullptr) {
        out += "  next: fix the cause, then: rollback resume " + s.run_id + ctx.state_args +
               " --retry " + failed->id + "   (or --mark-done " + failed->id +
               " if it was done by hand)\n";
    } else if (s.status == RunStatus::interrupted || s.status == RunStatus::needs_attention ||
               s.status == RunStatus::failed) {
        out += "  next: rollback resume " + s.run_id + ctx.state_args;
        if (failed != nullptr && !s.finally_done()) {
            out += "   (runs the finally steps that did not finish; step " + failed->id +
                   " failed: it runs again only with --retry " + failed->id +
                   " or when it has retries left)";
        } else if (failed != nullptr) {
            out += "   (if step " + failed->id + "'s failure stopped the run: fix the cause, " +
                   "then --retry " + failed->id + ", or --mark-done " + failed->id +
                   " if it was done by hand)";
        }
        out += "\n";
    }
    return out;
}

json::array not_verified_json(const journal::RunState& s) {
    json::array out;
    for (const auto& n : s.not_verified) {
        out.push_back({{"step", n.step}, {"by", n.by}, {"at", n.at}, {"why", n.why}});
    }
    return out;
}

json::object hand_over_json(const journal::HandOver& h) {
    const auto& r = h.record;
    json::object o{{"at", h.at}, {"signal", r.signal}, {"during", r.during}, {"step", r.step}};
    o["attempt"] = r.attempt ? json::value(*r.attempt) : json::value(nullptr);
    o["step_status"] = r.step_status;
    o["step_summary"] = r.step_summary;
    o["to"] = r.to;
    o["generation"] = r.generation;
    o["resume"] = r.resume;
    return o;
}

json::object step_json(const journal::StepState& st) {
    json::object o{{"id", st.id},
                   {"phase", st.phase},
                   {"action", st.action},
                   {"finally", st.is_finally},
                   {"idempotent", st.idempotent},
                   {"has_probe", st.has_probe},
                   {"state", journal::to_string(st.status)},
                   {"in_flight", st.in_flight},
                   {"attempts", st.attempts},
                   {"duration_ms", st.duration_ms},
                   {"summary", st.summary},
                   {"output_tail", st.output_tail},
                   {"why", st.why},
                   {"started", st.started},
                   {"finished", st.finished},
                   {"probe_verdict", st.probe_verdict},
                   {"stage", st.stage}};
    o["exit_code"] = st.exit_code ? json::value(*st.exit_code) : json::value(nullptr);
    json::array left;
    for (const auto& p : st.left_running) {
        json::object proc{{"pid", p.pid}, {"command", p.command}};
        if (p.left_group) {
            proc["left_group"] = true;
        }
        left.push_back(std::move(proc));
    }
    o["left_running"] = std::move(left);
    if (!st.hosts.empty()) {
        o["hosts"] = hosts_json(st); // only a step run on hosts: the other steps read as before
    }
    return o;
}

} // namespace

namespace {

/// What the lock says of `run_id`, asked after its journal was read.
RunContext context_of(const state::Store& store, const std::string& run_id,
                      const std::string& state_args) {
    RunContext ctx;
    ctx.state_args = state_args;
    ctx.live = store.is_run_live(run_id);
    if (!ctx.live) {
        if (auto stale = store.dead_holder(); stale && stale->run_id == run_id) {
            ctx.stale_lock = stale;
        }
    }
    return ctx;
}

} // namespace

RunView load_run(const state::Store& store, const std::string& run_id,
                 const std::string& state_args, bool keep_records) {
    RunView v;
    journal::Fold fold;
    const journal::RecordSink each = [&fold](journal::Entry&& e) { fold.apply(e); };
    v.journal = store.read_journal(run_id, keep_records ? nullptr : &each);
    v.ctx = context_of(store, run_id, state_args);
    if (keep_records) {
        for (const auto& e : v.journal.records) {
            fold.apply(e);
        }
    }
    v.state = fold.finish(v.journal, v.ctx.live);
    return v;
}

std::string not_verified_text(const journal::NotVerified& n) {
    return n.step + ": marked done by " + (n.by.empty() ? std::string("a person") : n.by) +
           (n.at.empty() ? "" : " at " + n.at) + " with --force" +
           (n.why.empty() ? "" : " (" + n.why + ")") + "; the check never passed";
}

std::string format_status(const journal::RunState& s, const RunContext& ctx) {
    std::string out = "run " + s.run_id + ": " + std::string(journal::to_string(s.status));
    if (!s.not_verified.empty() && s.status == RunStatus::succeeded) {
        out += ", NOT verified";
    }
    if (s.dry_run) {
        out += " (dry run)";
    }
    out += "\n";
    auto field = [&](const char* name, const std::string& value) {
        if (!value.empty()) {
            out += "  " + pad(name, 10) + value + "\n";
        }
    };
    std::string pb = s.playbook_name;
    if (!s.playbook.empty()) {
        pb += pb.empty() ? s.playbook : " (" + s.playbook + ")";
    }
    field("playbook", pb);
    field("reason", s.reason);
    field("trigger", trigger_text(s.trigger));
    std::string who = s.user;
    if (!s.host.empty()) {
        who += (who.empty() ? "" : "@") + s.host;
    }
    if (s.pid != 0) {
        who += " (pid " + std::to_string(s.pid) + ")";
    }
    field("by", who);
    field("started", s.started.empty() ? s.created : s.started);
    if (!s.finished.empty()) {
        std::string fin = s.finished + " after " + ms_text(s.duration_ms);
        if (s.exit_code) {
            fin += ", exit " + std::to_string(*s.exit_code);
        }
        field("finished", fin);
    }
    if (s.resumes > 0) {
        field("resumed", std::to_string(s.resumes) + (s.resumes == 1 ? " time" : " times"));
    }
    field("signal", s.signal);
    if (s.handed_over) {
        field("hand-over", hand_over_text(s.handed_over->record) + " (" + s.handed_over->at + ")");
    }
    if (s.abandoned) {
        field("abandoned", abandoned_text(s.abandoned->record) + " (" + s.abandoned->at + ")");
    }
    field("stopped", s.stopped);
    field("attention", s.attention);
    for (const auto& n : s.not_verified) {
        out += "  not verified: " + not_verified_text(n) + "\n";
    }

    append_steps_table(out, s, ctx.live);
    for (const auto& h : s.hook_problems) {
        out += "  hook: " + h + "\n";
    }
    for (const auto& w : s.warnings) {
        out += "  warning: " + w + "\n";
    }
    out += hosts_grid(s) + next_steps(s, ctx);
    return out;
}

json::object status_json(const journal::RunState& s, const RunContext& ctx) {
    json::array steps;
    for (const auto& st : s.steps) {
        steps.push_back(step_json(st));
    }
    json::array warnings;
    for (const auto& w : s.warnings) {
        warnings.push_back(json::value(w));
    }
    json::object o{{"run_id", s.run_id},
                   {"state", journal::to_string(s.status)},
                   {"live", ctx.live},
                   {"playbook", s.playbook},
                   {"playbook_name", s.playbook_name},
                   {"playbook_sha256", s.playbook_sha256},
                   {"reason", s.reason},
                   {"trigger", trigger_object(s.trigger)},
                   {"user", s.user},
                   {"host", s.host},
                   {"pid", s.pid},
                   {"dry_run", s.dry_run},
                   {"created", s.created},
                   {"started", s.started},
                   {"finished", s.finished},
                   {"duration_ms", s.duration_ms},
                   {"resumes", s.resumes},
                   {"signal", s.signal},
                   {"stopped", s.stopped},
                   {"attention", s.attention}};
    if (s.handed_over) { // only a run handed over: the others read as before
        o["handed_over"] = hand_over_json(*s.handed_over);
    }
    if (s.abandoned) {
        const auto& a = s.abandoned->record;
        o["abandoned"] = json::object{{"at", s.abandoned->at},
                                      {"new_run", a.new_run},
                                      {"by", a.by},
                                      {"host", a.host},
                                      {"pid", a.pid}};
    }
    json::array hooks;
    for (const auto& h : s.hook_problems) {
        hooks.push_back(json::value(h));
    }
    o["hook_problems"] = std::move(hooks);
    o["not_verified"] = not_verified_json(s);
    o["exit_code"] = s.exit_code ? json::value(*s.exit_code) : json::value(nullptr);
    json::array in_flight;
    for (const auto& id : s.in_flight_steps()) {
        in_flight.push_back(json::value(id));
    }
    o["in_flight"] = std::move(in_flight);
    o["steps"] = std::move(steps);
    o["warnings"] = std::move(warnings);
    o["journal_intact"] = s.journal_problem.empty();
    if (!s.journal_problem.empty()) {
        o["journal_problem"] = s.journal_problem;
    }
    if (ctx.stale_lock) {
        o["stale_lock"] = state::to_json(*ctx.stale_lock);
    }
    return o;
}

std::string history_header() {
    return pad("RUN", 25) + pad("STATE", 21) + pad("STARTED", 26) + pad("TIME", 9) +
           pad("PLAYBOOK", 18) + "REASON";
}

/// What a one-line view must not leave out: steps a person marked done (the run's state then
/// rests on their word) and a journal whose hash chain is broken.
std::vector<std::string> history_notes(const journal::RunState& s) {
    std::vector<std::string> notes;
    for (const auto& n : s.not_verified) {
        notes.push_back("NOT verified: " + n.step + " (marked done by " +
                        (n.by.empty() ? std::string("a person") : n.by) +
                        " with --force, never passed)");
    }
    for (const auto& st : s.steps) {
        const bool said =
            std::any_of(s.not_verified.begin(), s.not_verified.end(),
                        [&st](const journal::NotVerified& n) { return n.step == st.id; });
        if (!said && st.status == StepStatus::marked_done &&
            st.why.rfind("marked done by ", 0) == 0) {
            notes.push_back("step " + st.id + " " + st.why);
        }
    }
    if (s.handed_over) {
        notes.push_back("handed over to the next leader on " + s.handed_over->record.signal);
    }
    if (s.abandoned) {
        notes.push_back("abandoned for run " + s.abandoned->record.new_run);
    }
    if (!s.journal_problem.empty()) {
        notes.push_back("journal NOT intact: " + s.journal_problem);
    }
    return notes;
}

std::string format_history_line(const journal::RunState& s) {
    std::string time = s.finished.empty() ? "-" : ms_text(s.duration_ms);
    std::string name = s.playbook_name.empty() ? s.playbook : s.playbook_name;
    std::string line = pad(s.run_id, 25) + pad(std::string(journal::to_string(s.status)), 21) +
                       pad(s.started.empty() ? s.created : s.started, 26) + pad(time, 9) +
                       pad(name.empty() ? "-" : name, 18) + s.reason;
    for (const auto& n : history_notes(s)) {
        line += " [" + n + "]";
    }
    while (!line.empty() && line.back() == ' ') {
        line.pop_back();
    }
    return line;
}

std::string format_history_error(const std::string& run_id, const std::string& error) {
    return pad(run_id, 25) + pad("unreadable", 21) + error;
}

json::object history_json(const journal::RunState& s) {
    json::object o{{"run_id", s.run_id},
                   {"state", journal::to_string(s.status)},
                   {"started", s.started.empty() ? s.created : s.started},
                   {"finished", s.finished},
                   {"duration_ms", s.duration_ms},
                   {"playbook", s.playbook},
                   {"playbook_name", s.playbook_name},
                   {"reason", s.reason},
                   {"trigger", trigger_object(s.trigger)}, // one schema with status --json
                   {"user", s.user}};
    o["exit_code"] = s.exit_code ? json::value(*s.exit_code) : json::value(nullptr);
    json::array notes;
    for (const auto& n : history_notes(s)) {
        notes.push_back(json::value(n));
    }
    o["notes"] = std::move(notes);
    o["journal_intact"] = s.journal_problem.empty();
    return o;
}

namespace {

/// `s` then spaces up to `width` (pad() in place).
void append_padded(std::string& out, std::string_view s, size_t width) {
    out += s;
    if (s.size() < width) {
        out.append(width - s.size(), ' ');
    }
}

/// The timeline of `rollback report` written into `out` record by record
/// (`TIME  +ELAPSED  what happened`, output tails indented): the header first, then the records
/// in order. Times are offsets from the header's, each parsed once.
class Timeline {
  public:
    explicit Timeline(std::string& out) : m_out(out) {}

    void header(const journal::Entry& h) {
        m_origin = util::parse_time(h.time);
        line(h);
    }

    void line(const journal::Entry& e) {
        m_out += "  ";
        append_padded(m_out, e.time, 25);
        if (e.time != m_time) {
            // Records written within one millisecond (a step's end and the next one's start)
            // share their offset: parsed and written once.
            m_time = e.time;
            m_offset.clear();
            if (m_origin) {
                if (auto t = util::parse_time(e.time)) {
                    m_offset += '+';
                    m_offset += ms_text(
                        std::chrono::duration_cast<std::chrono::milliseconds>(*t - *m_origin)
                            .count());
                }
            }
            if (m_offset.size() < 9) {
                m_offset.append(9 - m_offset.size(), ' ');
            }
        }
        m_out += m_offset;
        append_record(m_out, e);
        m_out += '\n';
        // The output tail trimmed, a line of it per line (util::split's pieces, empty ones kept).
        std::string_view tail = util::trim(e.output_tail());
        while (!tail.empty()) {
            const size_t nl = tail.find('\n');
            m_out.append(36, ' ');
            m_out += "| ";
            m_out += tail.substr(0, nl);
            m_out += '\n';
            if (nl == std::string_view::npos) {
                break;
            }
            tail.remove_prefix(nl + 1); // not empty: a trimmed tail does not end with one
        }
    }

  private:
    std::string& m_out;
    std::optional<util::SystemTime> m_origin;
    std::string m_time;                         ///< the time of the record before
    std::string m_offset = std::string(9, ' '); ///< its offset, padded: "+1.3s    " ("" time: none)
};

std::string timeline_heading(const std::filesystem::path& file) {
    return "\ntimeline (" + file.string() + "):\n";
}

} // namespace

std::string format_report(const journal::Journal& j, const journal::RunState& s,
                          const RunContext& ctx) {
    std::string out = format_status(s, ctx) + timeline_heading(j.file);
    Timeline timeline(out);
    timeline.header(j.header);
    for (const auto& e : j.records) {
        timeline.line(e);
    }
    return out;
}

std::string report_text(const state::Store& store, const std::string& run_id,
                        const std::string& state_args) {
    journal::Fold fold;
    std::string lines;
    Timeline timeline(lines);
    const journal::RecordSink each(
        [&](journal::Entry&& e) {
            fold.apply(e);
            timeline.line(e);
        },
        [&](const journal::Entry& h) { timeline.header(h); });
    const journal::Journal j = store.read_journal(run_id, &each);
    const RunContext ctx = context_of(store, run_id, state_args);
    const journal::RunState s = fold.finish(j, ctx.live);
    std::string out = format_status(s, ctx) + timeline_heading(j.file);
    out += lines;
    return out;
}

json::object report_json(const journal::Journal& j, const journal::RunState& s,
                         const RunContext& ctx) {
    // The timeline is the records exactly as written: each line parsed again, only here.
    json::array timeline;
    timeline.reserve(j.records.size() + 1);
    for (size_t i = 0; i <= j.records.size(); ++i) {
        timeline.push_back(j.object(i));
    }
    json::array warnings;
    for (const auto& w : s.warnings) {
        warnings.push_back(json::value(w));
    }
    return {{"run", status_json(s, ctx)},
            {"journal", j.file.string()},
            {"timeline", std::move(timeline)},
            {"warnings", std::move(warnings)}};
}

} // namespace rollback::report
