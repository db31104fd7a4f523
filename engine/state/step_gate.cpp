// SPDX-License-Identifier: MIT
#include "state/step_gate.hpp"

#include "util/error.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <fcntl.h>
#include <unistd.h>

namespace rollback::state {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string request_json(const GateRequest& r) {
    json::array approvers;
    for (const auto& a : r.approvers) {
        approvers.emplace_back(a);
    }
    return json::serialize(
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
    return json::serialize(json::object{{"version", 1},
                                        {"answer", a.approved ? "approved" : "rejected"},
                                        {"by", a.by},
                                        {"at", util::format_time(a.at)},
                                        {"note", a.note}});
}

/// Reads `file` as a JSON object; util::Error naming the file when it is not one.
json::object read_object(const fs::path& file) {
    try {
        return json::parse(util::read_file(file)).as_object();
    } catch (const util::Error&) {
        throw;
    } catch (const std::exception& e) {
        throw util::Error(file.string() + ": malformed approval gate file: " + e.what(),
                          util::ExitCode::invalid);
    }
}

std::string text(const json::object& o, const char* k, const fs::path& file) {
    const json::value* v = o.if_contains(k);
    if (v == nullptr || !v->is_string()) {
        throw util::Error(file.string() + ": malformed approval gate file: no \"" + std::string(k) +
                              "\"",
                          util::ExitCode::invalid);
    }
    return std::string(v->as_string());
}

util::SystemTime time_of(const json::object& o, const char* k, const fs::path& file) {
    auto t = util::parse_time(text(o, k, file));
    if (!t) {
        throw util::Error(file.string() + ": malformed approval gate file: bad \"" +
                              std::string(k) + "\"",
                          util::ExitCode::invalid);
    }
    return *t;
}

GateRequest parse_request(const fs::path& file) {
    auto o = read_object(file);
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

/// Creates `file` with `content` only if it does not exist: the content is written to a
/// temporary file, then hard-linked into place (link(2) fails with EEXIST when another writer
/// won), so a reader never sees a partial document.
bool create_once(const fs::path& file, const std::string& content) {
    fs::create_directories(file.parent_path());
    const fs::path tmp = file.string() + ".tmp." + std::to_string(::getpid());
    util::write_file_atomic(tmp, content);
    const int rc = ::link(tmp.c_str(), file.c_str());
    const int err = errno;
    std::error_code ec;
    fs::remove(tmp, ec);
    if (rc == 0) {
        return true;
    }
    if (err == EEXIST) {
        return false;
    }
    throw util::Error("cannot write " + file.string() + ": " + std::strerror(err),
                      util::ExitCode::state_unwritable);
}

void check_name(const std::string& name, const char* what) {
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
        throw util::Error(std::string("invalid ") + what + " " + util::quoted(name),
                          util::ExitCode::invalid);
    }
}

} // namespace

fs::path StepGates::file(const std::string& run_id, const std::string& step,
                         const char* kind) const {
    check_name(run_id, "run id");
    check_name(step, "step id");
    return dir_ / "runs" / run_id / "gates" / (step + "." + kind + ".json");
}

GateRequest StepGates::open(const GateRequest& wanted) const {
    const fs::path f = file(wanted.run_id, wanted.step, "request");
    create_once(f, request_json(wanted) + "\n");
    return parse_request(f);
}

std::optional<GateRequest> StepGates::request(const std::string& run_id,
                                              const std::string& step) const {
    const fs::path f = file(run_id, step, "request");
    if (!fs::exists(f)) {
        return std::nullopt;
    }
    return parse_request(f);
}

std::optional<GateAnswer> StepGates::answer(const std::string& run_id,
                                            const std::string& step) const {
    const fs::path f = file(run_id, step, "answer");
    if (!fs::exists(f)) {
        return std::nullopt;
    }
    auto o = read_object(f);
    GateAnswer a;
    a.approved = text(o, "answer", f) == "approved";
    a.by = text(o, "by", f);
    a.at = time_of(o, "at", f);
    a.note = text(o, "note", f);
    return a;
}

bool StepGates::give(const std::string& run_id, const std::string& step,
                     const GateAnswer& a) const {
    return create_once(file(run_id, step, "answer"), answer_json(a) + "\n");
}

void StepGates::retire(const std::string& run_id, const std::string& step) const {
    const fs::path request = file(run_id, step, "request");
    if (!fs::exists(request)) {
        return;
    }
    const fs::path dir = request.parent_path();
    int n = 1;
    while (fs::exists(dir / (step + ".request." + std::to_string(n) + ".json"))) {
        ++n;
    }
    const std::string k = std::to_string(n);
    const fs::path answer = file(run_id, step, "answer");
    if (fs::exists(answer)) {
        fs::rename(answer, dir / (step + ".answer." + k + ".json"));
    }
    fs::rename(request, dir / (step + ".request." + k + ".json"));
}

std::vector<GateRequest> StepGates::requests(const std::string& run_id) const {
    check_name(run_id, "run id");
    std::vector<GateRequest> out;
    const fs::path dir = dir_ / "runs" / run_id / "gates";
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.size() > 13 && name.ends_with(".request.json")) {
            out.push_back(parse_request(e.path()));
        }
    }
    std::sort(out.begin(), out.end(),
              [](const GateRequest& a, const GateRequest& b) { return a.step < b.step; });
    return out;
}

} // namespace rollback::state
