// SPDX-License-Identifier: MIT
#include "server/alertmanager.hpp"

#include "util/time.hpp"

#include <boost/json.hpp>

namespace rollback::server {

namespace {

namespace json = boost::json;

bool get_string(const json::object& o, std::string_view key, std::string& out, std::string& why,
                const std::string& where, bool required = true) {
    const json::value* v = o.if_contains(key);
    if (!v) {
        if (required) {
            why = where + std::string(key) + ": missing";
        }
        return !required;
    }
    if (!v->is_string()) {
        why = where + std::string(key) + ": not a string";
        return false;
    }
    out = std::string(v->as_string());
    return true;
}

bool get_map(const json::object& o, std::string_view key, std::map<std::string, std::string>& out,
             std::string& why, const std::string& where) {
    const json::value* v = o.if_contains(key);
    if (!v) {
        return true; // an alert without annotations is common
    }
    if (!v->is_object()) {
        why = where + std::string(key) + ": not an object";
        return false;
    }
    for (const auto& [k, val] : v->as_object()) {
        if (!val.is_string()) {
            why = where + std::string(key) + "." + std::string(k) + ": not a string";
            return false;
        }
        out.emplace(std::string(k), std::string(val.as_string()));
    }
    return true;
}

} // namespace

/// An alert's startsAt or endsAt read by the one time parser and kept as the console writes
/// times (UTC, ending in Z); Go's zero time (Alertmanager's endsAt of a firing alert) is kept
/// as "0001-01-01T00:00:00Z". Absent: stays "". False and `why` when it is no time.
bool normalize_time(std::string& text, std::string& why, const std::string& where,
                    std::string_view key) {
    if (text.empty()) {
        return true;
    }
    constexpr std::string_view k_go_zero = "0001-01-01T00:00:00";
    if (text.rfind(k_go_zero, 0) == 0) {
        text = std::string(k_go_zero) + "Z";
        return true;
    }
    std::string reason;
    const auto t = util::parse_time(text, &reason);
    if (!t) {
        why = where + std::string(key) + ": " + reason;
        return false;
    }
    text = util::format_time(*t);
    return true;
}

std::optional<AlertNotification> parse_alertmanager(std::string_view body, std::string& why) {
    boost::system::error_code ec;
    json::value doc = json::parse(body, ec);
    if (ec) {
        why = "not JSON: " + ec.message();
        return std::nullopt;
    }
    if (!doc.is_object()) {
        why = "not a JSON object";
        return std::nullopt;
    }
    const json::object& o = doc.as_object();
    AlertNotification n;
    if (!get_string(o, "version", n.version, why, "") ||
        !get_string(o, "status", n.status, why, "") ||
        !get_string(o, "groupKey", n.group_key, why, "") ||
        !get_string(o, "receiver", n.receiver, why, "", false)) {
        return std::nullopt;
    }
    if (n.version != "4") {
        why = "version: \"" + n.version + "\" is not 4";
        return std::nullopt;
    }
    const json::value* alerts = o.if_contains("alerts");
    if (!alerts || !alerts->is_array()) {
        why = alerts ? "alerts: not an array" : "alerts: missing";
        return std::nullopt;
    }
    if (alerts->as_array().size() > k_max_alerts) {
        why = "alerts: more than " + std::to_string(k_max_alerts);
        return std::nullopt;
    }
    for (size_t i = 0; i < alerts->as_array().size(); ++i) {
        const std::string where = "alerts[" + std::to_string(i) + "].";
        const json::value& a = alerts->as_array()[i];
        if (!a.is_object()) {
            why = "alerts[" + std::to_string(i) + "]: not an object";
            return std::nullopt;
        }
        const json::object& ao = a.as_object();
        Alert al;
        if (!get_string(ao, "status", al.status, why, where) ||
            !get_string(ao, "fingerprint", al.fingerprint, why, where) ||
            !get_string(ao, "startsAt", al.starts_at, why, where, false) ||
            !get_string(ao, "endsAt", al.ends_at, why, where, false) ||
            !normalize_time(al.starts_at, why, where, "startsAt") ||
            !normalize_time(al.ends_at, why, where, "endsAt") ||
            !get_map(ao, "labels", al.labels, why, where) ||
            !get_map(ao, "annotations", al.annotations, why, where)) {
            return std::nullopt;
        }
        if (al.status != "firing" && al.status != "resolved") {
            why = where + "status: \"" + al.status + "\" is not \"firing\" or \"resolved\"";
            return std::nullopt;
        }
        if (al.fingerprint.empty()) {
            why = where + "fingerprint: empty";
            return std::nullopt;
        }
        n.alerts.push_back(std::move(al));
    }
    return n;
}

} // namespace rollback::server
