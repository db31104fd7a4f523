// SPDX-License-Identifier: MIT
#include "config/config.hpp"
#include "util/ca_file.hpp"

#include "config/classify.hpp"
#include "config/read_condition.hpp"
#include "config/read_server.hpp"
#include "db/connection.hpp"
#include "playbook/parsed_file_tree.hpp"
#include "playbook/toml_reader.hpp"
#include "sources/access_log.hpp"
#include "util/canonical_path.hpp"
#include "util/duration.hpp"
#include "util/files.hpp"
#include "util/http_client.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cmath>

namespace rollback::config {

namespace tree = playbook::tree;

namespace {

using decision::ConditionSpec;
using decision::Signal;
using playbook::TomlReader;

const std::vector<std::string> k_top_keys = {"target", "source",  "condition", "decision",
                                             "server", "webhook", "state"};
const std::vector<std::string> k_state_keys = {"dsn", "schema", "lease"};
const std::vector<std::string> k_target_keys = {"name", "state_dir", "state"};
const std::vector<std::string> k_decision_keys = {
    "mode", "playbook", "cooldown", "watch_after", "interval", "hooks", "approval_timeout"};
std::vector<std::string> source_keys(SourceKind k) {
    std::vector<std::string> keys = {"kind", "interval", "timeout"};
    switch (k) {
    case SourceKind::http:
        keys.insert(keys.end(), {"url", "expect_status", "ca_file", "insecure"});
        break;
    case SourceKind::access_log:
        keys.insert(keys.end(), {"path", "format", "max_lateness"});
        break;
    case SourceKind::prometheus:
        keys.insert(keys.end(), {"url", "query", "ca_file", "insecure"});
        break;
    case SourceKind::sql:
        keys.insert(keys.end(), {"dsn", "query"});
        break;
    case SourceKind::command:
        keys.insert(keys.end(), {"argv"});
        break;
    }
    return keys;
}

// A connection string is checked here by the very parser every command that connects uses
// (db::Dsn::parse, libpq's): what validate accepts, status and run accept, and what they refuse
// is an error at its key now. Parsing also registers its password as a secret.
void check_dsn(TomlReader& rd, const std::string& dsn, util::Location at,
               const std::string& subject) {
    try {
        db::Dsn::parse(dsn);
    } catch (const util::Error& e) {
        rd.error(std::move(at), subject, e.what(),
                 "a postgresql:// URI or libpq key=value pairs, values with spaces or quotes "
                 "in '...' (docs/config.md)");
    }
}

void read_source(TomlReader& rd, const std::string& name, const tree::Table& t, Config& cfg,
                 const std::filesystem::path& base_dir) {
    const std::string subject = "source " + util::quoted(name);
    SourceConfig s;
    s.name = name;
    s.where = rd.where(t);
    auto kind = rd.get_string(t, "kind", subject);
    if (!rd.require(t, "kind", subject, rd.where(t)) || !kind) {
        return;
    }
    const std::vector<std::string> kinds = {"http", "access_log", "prometheus", "sql", "command"};
    auto it = std::find(kinds.begin(), kinds.end(), *kind);
    if (it == kinds.end()) {
        std::string guess = util::closest_match(*kind, kinds);
        rd.error(rd.where(*t.get("kind")), subject,
                 "unknown kind " + util::quoted(*kind) +
                     (guess.empty() ? "" : " (did you mean " + util::quoted(guess) + "?)"),
                 "kinds: http, access_log, prometheus, sql, command");
        return;
    }
    s.kind = static_cast<SourceKind>(it - kinds.begin());
    rd.check_keys(t, subject, source_keys(s.kind));
    if (auto d = rd.get_duration(t, "interval", subject)) {
        if (d->count() < 1000 || d->count() % 1000 != 0) {
            rd.error(rd.key_where(t, "interval"), subject,
                     "key \"interval\": a whole number of seconds, at least 1s");
        }
        s.interval = *d;
    }
    if (auto d = rd.get_duration(t, "timeout", subject)) {
        s.timeout = *d;
    }
    auto need = [&](std::string_view key) { return rd.require(t, key, subject, rd.where(t)); };
    switch (s.kind) {
    case SourceKind::http:
    case SourceKind::prometheus: {
        need("url");
        s.url = rd.get_string(t, "url", subject).value_or("");
        std::optional<util::HttpUrl> url;
        if (std::string why; !s.url.empty() && !(url = util::parse_http_url(s.url, &why))) {
            rd.error(rd.where(*t.get("url")), subject, "key \"url\": " + why);
        }
        if (auto ca = rd.get_string(t, "ca_file", subject)) {
            s.tls.ca_file = (std::filesystem::path(*ca).is_absolute() ? std::filesystem::path(*ca)
                                                                      : base_dir / *ca)
                                .lexically_normal()
                                .string();
            // Loaded as the probe will: a file there without a certificate is an error now, not
            // verdict `error` at every tick (one not there yet is the deployment's: `validate
            // -c` reads a config for another host too).
            std::error_code ec;
            if (auto problem = std::filesystem::exists(s.tls.ca_file, ec)
                                   ? util::ca_file_problem(s.tls.ca_file)
                                   : std::string();
                !problem.empty()) {
                rd.error(rd.key_where(t, "ca_file"), subject,
                         "key \"ca_file\": " + s.tls.ca_file + ": " + problem,
                         "a PEM file of the CA certificates to trust");
            }
        }
        s.tls.insecure = rd.get_bool(t, "insecure", subject).value_or(false);
        if (url && !url->tls && (t.contains("ca_file") || t.contains("insecure"))) {
            rd.error(rd.key_where(t, t.contains("ca_file") ? "ca_file" : "insecure"), subject,
                     "only for an https:// url");
        }
        if (s.tls.insecure) {
            cfg.warnings.push_back({rd.key_where(t, "insecure"), subject,
                                    "insecure = true: the server's certificate and name are not "
                                    "verified, so anyone on the path can answer for it",
                                    "trust a private CA with ca_file = \"...\" instead"});
        }
        if (s.kind == SourceKind::prometheus) {
            need("query");
            s.query = rd.get_string(t, "query", subject).value_or("");
        } else if (auto n = rd.get_int(t, "expect_status", subject, 100, 599)) {
            s.expect_status = static_cast<int>(*n);
        }
        break;
    }
    case SourceKind::access_log: {
        need("path");
        auto p = rd.get_string(t, "path", subject);
        if (p) {
            s.path =
                std::filesystem::path(*p).is_absolute() ? std::filesystem::path(*p) : base_dir / *p;
        }
        if (auto f = rd.get_string(t, "format", subject)) {
            s.format = *f;
        }
        if (auto d = rd.get_duration(t, "max_lateness", subject)) {
            if (d->count() % 1000 != 0 || *d > std::chrono::hours(24)) {
                rd.error(rd.key_where(t, "max_lateness"), subject,
                         "key \"max_lateness\": a whole number of seconds, at most 24h");
            }
            s.max_lateness = *d;
        }
        // Compiled here (once more by the reader) so that a format the monitor could not parse
        // is a located error now, not a broken check at every tick.
        try {
            s.has_latency = sources::LogFormat::compile(s.format).has_latency();
        } catch (const util::Error& e) {
            rd.error(t.get("format") ? rd.where(*t.get("format")) : rd.where(t), subject,
                     "key \"format\": " + std::string(e.what()),
                     "a named format (combined, combined_request_time, "
                     "combined_request_time_us) or an nginx log_format "
                     "string with $status and $time_local, $time_iso8601 or $msec");
        }
        break;
    }
    case SourceKind::sql:
        need("dsn");
        need("query");
        s.dsn = rd.get_string(t, "dsn", subject).value_or("");
        s.query = rd.get_string(t, "query", subject).value_or("");
        check_dsn(rd, s.dsn, t.get("dsn") ? rd.where(*t.get("dsn")) : rd.where(t), subject);
        break;
    case SourceKind::command:
        need("argv");
        if (auto a = rd.get_string_array(t, "argv", subject)) {
            s.argv = *a;
            if (s.argv.empty()) {
                rd.error(rd.key_where(t, "argv"), subject, "key \"argv\": the command is empty");
            }
        }
        break;
    }
    cfg.sources[name] = std::move(s);
}

// Valid, but likely not what was meant: a source sampled less often than the conditions are
// evaluated (each sample is judged once, the ticks between hold: docs/decision.md, "Counting"),
// a read whose timeout reaches the decision interval (a hanging read skips ticks), and a window
// shorter than its source's interval (most ticks would see no sample at all).
void warn_of_coarse_sources(TomlReader& rd, const tree::Table& doc, Config& cfg) {
    const tree::Table* srcs = doc.get_table("source");
    for (const auto& [name, src] : cfg.sources) {
        const tree::Table* t = srcs ? srcs->get_table(name) : nullptr;
        if (t != nullptr && src.kind != SourceKind::access_log && src.timeout >= cfg.interval) {
            // A tick waits for its reads: a read that hangs until its timeout makes the
            // boundaries passed meanwhile skipped (docs/decision.md, "trigger and monitor").
            cfg.warnings.push_back(
                {t->contains("timeout") ? rd.key_where(*t, "timeout") : rd.where(*t),
                 "source " + util::quoted(name),
                 "timeout " + util::format_duration(src.timeout) +
                     " is not shorter than the decision interval " +
                     util::format_duration(cfg.interval) +
                     ": while a read hangs until its timeout, the evaluations of the interval "
                     "boundaries passed meanwhile are skipped, for every condition (the counting "
                     "advances more slowly than a replay of the same log)",
                 "set the source's timeout below the [decision] interval"});
        }
        if (t == nullptr || src.interval <= cfg.interval) {
            continue;
        }
        cfg.warnings.push_back(
            {rd.key_where(*t, "interval"), "source " + util::quoted(name),
             "interval " + util::format_duration(src.interval) +
                 " is coarser than the decision interval " + util::format_duration(cfg.interval) +
                 ": each sample is judged once, at the first evaluation after it; the " +
                 "evaluations between hold (for, consecutive and m_of_n count samples)",
             "set the source's interval to the [decision] interval, or the [decision] interval "
             "to the source's (docs/decision.md, \"Counting\")"});
    }
    const tree::Array* conds = doc.get_array("condition");
    if (conds == nullptr) {
        return;
    }
    for (const auto& c : cfg.conditions) {
        auto src = cfg.sources.find(c.source);
        if (src == cfg.sources.end() || c.window >= src->second.interval) {
            continue;
        }
        for (const auto& node : *conds) {
            const tree::Table* t = node.as_table();
            if (t != nullptr && t->get("window") != nullptr && t->get("name") != nullptr &&
                t->get("name")->is_string() && t->get("name")->string() == c.name) {
                cfg.warnings.push_back(
                    {rd.key_where(*t, "window"), "condition " + util::quoted(c.name),
                     "window " + util::format_duration(c.window) +
                         " is shorter than the interval " +
                         util::format_duration(src->second.interval) + " of source " +
                         util::quoted(c.source) +
                         ": most evaluations see no sample (no_data) and reset the counting",
                     "make the window at least the source's interval"});
            }
        }
    }
}

// A config whose conditions can decide a trigger must name the playbook it runs: else the
// monitor decides a rollback it cannot start (break-it 44/08). Not an error of the parse (check
// and check --replay run nothing): Config::no_playbook, which `validate -c` refuses.
void check_playbook_given(const TomlReader& rd, const tree::Table& doc, Config& cfg,
                          const std::vector<util::Location>& condition_where) {
    if (!cfg.playbook.empty()) {
        return;
    }
    auto acts = [&](const decision::ConditionSpec& c) {
        return c.mode.value_or(cfg.decision.mode) != decision::Mode::observe &&
               c.severity != decision::Severity::warning;
    };
    const decision::ConditionSpec* first = nullptr;
    util::Location at;
    for (size_t i = 0; i < cfg.conditions.size() && !first; ++i) {
        if (acts(cfg.conditions[i]) && i < condition_where.size()) {
            first = &cfg.conditions[i];
            at = condition_where[i];
        }
    }
    for (size_t i = 0; i < cfg.alert_conditions.size() && !first; ++i) {
        if (acts(cfg.alert_conditions[i].spec)) {
            first = &cfg.alert_conditions[i].spec;
            at = cfg.alert_conditions[i].where;
        }
    }
    if (!first) {
        return;
    }
    const tree::Node* decision = doc.get("decision");
    cfg.no_playbook = util::Diagnostic{
        decision && decision->as_table() ? rd.where(*decision) : at, "decision",
        "condition " + util::quoted(first->name) + " can decide a trigger (mode " +
            util::quoted(
                std::string(decision::to_string(first->mode.value_or(cfg.decision.mode)))) +
            ", severity above \"warning\"), but there is no [decision] playbook to run: the "
            "monitor would decide a rollback and start nothing",
        "name the rollback playbook under [decision] (playbook = \"playbooks/rollback.toml\"); "
        "or decide without acting: mode = \"observe\" (or severity = \"warning\" to notify "
        "only)"};
}

} // namespace

std::string_view to_string(SourceKind k) {
    static constexpr std::string_view names[] = {"http", "access_log", "prometheus", "sql",
                                                 "command"};
    return names[static_cast<int>(k)];
}

Config parse(std::string_view text, const std::string& display_path,
             const std::filesystem::path& base_dir) {
    TomlReader rd(display_path);
    const auto parsed = rd.parse(std::string(text));
    rd.throw_if_errors();
    const tree::Table& doc = parsed->root();
    Config cfg;
    cfg.file = display_path;
    cfg.state_dir = base_dir / ".rollback";
    if (doc.empty()) {
        // An empty file would evaluate nothing and record "no action": a wrong path, not a config.
        rd.error({display_path, 1, 1}, "rollback.toml", "empty configuration",
                 "a config has at least [[condition]] and its [source.NAME] (docs/config.md)");
        rd.throw_if_errors();
    }
    rd.check_keys(doc, "rollback.toml", k_top_keys);

    if (const tree::Table* t = rd.get_table(doc, "target", "target")) {
        rd.check_keys(*t, "target", k_target_keys);
        cfg.target = rd.get_string(*t, "name", "target").value_or("");
        if (auto sd = rd.get_string(*t, "state_dir", "target")) {
            cfg.state_dir = std::filesystem::path(*sd).is_absolute() ? std::filesystem::path(*sd)
                                                                     : base_dir / *sd;
            cfg.state_dir_relative = !std::filesystem::path(*sd).is_absolute();
        }
        if (auto st = rd.get_string(*t, "state", "target")) {
            SharedState shared;
            shared.dsn = *st;
            shared.where = rd.key_where(*t, "state");
            cfg.shared_state = shared;
        }
    }
    if (const tree::Table* t = rd.get_table(doc, "state", "state")) {
        rd.check_keys(*t, "state", k_state_keys);
        SharedState shared;
        shared.where = rd.where(*t);
        if (cfg.shared_state) {
            rd.error(shared.where, "state",
                     "the shared state is named twice ([target] state and [state])",
                     "keep one of them");
        }
        if (auto dsn = rd.get_string(*t, "dsn", "state")) {
            shared.dsn = *dsn;
            shared.where = rd.key_where(*t, "dsn");
        } else {
            rd.error(shared.where, "state", "missing key \"dsn\"",
                     "dsn = \"postgresql://rollback@db.internal/rollback\"");
        }
        if (auto schema = rd.get_string(*t, "schema", "state")) {
            shared.schema = *schema;
            if (schema->empty() || schema->size() > 63) {
                rd.error(rd.key_where(*t, "schema"), "state",
                         "key \"schema\": a PostgreSQL schema name of 1 to 63 bytes");
            }
        }
        if (auto lease = rd.get_duration(*t, "lease", "state")) {
            shared.lease = *lease;
            if (*lease < std::chrono::seconds(3)) {
                rd.error(rd.key_where(*t, "lease"), "state",
                         "key \"lease\": at least 3s (the holder renews it every third)");
            } else if (*lease > std::chrono::hours(596)) {
                // Every session sets lock_timeout to the lease: PostgreSQL's limit is INT_MAX ms.
                rd.error(rd.key_where(*t, "lease"), "state",
                         "key \"lease\": at most 596h (PostgreSQL's lock_timeout limit)",
                         "a lease is how long a silent holder keeps the lock: minutes, not weeks");
            }
        }
        if (!cfg.shared_state && t->get("dsn") != nullptr) {
            cfg.shared_state = shared;
        }
    }
    if (cfg.shared_state) {
        const std::string& dsn = cfg.shared_state->dsn;
        util::mask_dsn(dsn); // registers the password as a secret
        if (dsn.rfind("postgresql://", 0) != 0 && dsn.rfind("postgres://", 0) != 0 &&
            dsn.find('=') == std::string::npos) {
            // A password in it cannot be found (a mistyped scheme: "postgresql//u:pw@h"): a
            // value that may hold one is a secret as a whole, masked in the message and in the
            // line echoed under it (break-it 32/01); a plain path is shown.
            const bool may_hold = dsn.find_first_of(":@ \t") != std::string::npos;
            if (may_hold && dsn.size() >= 3) {
                util::register_secret(dsn);
            }
            rd.error(cfg.shared_state->where, "state",
                     may_hold ? std::string("not a PostgreSQL connection string (not shown: it "
                                            "may hold a password)")
                              : "not a PostgreSQL connection string: " + util::quoted(dsn),
                     "a postgresql:// URI or libpq key=value pairs (docs/config.md)");
        } else {
            check_dsn(rd, dsn, cfg.shared_state->where, "state");
        }
    }
    if (const tree::Table* srcs = rd.get_table(doc, "source", "source")) {
        for (auto&& [k, v] : *srcs) {
            if (const tree::Table* st = v.as_table()) {
                read_source(rd, std::string(k.str()), *st, cfg, base_dir);
            } else {
                rd.type_error(v, k.str(), "source",
                              "a table [source." + std::string(k.str()) + "]");
            }
        }
    }
    std::vector<util::Location> condition_where; // of cfg.conditions, in order
    if (const tree::Node* conds = doc.get("condition")) {
        if (const tree::Array* a = conds->as_array(); a && conds->is_array_of_tables()) {
            for (size_t i = 0; i < a->size(); ++i) {
                const tree::Table& ct = *(*a)[i].as_table();
                const tree::Node* kind = ct.get("kind");
                if (!kind) {
                    read_condition(rd, ct, i, cfg);
                    condition_where.resize(cfg.conditions.size(), rd.where((*a)[i]));
                } else if (kind->value<std::string>() == "alert") {
                    read_alert_condition(rd, ct, i, cfg);
                } else {
                    rd.error(
                        rd.where(*kind), "condition #" + std::to_string(i + 1),
                        "key \"kind\": the only kind is \"alert\"",
                        "a condition on a signal has no kind, only `signal = \"SOURCE.SIGNAL\"`");
                }
            }
        } else {
            rd.type_error(*conds, "condition", "rollback.toml", "an array of tables [[condition]]");
        }
    }
    if (const tree::Table* d = rd.get_table(doc, "decision", "decision")) {
        rd.check_keys(*d, "decision", k_decision_keys);
        if (auto m = rd.get_string(*d, "mode", "decision")) {
            if (auto mode = decision::parse_mode(*m)) {
                cfg.decision.mode = *mode;
            } else {
                rd.error(rd.where(*d->get("mode")), "decision",
                         "key \"mode\": " + util::quoted(*m) +
                             " is not one of \"auto\", \"confirm\", \"observe\"");
            }
        }
        if (auto p = rd.get_string(*d, "playbook", "decision")) {
            cfg.playbook =
                std::filesystem::path(*p).is_absolute() ? std::filesystem::path(*p) : base_dir / *p;
        }
        if (auto c = rd.get_duration(*d, "cooldown", "decision")) {
            cfg.decision.cooldown = *c;
        }
        if (auto w = rd.get_duration(*d, "watch_after", "decision")) {
            cfg.decision.watch_after = *w;
        }
        if (auto h = rd.get_string_array(*d, "hooks", "decision")) {
            for (const auto& name : *h) {
                if (name.empty() || name.find('/') != std::string::npos || name == "." ||
                    name == "..") {
                    rd.error(rd.key_where(*d, "hooks"), "decision",
                             "key \"hooks\": " + util::quoted(name) +
                                 " is not a hook name (a file name in the playbook's hooks "
                                 "directory)");
                }
            }
            cfg.hooks = *h;
            if (!d->get("playbook")) {
                rd.error(rd.key_where(*d, "hooks"), "decision",
                         "key \"hooks\" needs key \"playbook\": hooks are found in its hooks "
                         "directory");
            }
        }
        if (auto a = rd.get_duration(*d, "approval_timeout", "decision")) {
            cfg.approval_timeout = *a;
        }
        if (auto i = rd.get_duration(*d, "interval", "decision")) {
            if (i->count() < 1000) {
                rd.error(rd.key_where(*d, "interval"), "decision", "key \"interval\": at least 1s");
            }
            cfg.interval = *i;
        }
    }
    check_playbook_given(rd, doc, cfg, condition_where);
    if (const tree::Table* sv = rd.get_table(doc, "server", "server")) {
        read_server(rd, *sv, base_dir, cfg);
    }
    if (const tree::Table* hooks = rd.get_table(doc, "webhook", "webhook")) {
        for (auto&& [k, v] : *hooks) {
            if (const tree::Table* wt = v.as_table()) {
                read_webhook(rd, std::string(k.str()), *wt, cfg);
            } else {
                rd.type_error(v, k.str(), "webhook",
                              "a table [webhook." + std::string(k.str()) + "]");
            }
        }
        if (!cfg.server && !cfg.webhooks.empty()) {
            rd.error(rd.where(*hooks), "webhook",
                     "a webhook needs [server]: notifications arrive over HTTP");
        }
    }
    if (!cfg.alert_conditions.empty() && !cfg.server) {
        rd.error(cfg.alert_conditions.front().where,
                 "condition " + util::quoted(cfg.alert_conditions.front().spec.name),
                 "an alert condition needs [server]: alerts arrive over HTTP",
                 "add [server] (listen = \"127.0.0.1:9095\") and point Alertmanager's webhook "
                 "at /api/v1/alertmanager");
    }
    for (auto& a : cfg.alert_conditions) {
        a.spec.window = cfg.interval;
    }
    check_alert_confirmations(rd, cfg);
    cfg.decision.target = cfg.target;
    for (auto& [name, src] : cfg.sources) {
        if (src.interval.count() == 0) {
            src.interval = cfg.interval; // read (or aggregated) once per evaluation
        }
    }
    for (auto& c : cfg.conditions) {
        auto src = cfg.sources.find(c.source);
        if (src != cfg.sources.end() && src->second.kind == SourceKind::access_log) {
            c.lateness = src->second.max_lateness;
            c.bucket = src->second.interval;
        }
    }
    warn_of_coarse_sources(rd, doc, cfg);
    check_read_back(rd, cfg, condition_where);
    rd.throw_if_errors();
    return cfg;
}

bool looks_like_config(const std::filesystem::path& file) {
    // Bounded and guarded like every input: a FIFO or a device is not waited on, deep nesting
    // and non-ASCII keys never reach toml++ (TomlReader::parse). Anything unreadable is left to
    // the playbook check, which reports it.
    std::shared_ptr<const playbook::ParsedFile> parsed;
    try {
        parsed = playbook::parse_file(file);
    } catch (const util::Error&) {
        return false;
    }
    return looks_like_config(*parsed);
}

bool looks_like_config(const playbook::ParsedFile& parsed) {
    if (!parsed.root) {
        return false;
    }
    bool config_key = false;
    for (auto&& [k, v] : parsed.root->root()) {
        const std::string_view key = k.str();
        if (key == "playbook" || key == "vars" || key == "step" || key == "finally") {
            return false;
        }
        config_key =
            config_key || std::find(k_top_keys.begin(), k_top_keys.end(), key) != k_top_keys.end();
    }
    return config_key;
}

Config load(const std::filesystem::path& file) {
    std::string text = util::read_input_file(file, util::k_max_config_bytes);
    // Beside the file itself, not beside a symlink to it: /etc/rollback/rollback.toml linked to
    // /srv/shop/rollback.toml has the state of /srv/shop (one target, one lock).
    auto base = util::canonical_path(file).parent_path();
    Config cfg = parse(text, file.string(), base);
    cfg.state_dir = util::canonical_path(cfg.state_dir);
    return cfg;
}

} // namespace rollback::config
