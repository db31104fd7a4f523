// SPDX-License-Identifier: MIT
#include "journal/records.hpp"

#include <array>
#include <boost/json/value.hpp>

namespace rollback::journal {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 24> k_type_names = {"header",
                                                           "run_started",
                                                           "run_resumed",
                                                           "step_skipped",
                                                           "step_started",
                                                           "step_process",
                                                           "step_progress",
                                                           "step_survivors",
                                                           "step_finished",
                                                           "step_probe",
                                                           "step_marked_done",
                                                           "step_retry_requested",
                                                           "needs_attention",
                                                           "hook",
                                                           "run_interrupted",
                                                           "run_stopped",
                                                           "run_finished",
                                                           "note",
                                                           "step_process_exited",
                                                           "step_host_started",
                                                           "step_host_finished",
                                                           "run_handed_over",
                                                           "run_abandoned",
                                                           "step_sessions"};
static_assert(k_type_names.size() == static_cast<size_t>(RecordType::unknown));
static_assert(std::variant_size_v<Record> == static_cast<size_t>(RecordType::unknown) + 1);

json::array processes_json(const std::vector<Process>& procs) {
    json::array a;
    for (const auto& p : procs) {
        json::object o{{"pid", p.pid}, {"command", p.command}};
        if (p.left_group) {
            o["left_group"] = true;
        }
        a.push_back(std::move(o));
    }
    return a;
}

json::array sessions_json(const std::vector<DbSession>& sessions) {
    json::array a;
    for (const auto& x : sessions) {
        a.push_back(json::object{{"pid", x.pid},
                                 {"name", x.name},
                                 {"database", x.database},
                                 {"user", x.user},
                                 {"state", x.state}});
    }
    return a;
}

json::array strings_json(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) {
        a.emplace_back(s);
    }
    return a;
}

json::object trigger_json(const Trigger& t) {
    return {{"kind", t.kind},
            {"condition", t.condition},
            {"severity", t.severity},
            {"decision_id", t.decision_id}};
}

// One writer per record type, the keys in the order journals have always had them.
struct ToJson {
    json::object operator()(const Header& r) const {
        return {{"type", "header"},
                {"format", r.format},
                {"version", r.version},
                {"run_id", r.run_id},
                {"created", r.created}};
    }
    json::object operator()(const RunStarted& r) const {
        json::array steps;
        steps.reserve(r.steps.size());
        for (const auto& s : r.steps) {
            steps.push_back(json::object{{"id", s.id},
                                         {"phase", s.phase},
                                         {"action", s.action},
                                         {"idempotent", s.idempotent},
                                         {"has_probe", s.has_probe},
                                         {"finally", s.is_finally}});
        }
        json::object o{{"type", "run_started"},
                       {"run_id", r.run_id},
                       {"playbook", r.playbook},
                       {"playbook_sha256", r.playbook_sha256},
                       {"playbook_name", r.playbook_name},
                       {"reason", r.trigger.reason}};
        if (!r.inventory_sha256.empty()) {
            o["inventory_sha256"] = r.inventory_sha256;
        }
        if (r.has_trigger) {
            o["trigger"] = trigger_json(r.trigger);
        }
        o["user"] = r.user;
        o["host"] = r.host;
        o["pid"] = r.pid;
        o["dry_run"] = r.dry_run;
        o["steps"] = std::move(steps);
        o["selection"] = json::object{{"only", strings_json(r.selection.only)},
                                      {"skip", strings_json(r.selection.skip)},
                                      {"from", r.selection.from}};
        if (r.has_vars) {
            json::array vars;
            for (const auto& v : r.vars) {
                json::object one{{"name", v.name}, {"origin", v.origin}};
                if (v.secret) {
                    one["secret"] = true;
                    one["fingerprint"] = v.fingerprint;
                } else {
                    one["value"] = v.value;
                }
                vars.push_back(std::move(one));
            }
            o["vars"] = std::move(vars);
        }
        return o;
    }
    json::object operator()(const RunResumed& r) const {
        json::object o{{"type", "run_resumed"},
                       {"by", r.by},
                       {"why", r.why},
                       {"pid", r.pid},
                       {"host", r.host}};
        if (!r.vars_changed.empty()) {
            o["vars_changed"] = strings_json(r.vars_changed);
        }
        return o;
    }
    json::object operator()(const StepSkipped& r) const {
        return {{"type", "step_skipped"}, {"step", r.step}, {"why", r.why}};
    }
    json::object operator()(const StepStarted& r) const {
        json::object o{{"type", "step_started"}, {"step", r.step}};
        if (r.attempt) {
            o["attempt"] = *r.attempt;
        }
        return o;
    }
    json::object operator()(const StepProcess& r) const {
        json::object o{{"type", "step_process"},         {"step", r.step},
                       {"attempt", r.attempt},           {"pgid", r.pgid},
                       {"leader_start", r.leader_start}, {"boot_id", r.boot_id}};
        if (r.token) {
            o["token"] = *r.token;
        }
        o["command"] = r.command;
        return o;
    }
    json::object operator()(const StepProgress& r) const {
        json::object o{{"type", "step_progress"}, {"step", r.step}, {"stage", r.stage}};
        for (const auto& kv : r.facts) {
            o[kv.key()] = kv.value();
        }
        return o;
    }
    json::object operator()(const StepSurvivors& r) const {
        json::object o{{"type", "step_survivors"},
                       {"step", r.step},
                       {"attempt", r.attempt},
                       {"pgid", r.pgid},
                       {"found", processes_json(r.found)},
                       {"outcome", r.outcome},
                       {"waited_ms", r.waited_ms}};
        if (r.remaining) {
            o["remaining"] = processes_json(*r.remaining);
        }
        if (r.unproven) {
            o["unproven"] = processes_json(*r.unproven);
        }
        if (r.why) {
            o["why"] = *r.why;
        }
        if (r.exit) {
            o["exit"] = *r.exit;
        }
        if (r.host) {
            o["host"] = *r.host;
        }
        return o;
    }
    json::object operator()(const StepSessions& r) const {
        json::object o{{"type", "step_sessions"},
                       {"step", r.step},
                       {"attempt", r.attempt},
                       {"server", r.server},
                       {"found", sessions_json(r.found)},
                       {"outcome", r.outcome},
                       {"waited_ms", r.waited_ms}};
        if (r.remaining) {
            o["remaining"] = sessions_json(*r.remaining);
        }
        if (r.why) {
            o["why"] = *r.why;
        }
        return o;
    }
    json::object operator()(const StepProcessExited& r) const {
        json::object o{{"type", "step_process_exited"},
                       {"step", r.step},
                       {"attempt", r.attempt},
                       {"pgid", r.pgid},
                       {"ending", r.ending}};
        if (r.exit_code) {
            o["exit_code"] = *r.exit_code;
        }
        if (r.signal) {
            o["signal"] = *r.signal;
        }
        if (r.error) {
            o["error"] = *r.error;
        }
        if (r.step_status) {
            o["step_status"] = *r.step_status;
        }
        if (r.summary) {
            o["summary"] = *r.summary;
        }
        return o;
    }
    json::object operator()(const StepHostStarted& r) const {
        return {{"type", "step_host_started"},
                {"step", r.step},
                {"attempt", r.attempt},
                {"host", r.host},
                {"batch", r.batch}};
    }
    json::object operator()(const StepHostFinished& r) const {
        json::object o{{"type", "step_host_finished"},
                       {"step", r.step},
                       {"attempt", r.attempt},
                       {"host", r.host},
                       {"status", r.status}};
        if (r.exit_code) {
            o["exit_code"] = *r.exit_code;
        }
        o["duration_ms"] = r.duration_ms;
        o["summary"] = r.summary;
        o["output_tail"] = r.output_tail;
        json::array groups;
        for (int g : r.remote_groups) {
            groups.push_back(g);
        }
        o["remote_groups"] = std::move(groups);
        return o;
    }
    json::object operator()(const StepFinished& r) const {
        json::object o{{"type", "step_finished"}, {"step", r.step}};
        if (r.attempt) {
            o["attempt"] = *r.attempt;
        }
        o["status"] = r.status;
        if (r.exit_code) {
            o["exit_code"] = *r.exit_code;
        }
        if (r.duration_ms) {
            o["duration_ms"] = *r.duration_ms;
        }
        o["summary"] = r.summary;
        o["output_tail"] = r.output_tail;
        o["details"] = r.details;
        if (!r.left_running.empty()) {
            o["left_running"] = processes_json(r.left_running);
        }
        if (r.recovered) {
            o["recovered"] = true;
        }
        return o;
    }
    json::object operator()(const StepProbe& r) const {
        if (!r.by.empty()) {
            return {{"type", "step_probe"},
                    {"step", r.step},
                    {"by", r.by},
                    {"verdict", r.verdict},
                    {"state", r.state}};
        }
        json::object o{{"type", "step_probe"}, {"step", r.step}};
        if (!r.host.empty()) {
            o["host"] = r.host;
        }
        if (r.exit_code) {
            o["exit_code"] = *r.exit_code;
        }
        o["verdict"] = r.verdict;
        o["output_tail"] = r.output_tail;
        return o;
    }
    json::object operator()(const StepMarkedDone& r) const {
        json::object o{
            {"type", "step_marked_done"}, {"step", r.step}, {"by", r.by}, {"why", r.why}};
        if (r.probe_state) {
            o["probe_state"] = *r.probe_state;
        }
        if (r.unverified) {
            o["unverified"] = true;
        }
        return o;
    }
    json::object operator()(const StepRetryRequested& r) const {
        return {{"type", "step_retry_requested"}, {"step", r.step}, {"by", r.by}, {"why", r.why}};
    }
    json::object operator()(const NeedsAttention& r) const {
        json::object o{{"type", "needs_attention"}};
        if (r.step) {
            o["step"] = *r.step;
        }
        o["message"] = r.message;
        return o;
    }
    json::object operator()(const Hook& r) const {
        return {{"type", "hook"},     {"event", r.event},
                {"hook", r.hook},     {"step", r.step},
                {"status", r.status}, {"summary", r.summary},
                {"reason", r.reason}, {"output_tail", r.output_tail}};
    }
    json::object operator()(const RunInterrupted& r) const {
        json::object o{{"type", "run_interrupted"}, {"signal", r.signal}};
        if (!r.during.empty()) {
            o["during"] = r.during;
        }
        return o;
    }
    json::object operator()(const RunStopped& r) const {
        return {{"type", "run_stopped"}, {"why", r.why}};
    }
    json::object operator()(const RunFinished& r) const {
        json::object o{{"type", "run_finished"}, {"state", r.state}};
        if (r.exit_code) {
            o["exit_code"] = *r.exit_code;
        }
        if (r.duration_ms) {
            o["duration_ms"] = *r.duration_ms;
        }
        if (r.tolerated_failures) {
            o["tolerated_failures"] = *r.tolerated_failures;
        }
        if (!r.not_verified.empty()) {
            o["not_verified"] = strings_json(r.not_verified);
        }
        return o;
    }
    json::object operator()(const Note& r) const { return {{"type", "note"}, {"text", r.text}}; }
    json::object operator()(const RunHandedOver& r) const {
        json::object o{{"type", "run_handed_over"}, {"signal", r.signal}, {"during", r.during}};
        if (!r.step.empty()) {
            o["step"] = r.step;
            if (r.attempt) {
                o["attempt"] = *r.attempt;
            }
            o["step_status"] = r.step_status;
            o["step_summary"] = r.step_summary;
        }
        o["to"] = r.to;
        o["generation"] = r.generation;
        o["resume"] = r.resume;
        return o;
    }
    json::object operator()(const RunAbandoned& r) const {
        return {{"type", "run_abandoned"},
                {"new_run", r.new_run},
                {"by", r.by},
                {"host", r.host},
                {"pid", r.pid}};
    }
    json::object operator()(const Unknown& r) const { return {{"type", r.type}}; }
};

} // namespace

std::string_view to_string(RecordType t) {
    const auto i = static_cast<size_t>(t);
    return i < k_type_names.size() ? k_type_names[i] : std::string_view();
}

RecordType record_type(std::string_view name) {
    for (size_t i = 0; i < k_type_names.size(); ++i) {
        if (k_type_names[i] == name) {
            return static_cast<RecordType>(i);
        }
    }
    return RecordType::unknown;
}

std::string_view Entry::step() const {
    return std::visit(
        [](const auto& r) -> std::string_view {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, NeedsAttention>) {
                return r.step ? std::string_view(*r.step) : std::string_view();
            } else if constexpr (requires { r.step; }) {
                return r.step;
            } else {
                return {};
            }
        },
        record);
}

std::string_view Entry::output_tail() const {
    switch (type()) {
    case RecordType::step_finished:
        return std::get<StepFinished>(record).output_tail;
    case RecordType::step_probe:
        return std::get<StepProbe>(record).output_tail;
    case RecordType::step_host_finished:
        return std::get<StepHostFinished>(record).output_tail;
    case RecordType::hook:
        return std::get<Hook>(record).output_tail;
    default:
        return {};
    }
}

json::object to_json(const Record& r) {
    return std::visit(ToJson{}, r);
}

} // namespace rollback::journal
