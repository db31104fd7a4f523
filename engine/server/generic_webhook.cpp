// SPDX-License-Identifier: MIT
#include "server/generic_webhook.hpp"

#include <algorithm>
#include <boost/json.hpp>

namespace rollback::server {

namespace {

namespace json = boost::json;

const json::value* select(const json::value& root, const std::string& path) {
    const json::value* v = &root;
    size_t start = 0;
    while (v && start <= path.size()) {
        const size_t dot = path.find('.', start);
        const std::string part =
            path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (v->is_object()) {
            v = v->as_object().if_contains(part);
        } else if (v->is_array() && !part.empty() &&
                   std::all_of(part.begin(), part.end(),
                               [](char c) { return c >= '0' && c <= '9'; }) &&
                   part.size() < 10 && std::stoul(part) < v->as_array().size()) {
            v = &v->as_array()[std::stoul(part)];
        } else {
            return nullptr;
        }
        if (dot == std::string::npos) {
            break;
        }
        start = dot + 1;
    }
    return v;
}

/// A scalar as text: strings as they are, numbers and booleans as JSON writes them.
std::optional<std::string> text_of(const json::value* v) {
    if (!v || v->is_object() || v->is_array() || v->is_null()) {
        return std::nullopt;
    }
    if (v->is_string()) {
        return std::string(v->as_string());
    }
    return json::serialize(*v);
}

} // namespace

std::optional<AlertNotification> parse_webhook(std::string_view body, const WebhookSpec& spec,
                                               std::string& why) {
    boost::system::error_code ec;
    json::value doc = json::parse(body, ec);
    if (ec) {
        why = "not JSON: " + ec.message();
        return std::nullopt;
    }
    std::vector<const json::value*> items;
    if (spec.alerts.empty()) {
        items.push_back(&doc);
    } else {
        const json::value* a = select(doc, spec.alerts);
        if (!a || !a->is_array()) {
            why = spec.alerts + ": " + (a ? "not an array" : "missing");
            return std::nullopt;
        }
        if (a->as_array().size() > k_max_alerts) {
            why = spec.alerts + ": more than " + std::to_string(k_max_alerts) + " alerts";
            return std::nullopt;
        }
        for (const auto& v : a->as_array()) {
            items.push_back(&v);
        }
    }
    AlertNotification n;
    n.version = "generic";
    n.receiver = spec.name;
    n.group_key = spec.name;
    n.status = "resolved";
    for (size_t i = 0; i < items.size(); ++i) {
        const std::string where =
            spec.alerts.empty() ? std::string() : spec.alerts + "." + std::to_string(i) + ".";
        Alert al;
        al.status = "firing";
        if (!spec.status.empty()) {
            auto st = text_of(select(*items[i], spec.status));
            if (!st) {
                why = where + spec.status + ": missing";
                return std::nullopt;
            }
            const bool firing =
                std::find(spec.firing.begin(), spec.firing.end(), *st) != spec.firing.end();
            const bool resolved =
                std::find(spec.resolved.begin(), spec.resolved.end(), *st) != spec.resolved.end();
            if (!firing && !resolved) {
                why = where + spec.status + ": \"" + *st + "\" is neither firing nor resolved";
                return std::nullopt;
            }
            al.status = firing ? "firing" : "resolved";
        }
        auto fp = text_of(select(*items[i], spec.fingerprint));
        if (!fp || fp->empty()) {
            why = where + spec.fingerprint + ": missing";
            return std::nullopt;
        }
        al.fingerprint = spec.name + ":" + *fp;
        for (const auto& [label, path] : spec.labels) {
            if (auto v = text_of(select(*items[i], path))) {
                al.labels[label] = *v;
            }
        }
        if (al.status == "firing") {
            n.status = "firing";
        }
        n.alerts.push_back(std::move(al));
    }
    return n;
}

} // namespace rollback::server
