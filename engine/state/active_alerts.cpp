// SPDX-License-Identifier: MIT
#include "state/active_alerts.hpp"

#include "util/error.hpp"
#include "util/json_text.hpp"

#include <boost/json.hpp>

namespace rollback::state {

namespace {

constexpr int k_alerts_file_version = 1;

[[noreturn]] void malformed(const std::string& where, const std::string& why) {
    throw util::Error(where + ": " + why, util::ExitCode::run_failed,
                      "move the file aside: the next notification of each alert makes it active "
                      "again");
}

std::string string_of(const boost::json::object& o, const char* key, const std::string& where) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) {
        malformed(where, std::string("an alert without a string \"") + key + "\"");
    }
    return std::string(v->as_string());
}

} // namespace

std::string active_alerts_json(const std::vector<ActiveAlert>& alerts) {
    boost::json::array arr, resolved;
    for (const auto& a : alerts) {
        if (a.resolved) {
            resolved.push_back({{"fingerprint", a.fingerprint},
                                {"starts_at", a.starts_at},
                                {"resolved", util::format_time(*a.resolved)}});
            continue;
        }
        boost::json::object labels;
        for (const auto& [k, v] : a.labels) {
            labels[k] = v;
        }
        boost::json::object o{{"fingerprint", a.fingerprint},
                              {"labels", std::move(labels)},
                              {"starts_at", a.starts_at},
                              {"received", util::format_time(a.received)}};
        if (!a.ends_at.empty()) {
            o["ends_at"] = a.ends_at;
        }
        arr.push_back(std::move(o));
    }
    boost::json::object doc{{"version", k_alerts_file_version}, {"alerts", std::move(arr)}};
    if (!resolved.empty()) {
        doc["resolved"] = std::move(resolved);
    }
    return util::json_text(doc);
}

std::vector<ActiveAlert> parse_active_alerts(const std::string& text, const std::string& where) {
    boost::json::value doc;
    try {
        doc = boost::json::parse(text);
    } catch (const std::exception& e) {
        malformed(where, std::string("not valid JSON: ") + e.what());
    }
    const auto* o = doc.if_object();
    const auto* version = o ? o->if_contains("version") : nullptr;
    if (version == nullptr || !version->is_int64() ||
        version->as_int64() != k_alerts_file_version) {
        malformed(where, "not a version 1 document of active alerts");
    }
    const auto* alerts = o->if_contains("alerts");
    if (alerts == nullptr || !alerts->is_array()) {
        malformed(where, "no \"alerts\" array");
    }
    std::vector<ActiveAlert> out;
    for (const auto& v : alerts->as_array()) {
        if (!v.is_object()) {
            malformed(where, "an alert that is not an object");
        }
        const auto& a = v.as_object();
        ActiveAlert alert;
        alert.fingerprint = string_of(a, "fingerprint", where);
        alert.starts_at = string_of(a, "starts_at", where);
        const auto received = util::parse_time(string_of(a, "received", where));
        if (!received) {
            malformed(where, "alert " + alert.fingerprint + ": \"received\" is not a time");
        }
        alert.received = *received;
        if (a.if_contains("ends_at") != nullptr) {
            alert.ends_at = string_of(a, "ends_at", where);
        }
        const auto* labels = a.if_contains("labels");
        if (labels == nullptr || !labels->is_object()) {
            malformed(where, "alert " + alert.fingerprint + ": no \"labels\" object");
        }
        for (const auto& [k, lv] : labels->as_object()) {
            if (!lv.is_string()) {
                malformed(where, "alert " + alert.fingerprint + ": label " + std::string(k) +
                                     " is not a string");
            }
            alert.labels[std::string(k)] = std::string(lv.as_string());
        }
        out.push_back(std::move(alert));
    }
    if (const auto* resolved = o->if_contains("resolved")) {
        if (!resolved->is_array()) {
            malformed(where, "\"resolved\" is not an array");
        }
        for (const auto& v : resolved->as_array()) {
            if (!v.is_object()) {
                malformed(where, "a resolved alert that is not an object");
            }
            const auto& a = v.as_object();
            ActiveAlert alert;
            alert.fingerprint = string_of(a, "fingerprint", where);
            alert.starts_at = string_of(a, "starts_at", where);
            alert.resolved = util::parse_time(string_of(a, "resolved", where));
            if (!alert.resolved) {
                malformed(where, "alert " + alert.fingerprint + ": \"resolved\" is not a time");
            }
            out.push_back(std::move(alert));
        }
    }
    return out;
}

} // namespace rollback::state
