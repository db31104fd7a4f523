// SPDX-License-Identifier: MIT
// Reading a journal line into its typed record: from its parsed JSON object, or from a line read
// by FlatLine (journal/flat_line.hpp) — one read_record() for both, so both read alike.
#include "journal/flat_line.hpp"
#include "journal/records.hpp"
#include "journal/step_line.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace rollback::journal {
namespace {

namespace json = boost::json;

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

// The same readers for a line read by FlatLine; a nested value is read when asked for.
std::string str(const FlatLine& o, std::string_view key) {
    const auto* v = o.find(key);
    return v != nullptr && v->is_string() ? v->as_string() : std::string();
}

std::optional<std::string> opt_str(const FlatLine& o, std::string_view key) {
    const auto* v = o.find(key);
    return v != nullptr && v->is_string() ? std::optional<std::string>(v->as_string())
                                          : std::nullopt;
}

std::optional<std::int64_t> num(const FlatLine& o, std::string_view key) {
    const auto* v = o.find(key);
    return v != nullptr && v->is_int64() ? std::optional<std::int64_t>(v->integer) : std::nullopt;
}

bool flag(const FlatLine& o, std::string_view key) {
    const auto* v = o.find(key);
    return v != nullptr && v->kind == FlatKind::boolean && v->integer != 0;
}

std::optional<FlatLine> obj(const FlatLine& o, std::string_view key) {
    const auto* v = o.find(key);
    return v != nullptr && v->is_object() ? std::optional<FlatLine>(v->as_object()) : std::nullopt;
}

std::optional<FlatArray> arr(const FlatLine& o, std::string_view key) {
    const auto* v = o.find(key);
    return v != nullptr && v->kind == FlatKind::array ? std::optional<FlatArray>(FlatArray(v->text))
                                                      : std::nullopt;
}

/// A nested value as Boost.JSON reads it (its text is plain JSON, checked by the scan).
json::value value_of(const FlatValue& v) {
    switch (v.kind) {
    case FlatKind::string:
        return json::string(v.as_string());
    case FlatKind::integer:
        return v.integer;
    case FlatKind::boolean:
        return v.integer != 0;
    case FlatKind::object:
    case FlatKind::array:
        return json::parse(v.text);
    case FlatKind::null:
        break;
    }
    return nullptr;
}

/// step_finished "details": an object, kept only when not empty.
void read_details(const json::object& o, json::object& details) {
    if (const auto* d = obj(o, "details"); d != nullptr && !d->empty()) {
        details = *d;
    }
}

void read_details(const FlatLine& o, json::object& details) {
    if (const auto* v = o.find("details"); v != nullptr && v->is_object() && v->text != "{}") {
        details = json::parse(v->text).as_object();
    }
}

template <class O>
std::optional<int> opt_int(const O& o, std::string_view key) {
    auto n = num(o, key);
    return n ? std::optional<int>(static_cast<int>(*n)) : std::nullopt;
}

template <class O>
int int_or_0(const O& o, std::string_view key) {
    return static_cast<int>(num(o, key).value_or(0));
}

template <class O>
std::vector<std::string> strings(const O& o, std::string_view key) {
    std::vector<std::string> out;
    if (const auto a = arr(o, key)) {
        for (const auto& e : *a) {
            if (e.is_string()) {
                out.emplace_back(e.as_string());
            }
        }
    }
    return out;
}

/// The processes of an array of {pid, command, left_group} (`a` a pointer or an optional).
template <class A>
std::vector<Process> processes(const A& a) {
    std::vector<Process> out;
    if (a) {
        for (const auto& e : *a) {
            if (e.is_object()) {
                const auto& p = e.as_object();
                out.push_back({int_or_0(p, "pid"), str(p, "command"), flag(p, "left_group")});
            }
        }
    }
    return out;
}

/// The sessions of an array of {pid, name, database, user, state}.
template <class A>
std::vector<DbSession> sessions(const A& a) {
    std::vector<DbSession> out;
    if (a) {
        for (const auto& e : *a) {
            if (e.is_object()) {
                const auto& p = e.as_object();
                out.push_back({int_or_0(p, "pid"), str(p, "name"), str(p, "database"),
                               str(p, "user"), str(p, "state")});
            }
        }
    }
    return out;
}

bool is_chain_key(std::string_view key) {
    return key == "seq" || key == "time" || key == "type" || key == "step" || key == "stage" ||
           key == "prev" || key == "hash";
}

/// A step_progress record's facts: its keys but the chain's and the step's, in their order.
void read_facts(const json::object& o, json::object& facts) {
    for (const auto& kv : o) {
        if (!is_chain_key(kv.key())) {
            facts[kv.key()] = kv.value();
        }
    }
}

void read_facts(const FlatLine& o, json::object& facts) {
    for (const FlatLine::Member& m : o) {
        if (!is_chain_key(m.key)) {
            facts[m.key] = value_of(m.value);
        }
    }
}

/// run_started "steps", the general way.
template <class O>
void planned_steps(const O& o, std::vector<PlannedStep>& out) {
    if (const auto steps = arr(o, "steps")) {
        out.reserve(steps->size());
        for (const auto& e : *steps) {
            if (!e.is_object()) {
                continue;
            }
            const auto& s = e.as_object();
            out.push_back({str(s, "id"), str(s, "phase"), str(s, "action"), flag(s, "idempotent"),
                           flag(s, "has_probe"), flag(s, "finally")});
        }
    }
}

void read_planned_steps(const json::object& o, std::vector<PlannedStep>& out) {
    planned_steps(o, out);
}

void read_planned_steps(const FlatLine& o, std::vector<PlannedStep>& out) {
    // A long run's plan (20,000 steps: 2 MB of one line) as the writer lays it out is read
    // element after element; any other the general way (a FlatLine per element).
    const FlatValue* v = o.find("steps");
    if (v != nullptr && v->kind == FlatKind::array && read_planned_steps(v->text, out)) {
        return;
    }
    out.clear();
    planned_steps(o, out);
}

template <class O>
Record read_record(RecordType type, const O& o) {
    switch (type) {
    case RecordType::header:
        return Header{str(o, "format"), num(o, "version").value_or(0), str(o, "run_id"),
                      str(o, "created")};
    case RecordType::run_started: {
        RunStarted r;
        r.run_id = str(o, "run_id");
        r.playbook = str(o, "playbook");
        r.playbook_sha256 = str(o, "playbook_sha256");
        r.inventory_sha256 = str(o, "inventory_sha256");
        r.playbook_name = str(o, "playbook_name");
        if (const auto t = obj(o, "trigger")) {
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
        read_planned_steps(o, r.steps);
        if (const auto s = obj(o, "selection")) {
            r.selection = {strings(*s, "only"), strings(*s, "skip"), str(*s, "from")};
        }
        if (const auto vars = arr(o, "vars")) {
            r.has_vars = true;
            for (const auto& e : *vars) {
                if (!e.is_object()) {
                    continue;
                }
                const auto& v = e.as_object();
                r.vars.push_back({str(v, "name"), str(v, "origin"), flag(v, "secret"),
                                  str(v, "value"), str(v, "fingerprint")});
            }
        }
        return r;
    }
    case RecordType::run_resumed:
        return RunResumed{str(o, "by"), str(o, "why"), int_or_0(o, "pid"), str(o, "host"),
                          strings(o, "vars_changed")};
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
        read_facts(o, r.facts);
        return r;
    }
    case RecordType::step_survivors: {
        StepSurvivors r{str(o, "step"),      int_or_0(o, "attempt"),
                        int_or_0(o, "pgid"), processes(arr(o, "found")),
                        str(o, "outcome"),   num(o, "waited_ms").value_or(0),
                        std::nullopt,        std::nullopt,
                        std::nullopt,        std::nullopt,
                        std::nullopt};
        if (const auto rem = arr(o, "remaining")) {
            r.remaining = processes(rem);
        }
        if (const auto un = arr(o, "unproven")) {
            r.unproven = processes(un);
        }
        r.why = opt_str(o, "why");
        r.exit = opt_str(o, "exit");
        r.host = opt_str(o, "host");
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
        if (const auto groups = arr(o, "remote_groups")) {
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
        read_details(o, r.details);
        r.left_running = processes(arr(o, "left_running"));
        r.recovered = flag(o, "recovered");
        return r;
    }
    case RecordType::step_probe:
        return StepProbe{str(o, "step"),    str(o, "by"),          opt_int(o, "exit_code"),
                         str(o, "verdict"), str(o, "output_tail"), str(o, "state"),
                         str(o, "host")};
    case RecordType::step_marked_done:
        return StepMarkedDone{str(o, "step"), str(o, "by"), str(o, "why"),
                              opt_str(o, "probe_state"), flag(o, "unverified")};
    case RecordType::step_retry_requested:
        return StepRetryRequested{str(o, "step"), str(o, "by"), str(o, "why")};
    case RecordType::needs_attention:
        return NeedsAttention{opt_str(o, "step"), str(o, "message")};
    case RecordType::hook:
        return Hook{str(o, "event"),   str(o, "hook"),   str(o, "step"),       str(o, "status"),
                    str(o, "summary"), str(o, "reason"), str(o, "output_tail")};
    case RecordType::run_interrupted:
        return RunInterrupted{str(o, "signal"), str(o, "during")};
    case RecordType::run_stopped:
        return RunStopped{str(o, "why")};
    case RecordType::run_finished:
        return RunFinished{str(o, "state"), opt_int(o, "exit_code"), num(o, "duration_ms"),
                           opt_int(o, "tolerated_failures"), strings(o, "not_verified")};
    case RecordType::note:
        return Note{str(o, "text")};
    case RecordType::run_handed_over:
        return RunHandedOver{str(o, "signal"),      str(o, "during"),
                             str(o, "step"),        opt_int(o, "attempt"),
                             str(o, "step_status"), str(o, "step_summary"),
                             str(o, "to"),          num(o, "generation").value_or(0),
                             str(o, "resume")};
    case RecordType::run_abandoned:
        return RunAbandoned{str(o, "new_run"), str(o, "by"), str(o, "host"), int_or_0(o, "pid")};
    case RecordType::step_sessions: {
        StepSessions r{str(o, "step"),    int_or_0(o, "attempt"),
                       str(o, "server"),  sessions(arr(o, "found")),
                       str(o, "outcome"), num(o, "waited_ms").value_or(0),
                       std::nullopt,      opt_str(o, "why")};
        if (const auto rem = arr(o, "remaining")) {
            r.remaining = sessions(rem);
        }
        return r;
    }
    case RecordType::unknown:
        break;
    }
    return Unknown{str(o, "type")};
}

/// Reads the entry around the record: "seq", "time" and "type" beside it.
template <class O>
Entry read_entry_of(const O& line, RecordType type) {
    Entry e;
    if (auto seq = num(line, "seq")) {
        e.seq = *seq;
    }
    e.time = str(line, "time");
    e.record = read_record(type, line);
    return e;
}

} // namespace

Entry read_entry(const json::object& line) {
    const auto* t = line.if_contains("type");
    return read_entry_of(line, t != nullptr && t->is_string() ? record_type(t->as_string())
                                                              : RecordType::unknown);
}

Entry read_entry(const FlatLine& line) {
    const auto* t = line.find("type");
    if (t == nullptr || !t->is_string()) {
        return read_entry_of(line, RecordType::unknown);
    }
    return read_entry_of(line, t->escaped ? record_type(t->as_string()) : record_type(t->text));
}

} // namespace rollback::journal
