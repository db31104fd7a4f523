// SPDX-License-Identifier: MIT
#include "server/generic_webhook.hpp"

#include "util/json_text.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <utility>

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

/// A number as text in one form, so that equal numbers are equal texts: an integer as its
/// digits (100, 1e2 and 100.0 are "100"; 0.0 is "0"), any other number as the shortest text
/// that reads back as the same double ("0.25"). A number that is neither an exact 64-bit
/// integer nor below 2^53 in magnitude was rounded when read (a 23-digit id): nullopt, and
/// `inexact` says so — two such ids could not be told apart.
std::optional<std::string> number_text(const json::value& v, std::string& inexact) {
    if (v.is_int64()) {
        return std::to_string(v.as_int64());
    }
    if (v.is_uint64()) {
        return std::to_string(v.as_uint64());
    }
    const double d = v.as_double();
    constexpr double k_exact = 9007199254740992.0; // 2^53
    if (!std::isfinite(d) || std::fabs(d) >= k_exact) {
        inexact = "the number " + util::json_text(v) +
                  " is not exact past 2^53 (distinct values would look the same): send it as a "
                  "string";
        return std::nullopt;
    }
    if (d == std::trunc(d)) {
        return std::to_string(static_cast<std::int64_t>(d));
    }
    std::array<char, 32> buf{};
    const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), d);
    return std::string(buf.data(), res.ptr);
}

/// A scalar as text: strings as they are, booleans as JSON writes them, numbers as number_text
/// does (nullopt and `inexact` for one it cannot keep exactly).
std::optional<std::string> text_of(const json::value* v, std::string& inexact) {
    if (!v || v->is_object() || v->is_array() || v->is_null()) {
        return std::nullopt;
    }
    if (v->is_string()) {
        return std::string(v->as_string());
    }
    if (v->is_number()) {
        return number_text(*v, inexact);
    }
    return util::json_text(*v);
}

} // namespace

std::string path_problem(const std::string& path) {
    if (path.empty()) {
        return "an empty path";
    }
    size_t start = 0;
    while (true) {
        const size_t dot = path.find('.', start);
        if (dot == start || (dot == std::string::npos && start == path.size())) {
            return "an empty segment in \"" + path + "\" (paths are dotted names: data.issue.id)";
        }
        if (dot == std::string::npos) {
            return "";
        }
        start = dot + 1;
    }
}

std::optional<AlertNotification> parse_webhook(std::string_view body, const WebhookSpec& spec,
                                               std::string& why, util::SystemTime received) {
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
            std::string inexact;
            auto st = text_of(select(*items[i], spec.status), inexact);
            if (!st) {
                why = where + spec.status + ": " + (inexact.empty() ? "missing" : inexact);
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
        std::string inexact;
        auto fp = text_of(select(*items[i], spec.fingerprint), inexact);
        if (!fp || fp->empty()) {
            why = where + spec.fingerprint + ": " + (inexact.empty() ? "missing" : inexact);
            return std::nullopt;
        }
        al.fingerprint = spec.name + ":" + *fp;
        for (const auto& [label, path] : spec.labels) {
            if (auto v = text_of(select(*items[i], path), inexact)) {
                al.labels[label] = *v;
            } else if (!inexact.empty()) {
                why = where + path + ": " + inexact;
                return std::nullopt;
            }
        }
        for (auto [path, out] :
             {std::pair{&spec.starts_at, &al.starts_at}, std::pair{&spec.ends_at, &al.ends_at}}) {
            if (path->empty()) {
                continue;
            }
            if (auto v = text_of(select(*items[i], *path), inexact)) {
                *out = *v;
            }
            if (!normalize_time(*out, why, where, *path)) {
                return std::nullopt;
            }
        }
        const bool no_end = al.ends_at.empty() || al.ends_at.rfind("0001-01-01", 0) == 0;
        if (al.status == "firing" && no_end && spec.expire_after.count() > 0) {
            al.ends_at = util::format_time(received + spec.expire_after);
        }
        if (al.status == "firing") {
            n.status = "firing";
        }
        n.alerts.push_back(std::move(al));
    }
    return n;
}

} // namespace rollback::server
