// SPDX-License-Identifier: MIT
#include "journal/state.hpp"

#include <array>
#include <boost/json/value.hpp>
#include <unordered_map>

namespace rollback::journal {
namespace {

constexpr std::array<std::string_view, 6> k_run_names = {
    "running", "succeeded", "failed", "verification_failed", "interrupted", "needs_attention"};
constexpr std::array<std::string_view, 9> k_step_names = {
    "pending",     "running",     "succeeded",          "failed", "skipped", "timed_out",
    "interrupted", "marked_done", "verification_failed"};

std::string str(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::optional<std::int64_t> num(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_number()) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    auto n = v->to_number<std::int64_t>(ec);
    return ec ? std::nullopt : std::optional<std::int64_t>(n);
}

bool flag(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_bool() && v->as_bool();
}

const boost::json::object* obj(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}

class Folder {
  public:
    explicit Folder(RunState& s) : m_s(s) {}

    StepState* step(const boost::json::object& r) {
        std::string id = str(r, "step");
        if (id.empty()) {
            warn(r, "has no \"step\"");
            return nullptr;
        }
        if (auto it = m_s.step_index.find(id); it != m_s.step_index.end()) {
            return &m_s.steps[it->second];
        }
        // A record for a step the plan did not list (e.g. a journal without run_started):
        // keep it visible rather than dropping it.
        StepState st;
        st.id = id;
        add(std::move(st));
        return &m_s.steps.back();
    }

    // By id in O(1): a fold over a long run stays linear in its records.
    void add(StepState st) {
        m_s.step_index.emplace(st.id, m_s.steps.size());
        m_s.steps.push_back(std::move(st));
    }

    void warn(const boost::json::object& r, const std::string& what) {
        auto seq = num(r, "seq");
        m_s.warnings.push_back("record " + (seq ? std::to_string(*seq) : std::string("?")) + " (" +
                               str(r, "type") + ") " + what);
    }

    void apply(const boost::json::object& r) {
        std::string type = str(r, "type");
        std::string time = str(r, "time");
        if (type == "run_started") {
            run_started(r, time);
        } else if (type == "step_skipped") {
            if (auto* st = step(r)) {
                st->status = StepStatus::skipped;
                st->in_flight = false;
                st->why = str(r, "why");
            }
        } else if (type == "step_started") {
            if (auto* st = step(r)) {
                st->status = StepStatus::running;
                st->in_flight = true;
                st->attempts = std::max<int>(
                    st->attempts, static_cast<int>(num(r, "attempt").value_or(st->attempts + 1)));
                st->started = time;
                st->finished.clear();
                st->groups.clear();
                st->left_running.clear();
                st->stage.clear();
            }
        } else if (type == "step_process") {
            step_process(r);
        } else if (type == "step_survivors") {
            if (auto* st = step(r); st != nullptr && str(r, "outcome") != "remain") {
                auto pgid = num(r, "pgid").value_or(0);
                std::erase_if(st->groups, [&](const ProcessGroup& g) { return g.pgid == pgid; });
            }
        } else if (type == "step_finished") {
            step_finished(r, time);
        } else if (type == "step_progress") {
            if (auto* st = step(r)) {
                st->stage = str(r, "stage");
            }
        } else if (type == "step_probe") {
            if (auto* st = step(r)) {
                st->probe_verdict = str(r, "verdict");
            }
        } else if (type == "step_marked_done") {
            if (auto* st = step(r)) {
                st->status = StepStatus::marked_done;
                st->in_flight = false;
                // Said whole wherever the step is shown (status, history, report): a person's
                // word, not the step's, and what its probe said when it disagreed.
                const std::string by = str(r, "by");
                const std::string why = str(r, "why");
                const std::string probe = str(r, "probe_state");
                st->why = (by == "probe"
                               ? std::string("done by its probe")
                               : "marked done by " + (by.empty() ? std::string("a person") : by)) +
                          (why.empty() ? "" : " (" + why + ")") +
                          (probe.empty() ? "" : " although its probe said: " + probe);
                st->finished = time;
            }
        } else if (type == "step_retry_requested") {
            if (auto* st = step(r)) {
                st->status = StepStatus::pending;
                st->in_flight = false;
                st->why = str(r, "why");
            }
        } else if (type == "needs_attention") {
            m_s.attention = str(r, "message");
            if (!str(r, "step").empty()) {
                if (auto* st = step(r)) {
                    st->why = m_s.attention;
                }
            }
        } else if (type == "run_interrupted") {
            m_s.signal = str(r, "signal");
        } else if (type == "run_resumed") {
            ++m_s.resumes;
            m_finished = false;
            m_s.finished.clear();
            m_s.exit_code.reset();
            m_s.signal.clear();
            m_s.attention.clear();
            if (auto p = num(r, "pid")) {
                m_s.pid = static_cast<int>(*p);
            }
            if (std::string host = str(r, "host"); !host.empty()) {
                m_s.host = host;
            }
        } else if (type == "run_finished") {
            auto status = parse_run_status(str(r, "state"));
            if (!status || *status == RunStatus::running) {
                warn(r, "has an unknown state \"" + str(r, "state") + "\"");
                return;
            }
            m_finished = true;
            m_s.status = *status;
            m_s.finished = time;
            if (auto c = num(r, "exit_code")) {
                m_s.exit_code = static_cast<int>(*c);
            }
            m_s.duration_ms = num(r, "duration_ms").value_or(0);
        } else if (type == "run_stopped") {
            m_s.stopped = str(r, "why");
        } else if (type == "hook") {
            hook(r);
        } else if (type == "note") {
            // Free-form text for the timeline; no state.
        } else {
            // Unknown types within version 1 are tolerated (newer writers may add kinds of
            // records); the report still shows them.
            warn(r, "is of an unknown type; ignored");
        }
    }

    bool finished() const { return m_finished; }

  private:
    void run_started(const boost::json::object& r, const std::string& time) {
        m_s.started = time;
        m_s.playbook = str(r, "playbook");
        m_s.playbook_name = str(r, "playbook_name");
        m_s.playbook_sha256 = str(r, "playbook_sha256");
        m_s.reason = str(r, "reason");
        if (const auto* t = obj(r, "trigger")) {
            m_s.trigger = {str(*t, "kind"), str(*t, "condition"), str(*t, "severity"),
                           str(*t, "decision_id")};
        }
        m_s.user = str(r, "user");
        m_s.host = str(r, "host");
        m_s.pid = static_cast<int>(num(r, "pid").value_or(0));
        m_s.dry_run = flag(r, "dry_run");
        if (const auto* v = r.if_contains("steps"); v != nullptr && v->is_array()) {
            m_s.steps.reserve(m_s.steps.size() + v->as_array().size());
            m_s.step_index.reserve(m_s.steps.size() + v->as_array().size());
            for (const auto& e : v->as_array()) {
                if (!e.is_object()) {
                    continue;
                }
                const auto& o = e.as_object();
                StepState st;
                st.id = str(o, "id");
                st.phase = str(o, "phase");
                st.action = str(o, "action");
                st.idempotent = flag(o, "idempotent");
                st.has_probe = flag(o, "has_probe");
                st.is_finally = flag(o, "finally");
                if (!st.id.empty() && !m_s.step_index.count(st.id)) {
                    add(std::move(st));
                }
            }
        }
    }

    void hook(const boost::json::object& r) {
        const std::string status = str(r, "status");
        if (status == "succeeded") {
            return;
        }
        std::string where = str(r, "event");
        if (!str(r, "step").empty()) {
            where += " " + str(r, "step");
        }
        std::string why = str(r, "reason");
        if (why.empty()) {
            why = str(r, "summary");
        }
        m_s.hook_problems.push_back(str(r, "hook") + " (" + where + "): " + status +
                                    (why.empty() ? "" : ": " + why));
    }

    void step_finished(const boost::json::object& r, const std::string& time) {
        auto* st = step(r);
        if (st == nullptr) {
            return;
        }
        std::string status = str(r, "status");
        auto parsed = parse_step_status(status);
        if (!parsed || *parsed == StepStatus::pending || *parsed == StepStatus::running) {
            warn(r, "has an unknown status \"" + status + "\"");
            parsed = StepStatus::failed;
        }
        st->status = *parsed;
        st->in_flight = false;
        if (auto a = num(r, "attempt")) {
            st->attempts = std::max(st->attempts, static_cast<int>(*a));
        }
        if (auto c = num(r, "exit_code")) {
            st->exit_code = static_cast<int>(*c);
        } else {
            st->exit_code.reset();
        }
        st->duration_ms = num(r, "duration_ms").value_or(0);
        st->summary = str(r, "summary");
        st->output_tail = str(r, "output_tail");
        st->finished = time;
        st->groups.clear();
        st->left_running.clear();
        if (const auto* v = r.if_contains("left_running"); v != nullptr && v->is_array()) {
            for (const auto& e : v->as_array()) {
                if (e.is_object()) {
                    const auto* out = e.as_object().if_contains("left_group");
                    st->left_running.push_back(
                        {static_cast<int>(num(e.as_object(), "pid").value_or(0)),
                         str(e.as_object(), "command"),
                         out != nullptr && out->is_bool() && out->as_bool()});
                }
            }
        }
    }

    void step_process(const boost::json::object& r) {
        auto* st = step(r);
        if (st == nullptr) {
            return;
        }
        ProcessGroup g;
        g.attempt = static_cast<int>(num(r, "attempt").value_or(st->attempts));
        g.pgid = static_cast<int>(num(r, "pgid").value_or(0));
        g.leader_start = static_cast<std::uint64_t>(num(r, "leader_start").value_or(0));
        g.boot_id = str(r, "boot_id");
        g.token = str(r, "token");
        g.command = str(r, "command");
        if (g.pgid <= 0 || g.boot_id.empty()) {
            warn(r, "has no valid \"pgid\" and \"boot_id\"");
            return;
        }
        st->groups.push_back(std::move(g));
    }

    RunState& m_s;
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
    static const std::vector<std::string_view> types = {
        "header",          "run_started",  "run_resumed",      "step_skipped",
        "step_started",    "step_process", "step_progress",    "step_survivors",
        "step_finished",   "step_probe",   "step_marked_done", "step_retry_requested",
        "needs_attention", "hook",         "run_interrupted",  "run_stopped",
        "run_finished",    "note"};
    return types;
}

const StepState* RunState::step(std::string_view id) const {
    if (auto it = step_index.find(std::string(id));
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

RunState fold(const Journal& journal, bool live_holder) {
    RunState s;
    s.run_id = journal.run_id();
    if (const auto* c = journal.header.if_contains("created"); c != nullptr && c->is_string()) {
        s.created = std::string(c->as_string());
    }
    s.warnings = journal.warnings;
    s.journal_problem = journal.chain_problem;
    Folder folder(s);
    for (const auto& r : journal.records) {
        folder.apply(r);
    }
    if (!folder.finished()) {
        s.status = live_holder ? RunStatus::running : RunStatus::interrupted;
        if (!live_holder) {
            for (auto& st : s.steps) {
                if (st.status == StepStatus::running) {
                    st.status = StepStatus::interrupted;
                }
            }
        }
    }
    return s;
}

} // namespace rollback::journal
