// SPDX-License-Identifier: MIT
#include "journal/state.hpp"

#include <algorithm>
#include <array>
#include <unordered_map>

namespace rollback::journal {
namespace {

constexpr std::array<std::string_view, 6> k_run_names = {
    "running", "succeeded", "failed", "verification_failed", "interrupted", "needs_attention"};
constexpr std::array<std::string_view, 9> k_step_names = {
    "pending",     "running",     "succeeded",          "failed", "skipped", "timed_out",
    "interrupted", "marked_done", "verification_failed"};

class Folder {
  public:
    explicit Folder(RunState& s) : m_s(s) {}

    StepState* step(const Entry& e, std::string_view id) {
        if (id.empty()) {
            warn(e, "has no \"step\"");
            return nullptr;
        }
        // Records mostly name the step of the record before or the next in the plan: those two
        // are tried before the index (step ids are unique in `steps`).
        for (std::size_t k = m_last; k < m_s.steps.size() && k <= m_last + 1; ++k) {
            if (m_s.steps[k].id == id) {
                m_last = k;
                return &m_s.steps[k];
            }
        }
        if (auto it = m_s.step_index.find(id); it != m_s.step_index.end()) {
            m_last = it->second;
            return &m_s.steps[it->second];
        }
        // A record for a step the plan did not list (e.g. a journal without run_started):
        // keep it visible rather than dropping it.
        StepState st;
        st.id = std::string(id);
        add(std::move(st));
        return &m_s.steps.back();
    }

    // By id in O(1): a fold over a long run stays linear in its records.
    void add(StepState st) {
        m_s.step_index.emplace(st.id, m_s.steps.size());
        m_s.steps.push_back(std::move(st));
    }

    void forget_not_verified(const std::string& id) {
        std::erase_if(m_s.not_verified, [&id](const NotVerified& n) { return n.step == id; });
    }

    void warn(const Entry& e, const std::string& what) {
        const auto* unknown = std::get_if<Unknown>(&e.record);
        const std::string type(unknown != nullptr ? std::string_view(unknown->type)
                                                  : to_string(e.type()));
        m_s.warnings.push_back("record " + (e.seq >= 0 ? std::to_string(e.seq) : std::string("?")) +
                               " (" + type + ") " + what);
    }

    void apply(const Entry& e) {
        switch (e.type()) {
        case RecordType::run_started:
            run_started(std::get<RunStarted>(e.record), e.time);
            break;
        case RecordType::step_skipped: {
            const auto& r = std::get<StepSkipped>(e.record);
            if (auto* st = step(e, r.step)) {
                st->status = StepStatus::skipped;
                st->in_flight = false;
                st->why = r.why;
            }
            break;
        }
        case RecordType::step_started: {
            const auto& r = std::get<StepStarted>(e.record);
            if (auto* st = step(e, r.step)) {
                st->status = StepStatus::running;
                st->in_flight = true;
                forget_not_verified(st->id); // checked again: its own outcome counts
                st->attempts = std::max(st->attempts, r.attempt.value_or(st->attempts + 1));
                st->started = e.time;
                st->finished.clear();
                st->groups.clear();
                st->left_running.clear();
                st->stage.clear();
                st->finished_by_exit = false;
            }
            break;
        }
        case RecordType::step_process:
            step_process(e, std::get<StepProcess>(e.record));
            break;
        case RecordType::step_process_exited:
            step_process_exited(e, std::get<StepProcessExited>(e.record));
            break;
        case RecordType::step_survivors: {
            const auto& r = std::get<StepSurvivors>(e.record);
            if (auto* st = step(e, r.step); st != nullptr && r.outcome != "remain") {
                const int pgid = r.pgid;
                std::erase_if(st->groups, [pgid](const ProcessGroup& g) { return g.pgid == pgid; });
            }
            break;
        }
        case RecordType::step_finished:
            step_finished(e, std::get<StepFinished>(e.record));
            break;
        case RecordType::step_progress: {
            const auto& r = std::get<StepProgress>(e.record);
            if (auto* st = step(e, r.step)) {
                st->stage = r.stage;
            }
            break;
        }
        case RecordType::step_probe: {
            const auto& r = std::get<StepProbe>(e.record);
            if (auto* st = step(e, r.step)) {
                st->probe_verdict = r.verdict;
            }
            break;
        }
        case RecordType::step_marked_done: {
            const auto& r = std::get<StepMarkedDone>(e.record);
            if (auto* st = step(e, r.step)) {
                st->status = StepStatus::marked_done;
                st->in_flight = false;
                st->finished_by_exit = false;
                // Said whole wherever the step is shown (status, history, report): a person's
                // word, not the step's, and what its probe said when it disagreed.
                const std::string& by = r.by;
                const std::string& why = r.why;
                const std::string probe = r.probe_state.value_or("");
                st->why =
                    (by == "probe"
                         ? std::string("done by its probe")
                         : "marked done by " + (by.empty() ? std::string("a person") : by)) +
                    (why.empty() ? "" : " (" + why + ")") +
                    (probe.empty() ? "" : " although its probe said: " + probe) +
                    (r.unverified ? " with --force: the check never passed, NOT verified" : "");
                st->finished = e.time;
                forget_not_verified(st->id);
                if (r.unverified) {
                    m_s.not_verified.push_back({st->id, by, e.time, why});
                }
            }
            break;
        }
        case RecordType::step_retry_requested: {
            const auto& r = std::get<StepRetryRequested>(e.record);
            if (auto* st = step(e, r.step)) {
                st->status = StepStatus::pending;
                st->in_flight = false;
                forget_not_verified(st->id);
                st->finished_by_exit = false;
                st->why = r.why;
            }
            break;
        }
        case RecordType::needs_attention: {
            const auto& r = std::get<NeedsAttention>(e.record);
            m_s.attention = r.message;
            if (r.step && !r.step->empty()) {
                if (auto* st = step(e, *r.step)) {
                    st->why = m_s.attention;
                }
            }
            break;
        }
        case RecordType::run_interrupted:
            m_s.signal = std::get<RunInterrupted>(e.record).signal;
            break;
        case RecordType::run_handed_over: {
            const auto& r = std::get<RunHandedOver>(e.record);
            m_s.signal = r.signal;
            m_s.handed_over = HandOver{r, e.time};
            break;
        }
        case RecordType::run_abandoned:
            m_s.abandoned = Abandonment{std::get<RunAbandoned>(e.record), e.time};
            break;
        case RecordType::run_resumed: {
            const auto& r = std::get<RunResumed>(e.record);
            ++m_s.resumes;
            m_finished = false;
            m_s.finished.clear();
            m_s.exit_code.reset();
            m_s.signal.clear();
            m_s.attention.clear();
            m_s.handed_over.reset();
            m_s.abandoned.reset();
            if (r.pid != 0) {
                m_s.pid = r.pid;
            }
            if (!r.host.empty()) {
                m_s.host = r.host;
            }
            break;
        }
        case RecordType::run_finished: {
            const auto& r = std::get<RunFinished>(e.record);
            auto status = parse_run_status(r.state);
            if (!status || *status == RunStatus::running) {
                warn(e, "has an unknown state \"" + r.state + "\"");
                return;
            }
            m_finished = true;
            m_s.status = *status;
            m_s.finished = e.time;
            if (r.exit_code) {
                m_s.exit_code = *r.exit_code;
            }
            m_s.duration_ms = r.duration_ms.value_or(0);
            break;
        }
        case RecordType::run_stopped:
            m_s.stopped = std::get<RunStopped>(e.record).why;
            break;
        case RecordType::hook:
            hook(std::get<Hook>(e.record));
            break;
        case RecordType::note:
            break; // an older engine's free text, for the timeline; no state
        case RecordType::step_sessions:
            break; // what a resume ended: the report shows it; the next resume looks again
        case RecordType::step_host_started: {
            const auto& r = std::get<StepHostStarted>(e.record);
            if (auto* st = step(e, r.step)) {
                st->hosts[r.host] = "running";
            }
            break;
        }
        case RecordType::step_host_finished: {
            const auto& r = std::get<StepHostFinished>(e.record);
            if (auto* st = step(e, r.step)) {
                st->hosts[r.host] = r.status;
            }
            break;
        }
        case RecordType::header:
        case RecordType::unknown:
            // Unknown types within version 1 are tolerated (newer writers may add kinds of
            // records); the report still shows them.
            warn(e, "is of an unknown type; ignored");
            break;
        }
    }

    bool finished() const { return m_finished; }

  private:
    void run_started(const RunStarted& r, const std::string& time) {
        m_s.started = time;
        m_s.playbook = r.playbook;
        m_s.playbook_name = r.playbook_name;
        m_s.playbook_sha256 = r.playbook_sha256;
        m_s.inventory_sha256 = r.inventory_sha256;
        m_s.reason = r.trigger.reason;
        if (r.has_trigger) {
            m_s.trigger = r.trigger;
        }
        m_s.user = r.user;
        m_s.host = r.host;
        m_s.pid = r.pid;
        m_s.dry_run = r.dry_run;
        m_s.steps.reserve(m_s.steps.size() + r.steps.size());
        m_s.step_index.reserve(m_s.steps.size() + r.steps.size());
        for (const auto& p : r.steps) {
            if (p.id.empty() || !m_s.step_index.try_emplace(p.id, m_s.steps.size()).second) {
                continue;
            }
            // Made in place: a long plan's StepStates (456 bytes) are not moved twice each.
            StepState& st = m_s.steps.emplace_back();
            st.id = p.id;
            st.phase = p.phase;
            st.action = p.action;
            st.idempotent = p.idempotent;
            st.has_probe = p.has_probe;
            st.is_finally = p.is_finally;
        }
    }

    void hook(const Hook& r) {
        if (r.status == "succeeded") {
            return;
        }
        std::string where = r.event;
        if (!r.step.empty()) {
            where += " " + r.step;
        }
        const std::string& why = r.reason.empty() ? r.summary : r.reason;
        m_s.hook_problems.push_back(r.hook + " (" + where + "): " + r.status +
                                    (why.empty() ? "" : ": " + why));
    }

    void step_finished(const Entry& e, const StepFinished& r) {
        auto* st = step(e, r.step);
        if (st == nullptr) {
            return;
        }
        auto parsed = parse_step_status(r.status);
        if (!parsed || *parsed == StepStatus::pending || *parsed == StepStatus::running) {
            warn(e, "has an unknown status \"" + r.status + "\"");
            parsed = StepStatus::failed;
        }
        st->status = *parsed;
        st->in_flight = false;
        if (r.attempt) {
            st->attempts = std::max(st->attempts, *r.attempt);
        }
        st->exit_code = r.exit_code;
        st->duration_ms = r.duration_ms.value_or(0);
        st->summary = r.summary;
        st->output_tail = r.output_tail;
        st->finished = e.time;
        st->groups.clear();
        st->left_running = r.left_running;
        st->finished_by_exit = false;
    }

    void step_process(const Entry& e, const StepProcess& r) {
        auto* st = step(e, r.step);
        if (st == nullptr) {
            return;
        }
        if (r.pgid <= 0 || r.boot_id.empty()) {
            warn(e, "has no valid \"pgid\" and \"boot_id\"");
            return;
        }
        st->groups.push_back({r.attempt, r.pgid, r.leader_start, r.boot_id, r.token.value_or(""),
                              r.command, e.time, false, ""});
    }

    /// A program of the attempt ended by itself: its group is left alone from now on; when the
    /// record carries `step_status` (the action's result is that ending), the step is finished.
    void step_process_exited(const Entry& e, const StepProcessExited& r) {
        auto* st = step(e, r.step);
        if (st == nullptr) {
            return;
        }
        const int pgid = r.pgid;
        auto g = std::find_if(st->groups.begin(), st->groups.end(),
                              [pgid](const ProcessGroup& x) { return x.pgid == pgid; });
        if (!st->in_flight || r.attempt != st->attempts || g == st->groups.end()) {
            warn(e, "names no process group of the step's attempt in flight; ignored");
            return;
        }
        g->exited = true;
        g->exit = r.ending == "exited"     ? "exit " + std::to_string(r.exit_code.value_or(-1))
                  : r.ending == "signaled" ? "signal " + std::to_string(r.signal.value_or(0))
                                           : r.ending;
        if (!r.step_status) {
            return;
        }
        auto parsed = parse_step_status(*r.step_status);
        if (!parsed || *parsed == StepStatus::pending || *parsed == StepStatus::running) {
            warn(e, "has an unknown step_status \"" + *r.step_status + "\"");
            return;
        }
        st->status = *parsed;
        st->in_flight = false;
        st->finished_by_exit = true;
        st->exit_code = r.exit_code;
        st->summary = r.summary.value_or("");
        st->output_tail.clear();
        st->finished = e.time;
    }

    RunState& m_s;
    std::size_t m_last = 0; ///< the step the last record named
    bool m_finished = false;
};

} // namespace

std::string_view to_string(RunStatus s) {
    return k_run_names.at(static_cast<size_t>(s));
}
std::string_view to_string(StepStatus s) {
    return k_step_names.at(static_cast<size_t>(s));
}

std::optional<RunStatus> parse_run_status(std::string_view name) {
    for (size_t i = 0; i < k_run_names.size(); ++i) {
        if (k_run_names[i] == name) {
            return static_cast<RunStatus>(i);
        }
    }
    return std::nullopt;
}

std::optional<StepStatus> parse_step_status(std::string_view name) {
    for (size_t i = 0; i < k_step_names.size(); ++i) {
        if (k_step_names[i] == name) {
            return static_cast<StepStatus>(i);
        }
    }
    return std::nullopt;
}

const std::vector<std::string_view>& record_types() {
    static const std::vector<std::string_view> types = [] {
        std::vector<std::string_view> out;
        for (auto t = RecordType::header; t != RecordType::unknown;
             t = static_cast<RecordType>(static_cast<int>(t) + 1)) {
            out.push_back(to_string(t));
        }
        return out;
    }();
    return types;
}

const StepState* RunState::step(std::string_view id) const {
    if (auto it = step_index.find(id);
        it != step_index.end() && it->second < steps.size() && steps[it->second].id == id) {
        return &steps[it->second];
    }
    for (const auto& st : steps) {
        if (st.id == id) {
            return &st;
        }
    }
    return nullptr;
}

std::vector<std::string> RunState::in_flight_steps() const {
    std::vector<std::string> ids;
    for (const auto& st : steps) {
        if (st.in_flight) {
            ids.push_back(st.id);
        }
    }
    return ids;
}

bool RunState::finally_done() const {
    for (const auto& st : steps) {
        if (st.is_finally && (st.status == StepStatus::pending || st.in_flight)) {
            return false;
        }
    }
    return true;
}

struct Fold::Impl {
    RunState s;
    Folder folder{s};
};

Fold::Fold() : m_impl(std::make_unique<Impl>()) {}

Fold::~Fold() = default;

void Fold::apply(const Entry& e) {
    m_impl->folder.apply(e);
}

RunState Fold::finish(const Journal& journal, bool live_holder) {
    const bool finished = m_impl->folder.finished();
    RunState s = std::move(m_impl->s);
    m_impl.reset();
    s.run_id = journal.run_id();
    if (const auto* h = std::get_if<Header>(&journal.header.record)) {
        s.created = h->created;
    }
    s.journal_problem = journal.chain_problem;
    // The journal's own warnings (a torn last record) come before the records'.
    s.warnings.insert(s.warnings.begin(), journal.warnings.begin(), journal.warnings.end());
    if (!finished) {
        s.status = live_holder ? RunStatus::running : RunStatus::interrupted;
    }
    // A step still running in a run that is not live is interrupted (in_flight stays true: resume
    // resolves it) — also when a run_finished followed its step_started: a resume interrupted
    // before it started the step again ends the run without finishing the step (break-it 30/08).
    if (finished || !live_holder) {
        for (auto& st : s.steps) {
            if (st.status == StepStatus::running) {
                st.status = StepStatus::interrupted;
            }
        }
    }
    return s;
}

RunState fold(const Journal& journal, bool live_holder) {
    Fold f;
    for (const auto& r : journal.records) {
        f.apply(r);
    }
    return f.finish(journal, live_holder);
}

} // namespace rollback::journal
