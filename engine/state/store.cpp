// SPDX-License-Identifier: MIT
#include "state/store.hpp"

#include "util/error.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <climits>
#include <cstdlib>
#include <pwd.h>
#include <stdexcept>
#include <unistd.h>

namespace rollback::state {

std::optional<journal::Entry> Runs::last_record(const std::string& run_id) const {
    auto j = read_journal(run_id);
    if (j.records.empty()) {
        return std::nullopt;
    }
    return std::move(j.records.back());
}

std::string this_host() {
    char buf[HOST_NAME_MAX + 1] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) {
        return "unknown";
    }
    return buf;
}

namespace {

std::string holder_field(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string user_name() {
    if (const char* u = std::getenv("USER"); u != nullptr && *u != '\0') {
        return u;
    }
    if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr) {
        return pw->pw_name;
    }
    return std::to_string(::geteuid());
}

} // namespace

Holder this_process_holder(std::string run_id, std::string reason) {
    Holder h;
    h.run_id = std::move(run_id);
    h.pid = static_cast<int>(::getpid());
    h.host = this_host();
    h.started = util::format_time(std::chrono::system_clock::now());
    h.reason = std::move(reason);
    h.user = user_name();
    return h;
}

boost::json::object to_json(const Holder& h) {
    return {{"run_id", h.run_id},   {"pid", h.pid},       {"host", h.host},
            {"started", h.started}, {"reason", h.reason}, {"user", h.user}};
}

Holder holder_from_json(const boost::json::object& o) {
    Holder h;
    h.run_id = holder_field(o, "run_id");
    if (const auto* p = o.if_contains("pid"); p != nullptr && p->is_int64()) {
        h.pid = static_cast<int>(p->as_int64());
    }
    h.host = holder_field(o, "host");
    h.started = holder_field(o, "started");
    h.reason = holder_field(o, "reason");
    h.user = holder_field(o, "user");
    return h;
}

void check_decision_id(const std::string& id) {
    if (id.empty() || id.front() == '.' || id.find_first_of("/\\") != std::string::npos) {
        throw util::Error("not a decision id: " + util::quoted(id), util::ExitCode::invalid);
    }
}

std::string tick_line(const decision::DecisionRecord& r, const std::string& written_id) {
    boost::json::array conds;
    for (const auto& c : r.conditions) {
        boost::json::object o{{"name", c.name}, {"verdict", decision::to_string(c.verdict)}};
        if (c.observed) {
            o["observed"] = *c.observed;
        } else {
            o["observed"] = nullptr;
        }
        if (c.late && *c.late > 0) {
            o["late"] = *c.late; // lines of its window that came too late: never silent
        }
        conds.push_back(std::move(o));
    }
    boost::json::object line{{"version", decision::k_record_version},
                             {"kind", "tick"},
                             {"time", util::format_time(r.time)},
                             {"action", decision::to_string(r.action)},
                             {"executed", r.executed},
                             {"record", written_id},
                             {"conditions", std::move(conds)}};
    return util::json_text(line);
}

std::string pending_twin(const std::vector<ApprovalRequest>& all, const ApprovalRequest& a) {
    for (const auto& o : all) {
        if (o.decision_id != a.decision_id && o.condition == a.condition && o.state == "pending" &&
            o.expires_at >= a.requested_at) {
            return o.decision_id;
        }
    }
    return "";
}

std::optional<ApprovalRequest> approved_twin(const std::vector<ApprovalRequest>& all,
                                             const ApprovalRequest& a) {
    for (const auto& o : all) {
        if (o.decision_id != a.decision_id && o.condition == a.condition && o.state == "approved" &&
            o.requested_at <= a.expires_at && a.requested_at <= o.expires_at) {
            return o;
        }
    }
    return std::nullopt;
}

void Approvals::request_approval(const ApprovalRequest& a, std::uint64_t /*leader_generation*/) {
    // Alone on its state (no leader row): the twin check is all there is to do.
    if (auto twin = pending_twin(approvals(), a); !twin.empty()) {
        throw util::Error("no approval request filed for " + a.decision_id + ": request " + twin +
                              " of condition " + a.condition +
                              " is pending (one incident, one request)",
                          util::ExitCode::locked);
    }
    put_approval(a);
}

ApprovalRequest with_told(ApprovalRequest stored, const ApprovalRequest& next) {
    for (const auto& hook : next.told) {
        if (std::find(stored.told.begin(), stored.told.end(), hook) == stored.told.end()) {
            stored.told.push_back(hook);
        }
    }
    stored.announced = stored.announced || next.announced;
    return stored;
}

bool Approvals::note_told(const ApprovalRequest& next, std::uint64_t /*leader_generation*/) {
    // Alone on its state: no other writer adds to the announcement; an answer given meanwhile
    // wins by the compare-and-set.
    auto stored = approval(next.decision_id);
    if (!stored || stored->state != "pending" || !stored->run_id.empty()) {
        return false;
    }
    return answer_pending_approval(with_told(*stored, next));
}

std::string approval_json(const ApprovalRequest& a) {
    boost::json::object o{
        {"version", 1},
        {"decision_id", a.decision_id},
        {"requested_at", util::format_time(a.requested_at)},
        {"expires_at", util::format_time(a.expires_at)},
        {"condition", a.condition},
        {"severity", a.severity},
        {"reason", a.reason},
        {"state", a.state},
        {"approved_by", a.approved_by},
        {"approved_at", a.approved_at ? util::format_time(*a.approved_at) : ""},
        {"answer_reason", a.answer_reason},
        {"run_id", a.run_id},
        {"withdrawn_at", a.withdrawn_at ? util::format_time(*a.withdrawn_at) : ""},
        {"withdrawn_reason", a.withdrawn_reason},
        {"told", boost::json::value_from(a.told)},
        {"announced", a.announced}};
    return util::json_text(o);
}

ApprovalRequest parse_approval(const std::string& text, const std::string& where) {
    try {
        auto v = boost::json::parse(text).as_object();
        auto str = [&](const char* k) { return std::string(v.at(k).as_string()); };
        auto time = [&](const char* k) {
            auto t = util::parse_time(str(k));
            if (!t) {
                throw std::runtime_error(std::string("bad time in ") + k);
            }
            return *t;
        };
        ApprovalRequest a;
        a.decision_id = str("decision_id");
        a.requested_at = time("requested_at");
        a.expires_at = time("expires_at");
        a.condition = str("condition");
        a.severity = str("severity");
        a.reason = str("reason");
        a.state = str("state");
        a.approved_by = str("approved_by");
        if (!str("approved_at").empty()) {
            a.approved_at = time("approved_at");
        }
        a.run_id = str("run_id");
        if (v.if_contains("answer_reason")) { // absent before approvals could be rejected
            a.answer_reason = str("answer_reason");
        }
        // Requests written before withdrawal existed have neither field.
        if (v.contains("withdrawn_at") && !str("withdrawn_at").empty()) {
            a.withdrawn_at = time("withdrawn_at");
        }
        if (v.contains("withdrawn_reason")) {
            a.withdrawn_reason = str("withdrawn_reason");
        }
        // Requests kept before announcements were recorded: told by the monitor that filed
        // them, as far as anyone can know.
        a.announced = true;
        if (const auto* told = v.if_contains("told"); told != nullptr) {
            for (const auto& hook : told->as_array()) {
                a.told.emplace_back(hook.as_string());
            }
            a.announced = v.at("announced").as_bool();
        }
        return a;
    } catch (const std::exception& e) {
        throw util::Error(where + ": malformed approval request: " + e.what());
    }
}

void passed_over(const std::vector<std::string>& unreadable, std::vector<std::string>* skipped) {
    for (const auto& why : unreadable) {
        log::warn("approval request passed over: {}", why);
    }
    if (skipped != nullptr) {
        skipped->insert(skipped->end(), unreadable.begin(), unreadable.end());
    }
}

std::string deploy_marker_json(const DeployMarker& m) {
    boost::json::object o{{"version", 1},
                          {"kind", "deploy"},
                          {"release", m.release},
                          {"time", util::format_time(m.time)},
                          {"target", m.target}};
    if (m.recorded_at) {
        o.emplace("recorded_at", util::format_time(*m.recorded_at));
    }
    return util::json_text(o);
}

DeployMarker parse_deploy_marker(const std::string& text, const std::string& where) {
    try {
        auto v = boost::json::parse(text);
        DeployMarker m;
        m.release = boost::json::value_to<std::string>(v.at("release"));
        auto t = util::parse_time(boost::json::value_to<std::string>(v.at("time")));
        if (!t) {
            throw std::runtime_error("bad time");
        }
        m.time = *t;
        if (const auto* tg = v.as_object().if_contains("target"); tg && tg->is_string()) {
            m.target = std::string(tg->as_string());
        }
        if (const auto* ra = v.as_object().if_contains("recorded_at"); ra && ra->is_string()) {
            m.recorded_at = util::parse_time(std::string(ra->as_string()));
            if (!m.recorded_at) {
                throw std::runtime_error("bad recorded_at");
            }
        }
        return m;
    } catch (const std::exception& e) {
        throw util::Error(where + ": malformed deploy marker: " + e.what());
    }
}

std::vector<DeployMarker> parse_deploy_history(std::string_view text, const std::string& where,
                                               const std::string& target) {
    std::vector<DeployMarker> out;
    std::vector<util::Diagnostic> errors;
    int line_no = 0;
    for (std::string_view rest = text; !rest.empty();) {
        const size_t nl = rest.find('\n');
        const std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        ++line_no;
        if (util::trim(line).empty()) {
            continue;
        }
        // What is wrong with the line, or empty when it is a marker (then in `m`).
        DeployMarker m;
        std::string problem;
        boost::system::error_code ec;
        const boost::json::value v = boost::json::parse(line, ec);
        const boost::json::object* o = ec ? nullptr : v.if_object();
        auto text_of = [&](std::string_view key) -> const boost::json::string* {
            const auto* f = o->if_contains(key);
            return f ? f->if_string() : nullptr;
        };
        if (!o) {
            problem = ec ? "not JSON (" + ec.message() + ")" : "not a JSON object";
        } else if (const auto* tg = text_of("target"); tg && !target.empty() && *tg != target) {
            continue; // another target's marker in a shared state directory
        } else if (const auto* r = text_of("release"); !r || r->empty()) {
            problem = "no \"release\"";
        } else if (const auto* w = text_of("time"); !w) {
            problem = "no \"time\"";
        } else if (auto t = util::parse_time(std::string_view(w->data(), w->size())); !t) {
            problem = "cannot read time " + util::quoted(std::string_view(w->data(), w->size()));
        } else if (const auto* ra = text_of("recorded_at");
                   ra && !util::parse_time(std::string_view(ra->data(), ra->size()))) {
            problem =
                "cannot read recorded_at " + util::quoted(std::string_view(ra->data(), ra->size()));
        } else {
            m.release = std::string(r->data(), r->size());
            m.time = *t;
            if (tg) {
                m.target = std::string(tg->data(), tg->size());
            }
            if (ra) {
                m.recorded_at = util::parse_time(std::string_view(ra->data(), ra->size()));
            }
        }
        if (!problem.empty()) {
            errors.push_back({{where, line_no, 1},
                              "deploy marker",
                              "malformed: " + problem,
                              "each line is written by `rollback deployed`; fix or remove it"});
            continue;
        }
        out.push_back(std::move(m));
    }
    if (!errors.empty()) {
        throw util::InvalidInput(std::move(errors));
    }
    // Recorded in the order `rollback deployed` ran; a deploy recorded later with an earlier
    // --time belongs where its time puts it.
    std::stable_sort(out.begin(), out.end(),
                     [](const DeployMarker& a, const DeployMarker& b) { return a.time < b.time; });
    return out;
}

namespace {

constexpr int k_releases_file_version = 1;

std::string str_field(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

} // namespace

std::string bad_releases_json(const std::vector<BadRelease>& all) {
    boost::json::array arr;
    for (const auto& b : all) {
        arr.push_back({{"release", b.release},
                       {"location", b.location},
                       {"marked_bad_at", b.marked_bad_at},
                       {"run_id", b.run_id},
                       {"switched_to", b.switched_to}});
    }
    boost::json::object doc{{"version", k_releases_file_version}, {"bad_releases", std::move(arr)}};
    return util::json_text(doc);
}

std::vector<BadRelease> parse_bad_releases(const std::string& text, const std::string& where) {
    boost::system::error_code ec;
    boost::json::value doc = boost::json::parse(text, ec);
    if (ec) {
        // The parser's own words only (its error_code message): never a library's source path.
        throw util::Error(where + ": not valid JSON: " + ec.message(), util::ExitCode::run_failed,
                          "move the file aside; it only lists releases marked bad");
    }
    const auto* releases = doc.is_object() ? doc.as_object().if_contains("bad_releases") : nullptr;
    if (releases == nullptr || !releases->is_array()) {
        throw util::Error(where + ": no \"bad_releases\" array", util::ExitCode::run_failed);
    }
    std::vector<BadRelease> out;
    for (const auto& v : releases->as_array()) {
        if (!v.is_object()) {
            continue;
        }
        const auto& o = v.as_object();
        out.push_back({str_field(o, "release"), str_field(o, "location"),
                       str_field(o, "marked_bad_at"), str_field(o, "run_id"),
                       str_field(o, "switched_to")});
    }
    return out;
}

std::vector<BadRelease> with_bad_release(std::vector<BadRelease> all, const BadRelease& bad) {
    std::erase_if(all, [&](const BadRelease& b) {
        return b.location == bad.location && b.release == bad.release;
    });
    all.push_back(bad);
    return all;
}

} // namespace rollback::state
