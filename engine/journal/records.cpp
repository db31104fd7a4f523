// SPDX-License-Identifier: MIT
#include "journal/records.hpp"

#include <array>
#include <boost/json/value.hpp>

namespace rollback::journal {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 21> k_type_names = {"header",
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
                                                           "step_host_finished"};
static_assert(k_type_names.size() == static_cast<size_t>(RecordType::unknown));
static_assert(std::variant_size_v<Record> == static_cast<size_t>(RecordType::unknown) + 1);

// The field readers: lenient, a field of another type reads as absent (docs/journal.md: records
// that make no sense are warnings of the fold, never errors of the reader).
std::string str(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::optional<std::string> opt_str(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::optional<std::string>(v->as_string())
                                          : std::nullopt;
}

std::optional<std::int64_t> num(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_number()) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    auto n = v->to_number<std::int64_t>(ec);
    return ec ? std::nullopt : std::optional<std::int64_t>(n);
}

std::optional<int> opt_int(const json::object& o, std::string_view key) {
    auto n = num(o, key);
    return n ? std::optional<int>(static_cast<int>(*n)) : std::nullopt;
}

int int_or_0(const json::object& o, std::string_view key) {
    return static_cast<int>(num(o, key).value_or(0));
}

bool flag(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_bool() && v->as_bool();
}

const json::object* obj(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}

const json::array* arr(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_array() ? &v->as_array() : nullptr;
}

std::vector<std::string> strings(const json::object& o, std::string_view key) {
    std::vector<std::string> out;
    if (const auto* a = arr(o, key)) {
        for (const auto& e : *a) {
            if (e.is_string()) {
                out.emplace_back(e.as_string());
            }
        }
    }
    return out;
}

std::vector<Process> processes(const json::array* a) {
    std::vector<Process> out;
    if (a != nullptr) {
        for (const auto& e : *a) {
            if (e.is_object()) {
                out.push_back({int_or_0(e.as_object(), "pid"), str(e.as_object(), "command"),
                               flag(e.as_object(), "left_group")});
            }
        }
    }
    return out;
}

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
        return o;
    }
    json::object operator()(const RunResumed& r) const {
        return {{"type", "run_resumed"},
                {"by", r.by},
                {"why", r.why},
                {"pid", r.pid},
                {"host", r.host}};
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
        return {{"type", "run_interrupted"}, {"signal", r.signal}};
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
        return o;
    }
    json::object operator()(const Note& r) const { return {{"type", "note"}, {"text", r.text}}; }
    json::object operator()(const Unknown& r) const { return {{"type", r.type}}; }
};

bool is_chain_key(std::string_view key) {
    return key == "seq" || key == "time" || key == "type" || key == "step" || key == "stage" ||
           key == "prev" || key == "hash";
}

Record read_record(RecordType type, const json::object& o) {
    switch (type) {
    case RecordType::header:
        return Header{str(o, "format"), num(o, "version").value_or(0), str(o, "run_id"),
                      str(o, "created")};
    case RecordType::run_started: {
        RunStarted r;
        r.run_id = str(o, "run_id");
        r.playbook = str(o, "playbook");
        r.playbook_sha256 = str(o, "playbook_sha256");
        r.playbook_name = str(o, "playbook_name");
        if (const auto* t = obj(o, "trigger")) {
            r.trigger = {str(*t, "kind"),
                         str(*t, "condition"),
                         str(*t, "severity"),
                         {},
                         str(*t, "decision_id")};
        } else {
            r.trigger.kind.clear();
            r.has_trigger = false;
        }
        r.trigger.reason = str(o, "reason");
        r.user = str(o, "user");
        r.host = str(o, "host");
        r.pid = int_or_0(o, "pid");
        r.dry_run = flag(o, "dry_run");
        if (const auto* steps = arr(o, "steps")) {
            r.steps.reserve(steps->size());
            for (const auto& e : *steps) {
                if (!e.is_object()) {
                    continue;
                }
                const auto& s = e.as_object();
                r.steps.push_back({str(s, "id"), str(s, "phase"), str(s, "action"),
                                   flag(s, "idempotent"), flag(s, "has_probe"),
                                   flag(s, "finally")});
            }
        }
        if (const auto* s = obj(o, "selection")) {
            r.selection = {strings(*s, "only"), strings(*s, "skip"), str(*s, "from")};
        }
        return r;
    }
    case RecordType::run_resumed:
        return RunResumed{str(o, "by"), str(o, "why"), int_or_0(o, "pid"), str(o, "host")};
    case RecordType::step_skipped:
        return StepSkipped{str(o, "step"), str(o, "why")};
    case RecordType::step_started:
        return StepStarted{str(o, "step"), opt_int(o, "attempt")};
    case RecordType::step_process:
        return StepProcess{
            str(o, "step"),      int_or_0(o, "attempt"),
            int_or_0(o, "pgid"), static_cast<std::uint64_t>(num(o, "leader_start").value_or(0)),
            str(o, "boot_id"),   opt_str(o, "token"),
            str(o, "command")};
    case RecordType::step_progress: {
        StepProgress r{str(o, "step"), str(o, "stage"), {}};
        for (const auto& kv : o) {
            if (!is_chain_key(kv.key())) {
                r.facts[kv.key()] = kv.value();
            }
        }
        return r;
    }
    case RecordType::step_survivors: {
        StepSurvivors r{str(o, "step"),      int_or_0(o, "attempt"),
                        int_or_0(o, "pgid"), processes(arr(o, "found")),
                        str(o, "outcome"),   num(o, "waited_ms").value_or(0),
                        std::nullopt,        std::nullopt,
                        std::nullopt,        std::nullopt};
        if (const auto* rem = arr(o, "remaining")) {
            r.remaining = processes(rem);
        }
        if (const auto* un = arr(o, "unproven")) {
            r.unproven = processes(un);
        }
        r.why = opt_str(o, "why");
        r.exit = opt_str(o, "exit");
        return r;
    }
    case RecordType::step_process_exited:
        return StepProcessExited{
            str(o, "step"),      int_or_0(o, "attempt"),    int_or_0(o, "pgid"),
            str(o, "ending"),    opt_int(o, "exit_code"),   opt_int(o, "signal"),
            opt_str(o, "error"), opt_str(o, "step_status"), opt_str(o, "summary")};
    case RecordType::step_host_started:
        return StepHostStarted{str(o, "step"), int_or_0(o, "attempt"), str(o, "host"),
                               int_or_0(o, "batch")};
    case RecordType::step_host_finished: {
        StepHostFinished r{
            str(o, "step"),    int_or_0(o, "attempt"),  str(o, "host"),
            str(o, "status"),  opt_int(o, "exit_code"), num(o, "duration_ms").value_or(0),
            str(o, "summary"), str(o, "output_tail"),   {}};
        if (const json::array* groups = arr(o, "remote_groups")) {
            for (const auto& g : *groups) {
                if (g.is_int64()) {
                    r.remote_groups.push_back(static_cast<int>(g.as_int64()));
                }
            }
        }
        return r;
    }
    case RecordType::step_finished: {
        StepFinished r;
        r.step = str(o, "step");
        r.attempt = opt_int(o, "attempt");
        r.status = str(o, "status");
        r.exit_code = opt_int(o, "exit_code");
        r.duration_ms = num(o, "duration_ms");
        r.summary = str(o, "summary");
        r.output_tail = str(o, "output_tail");
        if (const auto* d = obj(o, "details"); d != nullptr && !d->empty()) {
            r.details = *d;
        }
        r.left_running = processes(arr(o, "left_running"));
        r.recovered = flag(o, "recovered");
        return r;
    }
    case RecordType::step_probe:
        return StepProbe{str(o, "step"),    str(o, "by"),          opt_int(o, "exit_code"),
                         str(o, "verdict"), str(o, "output_tail"), str(o, "state")};
    case RecordType::step_marked_done:
        return StepMarkedDone{str(o, "step"), str(o, "by"), str(o, "why"),
                              opt_str(o, "probe_state")};
    case RecordType::step_retry_requested:
        return StepRetryRequested{str(o, "step"), str(o, "by"), str(o, "why")};
    case RecordType::needs_attention:
        return NeedsAttention{opt_str(o, "step"), str(o, "message")};
    case RecordType::hook:
        return Hook{str(o, "event"),   str(o, "hook"),   str(o, "step"),       str(o, "status"),
                    str(o, "summary"), str(o, "reason"), str(o, "output_tail")};
    case RecordType::run_interrupted:
        return RunInterrupted{str(o, "signal")};
    case RecordType::run_stopped:
        return RunStopped{str(o, "why")};
    case RecordType::run_finished:
        return RunFinished{str(o, "state"), opt_int(o, "exit_code"), num(o, "duration_ms"),
                           opt_int(o, "tolerated_failures")};
    case RecordType::note:
        return Note{str(o, "text")};
    case RecordType::unknown:
        break;
    }
    return Unknown{str(o, "type")};
}

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

Entry read_entry(const json::object& line) {
    Entry e;
    if (auto seq = num(line, "seq")) {
        e.seq = *seq;
    }
    e.time = str(line, "time");
    const auto* t = line.if_contains("type");
    const RecordType type =
        t != nullptr && t->is_string() ? record_type(t->as_string()) : RecordType::unknown;
    e.record = read_record(type, line);
    return e;
}

} // namespace rollback::journal
