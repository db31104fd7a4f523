// SPDX-License-Identifier: MIT
#include "state/step_gate.hpp"

#include "state/local_store.hpp"

#include "util/error.hpp"
#include "util/files.hpp"
#include "util/json_text.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json.hpp>

namespace rollback::state {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string request_json(const GateRequest& r) {
    json::array approvers;
    for (const auto& a : r.approvers) {
        approvers.emplace_back(a);
    }
    return util::json_text(
        json::object{{"version", 1},
                     {"run_id", r.run_id},
                     {"step", r.step},
                     {"requested_at", util::format_time(r.requested_at)},
                     {"expires_at", util::format_time(r.expires_at)},
                     {"message", r.message},
                     {"approvers", approvers},
                     {"on_timeout", r.approve_on_timeout ? "approve" : "reject"}});
}

std::string answer_json(const GateAnswer& a) {
    return util::json_text(json::object{{"version", 1},
                                        {"answer", a.approved ? "approved" : "rejected"},
                                        {"by", a.by},
                                        {"at", util::format_time(a.at)},
                                        {"note", a.note}});
}

/// Reads `doc` as a JSON object; util::Error naming `where` when it is not one.
json::object read_object(const std::string& doc, const std::string& where) {
    // The parser's own words only (json's error_code message): never a library's source path.
    boost::system::error_code ec;
    json::value v = json::parse(doc, ec);
    if (ec || !v.is_object()) {
        throw util::Error(
            where + ": malformed approval gate file: " +
                (ec ? "not valid JSON (" + ec.message() + ")" : std::string("not a JSON object")),
            util::ExitCode::invalid,
            "remove the file (rm " + where +
                "); a pending gate is then answered again with rollback approve");
    }
    return std::move(v.as_object());
}

std::string text(const json::object& o, const char* k, const std::string& where) {
    const json::value* v = o.if_contains(k);
    if (v == nullptr || !v->is_string()) {
        throw util::Error(where + ": malformed approval gate file: no \"" + std::string(k) + "\"",
                          util::ExitCode::invalid);
    }
    return std::string(v->as_string());
}

util::SystemTime time_of(const json::object& o, const char* k, const std::string& where) {
    auto t = util::parse_time(text(o, k, where));
    if (!t) {
        throw util::Error(where + ": malformed approval gate file: bad \"" + std::string(k) + "\"",
                          util::ExitCode::invalid);
    }
    return *t;
}

GateRequest parse_request(const std::string& doc, const std::string& file) {
    auto o = read_object(doc, file);
    GateRequest r;
    r.run_id = text(o, "run_id", file);
    r.step = text(o, "step", file);
    r.requested_at = time_of(o, "requested_at", file);
    r.expires_at = time_of(o, "expires_at", file);
    r.message = text(o, "message", file);
    if (const json::value* a = o.if_contains("approvers"); a != nullptr && a->is_array()) {
        for (const auto& v : a->as_array()) {
            if (v.is_string()) {
                r.approvers.emplace_back(v.as_string());
            }
        }
    }
    r.approve_on_timeout = text(o, "on_timeout", file) == "approve";
    return r;
}

void check_name(const std::string& name, const char* what) {
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
        throw util::Error(std::string("invalid ") + what + " " + util::quoted(name),
                          util::ExitCode::invalid);
    }
}

} // namespace

StepGates::StepGates(const fs::path& state_dir)
    : m_own(std::make_shared<LocalStore>(state_dir)), m_docs(m_own.get()) {}

namespace {

std::string name_of(const std::string& run_id, const std::string& step, const char* kind) {
    check_name(run_id, "run id");
    check_name(step, "step id");
    return step + "." + kind;
}

} // namespace

GateRequest StepGates::open(const GateRequest& wanted) const {
    const std::string name = name_of(wanted.run_id, wanted.step, "request");
    m_docs->create_gate_document(wanted.run_id, name, request_json(wanted));
    return *request(wanted.run_id, wanted.step);
}

std::optional<GateRequest> StepGates::request(const std::string& run_id,
                                              const std::string& step) const {
    const std::string name = name_of(run_id, step, "request");
    auto doc = m_docs->gate_document(run_id, name);
    if (!doc) {
        return std::nullopt;
    }
    return parse_request(*doc, m_docs->gate_location(run_id, name));
}

std::optional<GateAnswer> StepGates::answer(const std::string& run_id,
                                            const std::string& step) const {
    const std::string name = name_of(run_id, step, "answer");
    auto doc = m_docs->gate_document(run_id, name);
    if (!doc) {
        return std::nullopt;
    }
    const std::string where = m_docs->gate_location(run_id, name);
    auto o = read_object(*doc, where);
    GateAnswer a;
    a.approved = text(o, "answer", where) == "approved";
    a.by = text(o, "by", where);
    a.at = time_of(o, "at", where);
    a.note = text(o, "note", where);
    return a;
}

bool StepGates::give(const std::string& run_id, const std::string& step,
                     const GateAnswer& a) const {
    return m_docs->create_gate_document(run_id, name_of(run_id, step, "answer"), answer_json(a));
}

void StepGates::retire(const std::string& run_id, const std::string& step) const {
    const std::string request = name_of(run_id, step, "request");
    const auto names = m_docs->gate_documents(run_id);
    auto has = [&](const std::string& n) {
        return std::find(names.begin(), names.end(), n) != names.end();
    };
    if (!has(request)) {
        return;
    }
    int n = 1;
    while (has(request + "." + std::to_string(n))) {
        ++n;
    }
    const std::string k = std::to_string(n);
    const std::string answer = name_of(run_id, step, "answer");
    if (has(answer)) {
        m_docs->rename_gate_document(run_id, answer, answer + "." + k);
    }
    m_docs->rename_gate_document(run_id, request, request + "." + k);
}

std::vector<GateRequest> StepGates::requests(const std::string& run_id) const {
    check_name(run_id, "run id");
    std::vector<GateRequest> out;
    for (const auto& name : m_docs->gate_documents(run_id)) {
        if (name.size() > 8 && name.ends_with(".request")) {
            if (auto doc = m_docs->gate_document(run_id, name)) {
                out.push_back(parse_request(*doc, m_docs->gate_location(run_id, name)));
            }
        }
    }
    std::sort(out.begin(), out.end(),
              [](const GateRequest& a, const GateRequest& b) { return a.step < b.step; });
    return out;
}

} // namespace rollback::state
