// SPDX-License-Identifier: MIT
// [server] and the alert conditions of rollback.toml (docs/config.md, "The HTTP server" and
// "Alert conditions").
#include "config/read_server.hpp"

#include "config/promql_type.hpp"
#include "util/files.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace rollback::config {

namespace tree = playbook::tree;

namespace {

using playbook::TomlReader;

const std::vector<std::string> k_server_keys = {"listen", "token_file", "token_env", "max_body"};
const std::vector<std::string> k_alert_keys = {"name", "kind",          "match",  "severity",
                                               "mode", "resolve_after", "confirm"};

constexpr uint64_t k_min_body = 1024;
constexpr uint64_t k_max_body = 64ull * 1024 * 1024;

/// "127.0.0.1:9095", "[::1]:9095" → host, port. Only IP literals: a name would be resolved
/// to an address the config does not show.
bool parse_listen(const std::string& text, ServerConfig& s, std::string& why) {
    std::string host, port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            why = "an IPv6 address is written [ADDRESS]:PORT";
            return false;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        in6_addr a6{};
        if (inet_pton(AF_INET6, host.c_str(), &a6) != 1) {
            why = util::quoted(host) + " is not an IPv6 address";
            return false;
        }
        s.loopback = IN6_IS_ADDR_LOOPBACK(&a6);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos) {
            why = "expected ADDRESS:PORT";
            return false;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        in_addr a4{};
        if (inet_pton(AF_INET, host.c_str(), &a4) != 1) {
            why = util::quoted(host) + " is not an IPv4 address (write IPv6 as [::1]:PORT)";
            return false;
        }
        s.loopback = (ntohl(a4.s_addr) >> 24) == 127;
    }
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }) ||
        std::stoul(port) == 0 || std::stoul(port) > 65535) {
        why = "the port is a number from 1 to 65535";
        return false;
    }
    s.host = host;
    s.port = static_cast<uint16_t>(std::stoul(port));
    return true;
}

/// "1MiB", "512KiB", "2MB", "65536" → bytes.
std::optional<uint64_t> parse_size(std::string_view text) {
    size_t i = 0;
    uint64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        if (n > k_max_body) {
            return std::nullopt;
        }
        n = n * 10 + static_cast<uint64_t>(text[i] - '0');
        ++i;
    }
    if (i == 0) {
        return std::nullopt;
    }
    const std::string_view unit = text.substr(i);
    uint64_t mult = 0;
    if (unit.empty() || unit == "B") {
        mult = 1;
    } else if (unit == "KiB") {
        mult = 1024;
    } else if (unit == "MiB") {
        mult = 1024 * 1024;
    } else if (unit == "kB" || unit == "KB") {
        mult = 1000;
    } else if (unit == "MB") {
        mult = 1000 * 1000;
    } else {
        return std::nullopt;
    }
    return n * mult;
}

// Whitespace around the token goes, as Prometheus' and Alertmanager's credentials_file
// (strings.TrimSpace) read it: what a sender reading the same file sends.
std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
        s.pop_back();
    }
    size_t start = 0;
    while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) {
        ++start;
    }
    return s.substr(start);
}

/// A token is one word: whitespace or a control character inside it (two lines, a pasted
/// "Bearer x") is no token any sender sends.
bool one_word(const std::string& token) {
    return std::none_of(token.begin(), token.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return std::isspace(c) || c < 0x20 || c == 0x7f;
    });
}

} // namespace

void read_server(TomlReader& rd, const tree::Table& t, const std::filesystem::path& base_dir,
                 Config& cfg) {
    const std::string subject = "server";
    rd.check_keys(t, subject, k_server_keys);
    ServerConfig s;
    s.where = rd.where(t);
    if (auto l = rd.get_string(t, "listen", subject)) {
        std::string why;
        s.listen = *l;
        if (!parse_listen(*l, s, why)) {
            rd.error(rd.where(*t.get("listen")), subject, "key \"listen\": " + why,
                     "e.g. listen = \"127.0.0.1:9095\" or \"[::1]:9095\"");
        }
    } else {
        std::string why;
        parse_listen(s.listen, s, why);
    }
    if (auto m = rd.get_string(t, "max_body", subject)) {
        auto n = parse_size(*m);
        if (!n || *n < k_min_body || *n > k_max_body) {
            rd.error(rd.where(*t.get("max_body")), subject,
                     "key \"max_body\": " + util::quoted(*m) + " is not a size from 1KiB to 64MiB",
                     "e.g. max_body = \"1MiB\"");
        } else {
            s.max_body = *n;
        }
    }
    if (t.contains("token_file") && t.contains("token_env")) {
        rd.error(rd.key_where(t, "token_env"), subject,
                 "key \"token_env\" and key \"token_file\" exclude each other");
    } else if (auto f = rd.get_string(t, "token_file", subject)) {
        const std::filesystem::path p =
            std::filesystem::path(*f).is_absolute() ? std::filesystem::path(*f) : base_dir / *f;
        try {
            s.token = trim(util::read_input_file(p, 4096));
            if (s.token.empty()) {
                rd.error(rd.where(*t.get("token_file")), subject,
                         "key \"token_file\": " + p.string() + " is empty");
            } else if (!one_word(s.token)) {
                util::register_secret(s.token);
                rd.error(rd.where(*t.get("token_file")), subject,
                         "key \"token_file\": the token in " + p.string() +
                             " has whitespace or a control character inside it (a second line?)",
                         "write the token alone on one line (surrounding whitespace is ignored)");
                s.token.clear();
            }
        } catch (const util::Error& e) {
            rd.error(rd.where(*t.get("token_file")), subject,
                     "key \"token_file\": " + std::string(e.what()));
        }
    } else if (auto e = rd.get_string(t, "token_env", subject)) {
        const char* v = std::getenv(e->c_str());
        s.token = trim(v ? v : "");
        if (s.token.empty()) {
            rd.error(rd.where(*t.get("token_env")), subject,
                     "key \"token_env\": the environment variable " + util::quoted(*e) +
                         " is not set or empty");
        } else if (!one_word(s.token)) {
            util::register_secret(s.token);
            rd.error(rd.where(*t.get("token_env")), subject,
                     "key \"token_env\": the token in " + util::quoted(*e) +
                         " has whitespace or a control character inside it");
            s.token.clear();
        }
    }
    if (!s.token.empty()) {
        util::register_secret(s.token);
    } else if (!s.loopback && !s.host.empty()) {
        rd.error(t.get("listen") ? rd.where(*t.get("listen")) : s.where, subject,
                 "listening on " + s.listen + ", which is not a loopback address, needs a token",
                 "set token_file = \"...\" or token_env = \"NAME\", or listen on 127.0.0.1");
    }
    cfg.server = std::move(s);
}

void read_alert_condition(TomlReader& rd, const tree::Table& t, size_t index, Config& cfg) {
    std::string subject = "condition #" + std::to_string(index + 1);
    auto name = rd.get_string(t, "name", subject);
    if (name) {
        subject = "condition " + util::quoted(*name);
    }
    rd.check_keys(t, subject, k_alert_keys);
    rd.require(t, "name", subject, rd.where(t));
    rd.require(t, "match", subject, rd.where(t));
    AlertCondition a;
    a.where = rd.where(t);
    auto& c = a.spec;
    c.name = name.value_or("");
    if (std::any_of(c.name.begin(), c.name.end(),
                    [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; })) {
        rd.error(rd.key_where(t, "name"), subject, "a condition name has no control characters",
                 "name conditions like \"checkout-errors\"");
    }
    auto same_name = [&](const std::string& other) { return !c.name.empty() && other == c.name; };
    if (std::any_of(cfg.conditions.begin(), cfg.conditions.end(),
                    [&](const auto& o) { return same_name(o.name); }) ||
        std::any_of(cfg.alert_conditions.begin(), cfg.alert_conditions.end(),
                    [&](const auto& o) { return same_name(o.spec.name); })) {
        rd.error(rd.key_where(t, "name"), subject, "duplicate condition name");
    }
    if (const tree::Table* m = rd.get_table(t, "match", subject)) {
        for (auto&& [k, v] : *m) {
            if (auto str = v.value<std::string>(); str && v.is_string()) {
                a.match.push_back({std::string(k.str()), *str});
            } else {
                rd.type_error(v, "match." + std::string(k.str()), subject, "a string");
            }
        }
        if (m->empty()) {
            rd.error(rd.key_where(t, "match"), subject,
                     "key \"match\": at least one label, or every alert would match",
                     "e.g. match = { alertname = \"HighErrorRate\", service = \"shop\" }");
        }
        // As in Alertmanager, label = "" matches an alert WITHOUT that label: a set of only
        // such matchers matches nearly every alert (Watchdog, every other team's), so it is
        // refused.
        const bool all_empty =
            !m->empty() && std::all_of(a.match.begin(), a.match.end(),
                                       [](const auto& mt) { return mt.value.empty(); });
        if (all_empty) {
            rd.error(rd.key_where(t, "match"), subject,
                     "key \"match\": every label has the empty value, which matches every alert "
                     "without those labels (Alertmanager's semantics): nearly every alert would "
                     "match",
                     "name at least one label with a value, e.g. match = { alertname = "
                     "\"HighErrorRate\", service = \"shop\" }; label = \"\" beside it means "
                     "\"without that label\"");
        }
    }
    c.source = "alerts:" + c.name;
    c.signal = decision::Signal::value;
    c.above = 0;
    c.counting = decision::Counting::immediate;
    c.severity = decision::Severity::critical;
    if (auto sv = rd.get_string(t, "severity", subject)) {
        if (auto p = decision::parse_severity(*sv)) {
            c.severity = *p;
        } else {
            rd.error(rd.where(*t.get("severity")), subject,
                     "key \"severity\": " + util::quoted(*sv) +
                         " is not one of \"warning\", \"high\", \"critical\"");
        }
    }
    if (auto md = rd.get_string(t, "mode", subject)) {
        if (auto p = decision::parse_mode(*md)) {
            c.mode = *p;
        } else {
            rd.error(rd.where(*t.get("mode")), subject,
                     "key \"mode\": " + util::quoted(*md) +
                         " is not one of \"auto\", \"confirm\", \"observe\"");
        }
    }
    if (auto r = rd.get_duration(t, "resolve_after", subject)) {
        c.resolve_after = *r;
    }
    if (const tree::Table* ct = rd.get_table(t, "confirm", subject)) {
        AlertCondition::Confirm confirm;
        confirm.where = rd.key_where(t, "confirm");
        rd.check_keys(*ct, subject + ": confirm", {"source", "above", "below"});
        confirm.source = rd.get_string(*ct, "source", subject + ": confirm").value_or("");
        if (!ct->get("source")) {
            rd.error(confirm.where, subject, "key \"confirm\": no \"source\"",
                     "confirm = { source = \"errors\", above = 0.05 } names a prometheus source");
        }
        const tree::Node* above = ct->get("above");
        const tree::Node* below = ct->get("below");
        if ((above == nullptr) == (below == nullptr)) {
            rd.error(confirm.where, subject,
                     "key \"confirm\": exactly one of \"above\" and \"below\"",
                     "the alert counts when the query's value is above (or below) it");
        } else {
            const tree::Node& n = above ? *above : *below;
            confirm.above = above != nullptr;
            if (auto v = n.value<double>(); v && (n.is_number()) && std::isfinite(*v)) {
                confirm.threshold = *v;
            } else {
                rd.type_error(n, above ? "confirm.above" : "confirm.below", subject, "a number");
            }
        }
        a.confirm = std::move(confirm);
    }
    // Every evaluation of the alert conditions observes the alerts active at that moment.
    c.on_no_data = decision::Policy::ignore;
    cfg.alert_conditions.push_back(std::move(a));
}

namespace {

/// The confirmation reads an instant vector: the query's number, then timestamp(QUERY) for the
/// time of its sample (monitor/confirm.cpp). A query that cannot be one never confirms: its
/// alerts would stay no_data for good, found at the first incident instead of here.
void check_confirming_query(TomlReader& rd, const AlertCondition& a, const SourceConfig& src,
                            const std::string& subject) {
    const PromqlReading r = read_promql(src.query);
    const std::string which =
        "key \"confirm\": the query of source " + util::quoted(src.name) + " can never confirm: ";
    if (!r.problem.empty()) {
        std::string near = src.query.substr(r.offset, 24);
        near = near.substr(0, near.find('\n'));
        rd.error(a.confirm->where, subject,
                 which + "Prometheus refuses it: " + r.problem + " at byte " +
                     std::to_string(r.offset + 1) +
                     (near.empty() ? std::string(" (its end)") : " (" + util::quoted(near) + ")"),
                 r.hint.empty() ? "try it in Prometheus' expression browser, or: promtool query "
                                  "instant URL 'QUERY'"
                                : r.hint);
    } else if (r.type && *r.type != PromqlType::instant_vector) {
        rd.error(a.confirm->where, subject,
                 which + "it returns a " + std::string(to_string(*r.type)) +
                     ", and the confirmation reads an instant vector (its number, and "
                     "timestamp(QUERY) for the time of its sample)",
                 *r.type == PromqlType::scalar
                     ? "query the series itself, e.g. sum(rate(http_requests_total{code=~\"5..\"}"
                       "[5m])) / sum(rate(http_requests_total[5m])), not scalar(...) or a number"
                 : *r.type == PromqlType::range_vector
                     ? "one number per series: rate(x[5m]) or max_over_time(x[5m]), not x[5m]"
                     : "query a series");
    }
}

} // namespace

void check_alert_confirmations(TomlReader& rd, const Config& cfg) {
    for (const auto& a : cfg.alert_conditions) {
        if (!a.confirm || a.confirm->source.empty()) {
            continue;
        }
        const std::string subject = "condition " + util::quoted(a.spec.name);
        auto src = cfg.sources.find(a.confirm->source);
        if (src == cfg.sources.end()) {
            rd.error(a.confirm->where, subject,
                     "key \"confirm\": no source " + util::quoted(a.confirm->source),
                     "add [source." + a.confirm->source + "] with kind = \"prometheus\"");
        } else if (src->second.kind != SourceKind::prometheus) {
            rd.error(a.confirm->where, subject,
                     "key \"confirm\": source " + util::quoted(a.confirm->source) + " is a " +
                         std::string(to_string(src->second.kind)) +
                         " source; an alert is confirmed by a prometheus query");
        } else {
            check_confirming_query(rd, a, src->second, subject);
        }
    }
}

void read_webhook(TomlReader& rd, const std::string& name, const tree::Table& t, Config& cfg) {
    const std::string subject = "webhook " + util::quoted(name);
    rd.check_keys(t, subject,
                  {"alerts", "status", "firing", "resolved", "fingerprint", "labels", "starts_at",
                   "ends_at", "expire_after"});
    server::WebhookSpec w;
    w.name = name;
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](unsigned char c) {
            return std::islower(c) || std::isdigit(c) || c == '-' || c == '_';
        })) {
        rd.error(rd.where(t), subject,
                 "a webhook name is its URL path segment: lower-case letters, digits, - and _");
    }
    rd.require(t, "fingerprint", subject, rd.where(t));
    w.fingerprint = rd.get_string(t, "fingerprint", subject).value_or("");
    w.alerts = rd.get_string(t, "alerts", subject).value_or("");
    w.status = rd.get_string(t, "status", subject).value_or("");
    if (auto f = rd.get_string_array(t, "firing", subject)) {
        w.firing = *f;
    }
    if (auto r = rd.get_string_array(t, "resolved", subject)) {
        w.resolved = *r;
    }
    w.starts_at = rd.get_string(t, "starts_at", subject).value_or("");
    w.ends_at = rd.get_string(t, "ends_at", subject).value_or("");
    // A selector's mistake is the config's, found here: at the first real alert it would be a
    // 400 the sender may drop (Grafana and Sentry do not retry a 4xx), or a label never set.
    for (const char* key : {"fingerprint", "alerts", "status", "starts_at", "ends_at"}) {
        const std::string* path = key == std::string_view("fingerprint") ? &w.fingerprint
                                  : key == std::string_view("alerts")    ? &w.alerts
                                  : key == std::string_view("status")    ? &w.status
                                  : key == std::string_view("starts_at") ? &w.starts_at
                                                                         : &w.ends_at;
        const bool may_be_empty = key != std::string_view("fingerprint");
        if (!t.get(key) || (path->empty() && may_be_empty)) {
            continue;
        }
        if (auto why = server::path_problem(*path); !why.empty()) {
            rd.error(rd.key_where(t, key), subject, "key \"" + std::string(key) + "\": " + why);
        }
    }
    const bool resolves = !w.status.empty() && !w.resolved.empty();
    w.expire_after = resolves ? util::Millis{0} : server::k_default_expire_after;
    if (auto e = rd.get_duration(t, "expire_after", subject)) {
        w.expire_after = *e;
    }
    if (const tree::Table* l = rd.get_table(t, "labels", subject)) {
        for (auto&& [k, v] : *l) {
            if (auto str = v.value<std::string>(); str && v.is_string()) {
                if (auto why = server::path_problem(*str); !why.empty()) {
                    rd.error(rd.where(v), subject,
                             "key \"labels." + std::string(k.str()) + "\": " + why);
                }
                w.labels[std::string(k.str())] = *str;
            } else {
                rd.type_error(v, "labels." + std::string(k.str()), subject, "a string (a path)");
            }
        }
    }
    cfg.webhooks.push_back(std::move(w));
}

bool matches(const AlertCondition& c, const std::map<std::string, std::string>& labels) {
    for (const auto& m : c.match) {
        auto it = labels.find(m.name);
        const std::string& v = it == labels.end() ? std::string() : it->second;
        if (v != m.value) {
            return false;
        }
    }
    return true;
}

} // namespace rollback::config
