// SPDX-License-Identifier: MIT
#include "state/store.hpp"

#include "util/error.hpp"
#include "util/strings.hpp"

#include <boost/json.hpp>
#include <stdexcept>

namespace rollback::state {

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
        conds.push_back(std::move(o));
    }
    boost::json::object line{{"version", decision::k_record_version},
                             {"kind", "tick"},
                             {"time", util::format_time(r.time)},
                             {"action", decision::to_string(r.action)},
                             {"executed", r.executed},
                             {"record", written_id},
                             {"conditions", std::move(conds)}};
    return boost::json::serialize(line);
}

std::string approval_json(const ApprovalRequest& a) {
    boost::json::object o{{"version", 1},
                          {"decision_id", a.decision_id},
                          {"requested_at", util::format_time(a.requested_at)},
                          {"expires_at", util::format_time(a.expires_at)},
                          {"condition", a.condition},
                          {"severity", a.severity},
                          {"reason", a.reason},
                          {"state", a.state},
                          {"approved_by", a.approved_by},
                          {"approved_at", a.approved_at ? util::format_time(*a.approved_at) : ""},
                          {"run_id", a.run_id}};
    return boost::json::serialize(o);
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
        return a;
    } catch (const std::exception& e) {
        throw util::Error(where + ": malformed approval request: " + e.what());
    }
}

} // namespace rollback::state
