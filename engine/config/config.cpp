// SPDX-License-Identifier: MIT
#include "config/config.hpp"

#include "decision/record.hpp"

#include "playbook/toml_reader.hpp"
#include "sources/access_log.hpp"
#include "util/files.hpp"
#include "util/http_client.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cmath>

namespace rollback::config {

namespace {

using decision::ConditionSpec;
using decision::Signal;
using playbook::TomlReader;

const std::vector<std::string> k_top_keys = {"target", "source", "condition", "decision"};
const std::vector<std::string> k_target_keys = {"name", "state_dir", "state"};
const std::vector<std::string> k_decision_keys = {
    "mode", "playbook", "cooldown", "watch_after", "interval", "hooks", "approval_timeout"};
const std::vector<std::string> k_condition_keys = {
    "name",         "signal",          "window",
    "above",        "below",           "above_baseline",
    "baseline",     "baseline_window", "for",
    "max_missed",   "consecutive",     "m_of_n",
    "min_requests", "resolve_after",   "severity",
    "on_no_data",   "on_no_traffic",   "on_insufficient_sample",
    "on_error",     "on_silence",      "mode"};

std::vector<std::string> source_keys(SourceKind k) {
    std::vector<std::string> keys = {"kind", "interval", "timeout"};
    switch (k) {
    case SourceKind::http:
        keys.insert(keys.end(), {"url", "expect_status"});
        break;
    case SourceKind::access_log:
        keys.insert(keys.end(), {"path", "format", "max_lateness"});
        break;
    case SourceKind::prometheus:
        keys.insert(keys.end(), {"url", "query"});
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

// Which signals a source kind can produce.
bool produces(SourceKind k, Signal s) {
    switch (k) {
    case SourceKind::http:
        return s != Signal::value;
    case SourceKind::access_log:
        return s != Signal::value && s != Signal::downtime;
    case SourceKind::prometheus:
    case SourceKind::sql:
    case SourceKind::command:
        return s == Signal::value;
    }
    return false;
}

// A threshold: a number, or a duration string for downtime (seconds) and latencies (ms).
/// An error rate is a ratio: `above = 5` (meant as 5 %) would never breach, `below = 2` always.
std::optional<double> checked_ratio(TomlReader& rd, const toml::node& n, std::string_view key,
                                    std::string_view subject, Signal sig, double v) {
    if (sig == Signal::error_rate && (v < 0.0 || v > 1.0)) {
        rd.error(rd.where(n), subject,
                 "key \"" + std::string(key) + "\": an error rate is a ratio from 0 to 1; " +
                     decision::format_number(v) + " would " +
                     (key == "above" ? "never" : "always") + " breach",
                 v > 1.0 && v <= 100.0 ? "write " + decision::format_number(v / 100.0) + " for " +
                                             decision::format_number(v) + " %"
                                       : std::string{});
        return std::nullopt;
    }
    return v;
}

std::optional<double> threshold(TomlReader& rd, const toml::table& t, std::string_view key,
                                std::string_view subject, Signal sig) {
    const toml::node* n = t.get(key);
    if (!n) {
        return std::nullopt;
    }
    if (decision::unit_of(sig) == "ms" && n->is_number()) {
        // 0.5 for a p95: half a millisecond or half a second? A latency carries its unit.
        rd.error(rd.where(*n), subject,
                 "key \"" + std::string(key) +
                     "\": a latency threshold is a duration with its unit, not a bare number",
                 "write e.g. \"500ms\" or \"1.5s\"");
        return std::nullopt;
    }
    if (auto i = n->value<int64_t>(); i && n->is_integer()) {
        return checked_ratio(rd, *n, key, subject, sig, static_cast<double>(*i));
    }
    if (auto f = n->value<double>(); f && n->is_floating_point()) {
        if (!std::isfinite(*f)) {
            // nan never compares, inf never (or always) breaches: an outage missed or invented.
            rd.error(rd.where(*n), subject,
                     "key \"" + std::string(key) + "\": " + (std::isnan(*f) ? "nan" : "inf") +
                         " is not a threshold: it would never (or always) breach");
            return std::nullopt;
        }
        return checked_ratio(rd, *n, key, subject, sig, *f);
    }
    if (auto s = n->value<std::string>()) {
        if (auto d = util::parse_duration(*s)) {
            if (sig == Signal::downtime) {
                return static_cast<double>(d->count()) / 1000.0;
            }
            if (decision::unit_of(sig) == "ms") {
                return static_cast<double>(d->count());
            }
        }
        rd.error(rd.where(*n), subject,
                 "key \"" + std::string(key) + "\": " + util::quoted(*s) +
                     (sig == Signal::downtime || decision::unit_of(sig) == "ms"
                          ? " is not a duration like \"15m\""
                          : " is not a number (durations are for downtime and latency signals)"));
        return std::nullopt;
    }
    rd.type_error(*n, key, subject, "a number");
    return std::nullopt;
}

void read_policy(TomlReader& rd, const toml::table& t, std::string_view key,
                 std::string_view subject, decision::Policy& out, bool& explicit_flag,
                 bool allow_trigger) {
    auto s = rd.get_string(t, key, subject);
    if (!s) {
        return;
    }
    auto p = decision::parse_policy(*s);
    if (!p || (!allow_trigger && *p == decision::Policy::trigger)) {
        rd.error(rd.where(*t.get(key)), subject,
                 "key \"" + std::string(key) + "\": " + util::quoted(*s) + " is not one of " +
                     (allow_trigger ? "\"ignore\", \"escalate\", \"trigger\""
                                    : "\"ignore\", \"escalate\""),
                 allow_trigger ? "" : "an under-powered window never triggers automatically");
        return;
    }
    out = *p;
    explicit_flag = true;
}

void read_condition(TomlReader& rd, const toml::table& t, size_t index, Config& cfg) {
    std::string subject = "condition #" + std::to_string(index + 1);
    auto name = rd.get_string(t, "name", subject);
    if (name) {
        subject = "condition " + util::quoted(*name);
    }
    rd.check_keys(t, subject, k_condition_keys);
    rd.require(t, "name", subject, rd.where(t));
    rd.require(t, "signal", subject, rd.where(t));
    ConditionSpec c;
    c.name = name.value_or("");
    if (std::any_of(c.name.begin(), c.name.end(),
                    [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; })) {
        // A name is shown on terminals, in file names of records and in hook payloads.
        rd.error(rd.key_where(t, "name"), subject, "a condition name has no control characters",
                 "name conditions like \"checkout-errors\"");
    }
    for (const auto& other : cfg.conditions) {
        if (!c.name.empty() && other.name == c.name) {
            rd.error(rd.key_where(t, "name"), subject, "duplicate condition name");
        }
    }
    bool signal_ok = false;
    if (auto sig = rd.get_string(t, "signal", subject)) {
        auto dot = sig->rfind('.');
        auto parsed =
            dot == std::string::npos ? std::nullopt : decision::parse_signal(sig->substr(dot + 1));
        if (!parsed) {
            rd.error(rd.where(*t.get("signal")), subject,
                     "signal " + util::quoted(*sig) + " is not SOURCE.SIGNAL",
                     "signals: error_rate, request_count, latency_p50, latency_p95, latency_p99, "
                     "downtime, value");
        } else {
            c.source = sig->substr(0, dot);
            c.signal = *parsed;
            auto src = cfg.sources.find(c.source);
            if (src == cfg.sources.end()) {
                std::vector<std::string> names;
                for (const auto& [n, s] : cfg.sources) {
                    names.push_back(n);
                }
                std::string guess = util::closest_match(c.source, names);
                rd.error(rd.where(*t.get("signal")), subject,
                         "unknown source " + util::quoted(c.source) +
                             (guess.empty() ? "" : " (did you mean " + util::quoted(guess) + "?)"));
            } else if (!produces(src->second.kind, c.signal)) {
                rd.error(rd.where(*t.get("signal")), subject,
                         "a " + std::string(to_string(src->second.kind)) +
                             " source has no signal " +
                             util::quoted(decision::to_string(c.signal)));
            } else if (src->second.kind == SourceKind::access_log &&
                       decision::unit_of(c.signal) == "ms" && !src->second.has_latency) {
                // Every evaluation would find no latency at all: refused now rather than
                // escalating at every tick.
                rd.error(rd.where(*t.get("signal")), subject,
                         "signal " + util::quoted(*sig) + ": the format of source " +
                             util::quoted(c.source) + " (" + util::quoted(src->second.format) +
                             ") has no request-time field",
                         "log $request_time (or $upstream_response_time) and name it in "
                         "\"format\"; format = \"combined_request_time\" is combined + "
                         "$request_time (Apache: %D)");
            } else {
                signal_ok = true;
            }
        }
    }
    if (auto w = rd.get_duration(t, "window", subject)) {
        c.window = *w;
    }
    c.above = threshold(rd, t, "above", subject, c.signal);
    c.below = threshold(rd, t, "below", subject, c.signal);
    if (const toml::node* n = t.get("above_baseline")) {
        if (auto v = n->value<double>(); v && (n->is_number()) && *v > 0) {
            c.above_baseline = *v;
        } else {
            rd.error(rd.where(*n), subject,
                     "key \"above_baseline\": expected a ratio > 0 (1.5 = 50% worse)");
        }
    }
    if (const toml::node* n = t.get("baseline")) {
        if (auto s = n->value<std::string>()) {
            if (*s == "previous_release") {
                c.baseline = decision::BaselineKind::previous_release;
            } else if (*s == "before_deploy") {
                c.baseline = decision::BaselineKind::before_deploy;
            } else {
                rd.error(rd.where(*n), subject,
                         "key \"baseline\": " + util::quoted(*s) +
                             " is not \"previous_release\", \"before_deploy\" or a number");
            }
        } else if (auto v = n->value<double>(); v && n->is_number()) {
            c.baseline = decision::BaselineKind::fixed;
            c.baseline_value = *v;
        } else {
            rd.type_error(*n, "baseline", subject,
                          "\"previous_release\", \"before_deploy\" or a number");
        }
    }
    if (auto w = rd.get_duration(t, "baseline_window", subject)) {
        c.baseline_window = *w;
    }
    const int thresholds =
        (c.above_baseline ? 1 : 0) + (c.above && !c.above_baseline ? 1 : 0) + (c.below ? 1 : 0);
    if (thresholds == 0 && !t.contains("above") && !t.contains("below") &&
        !t.contains("above_baseline")) {
        rd.error(rd.where(t), subject,
                 "no threshold: set one of \"above\", \"below\", \"above_baseline\"");
    } else if (thresholds > 1) {
        rd.error(rd.where(t), subject,
                 "\"below\" cannot be combined with \"above\" or \"above_baseline\" (with "
                 "\"above_baseline\", \"above\" is an absolute floor)");
    }
    if (c.above_baseline && !c.above && c.baseline != decision::BaselineKind::fixed) {
        cfg.warnings.push_back(
            {rd.key_where(t, "above_baseline"), std::string(subject),
             "\"above_baseline\" without an \"above\" floor: nothing is judged while there is "
             "no baseline (the first release, no deploy marker) or when it is 0",
             "add an absolute floor, e.g. above = " +
                 std::string(c.signal == Signal::error_rate        ? "0.05"
                             : decision::unit_of(c.signal) == "ms" ? "\"800ms\""
                                                                   : "<a value>") +
                 " (docs/decision.md, \"Baselines\")"});
    }
    if (c.above_baseline && c.baseline == decision::BaselineKind::none) {
        rd.error(rd.key_where(t, "above_baseline"), subject,
                 "\"above_baseline\" needs \"baseline\"");
    }
    if (!c.above_baseline && t.contains("baseline")) {
        rd.error(rd.key_where(t, "baseline"), subject,
                 "\"baseline\" is only used with \"above_baseline\"");
    }
    int modes = 0;
    if (auto f = rd.get_duration(t, "for", subject)) {
        c.counting = decision::Counting::for_duration;
        c.for_duration = *f;
        ++modes;
    }
    if (auto n = rd.get_int(t, "consecutive", subject, 1, 10000)) {
        c.counting = decision::Counting::consecutive;
        c.consecutive = static_cast<int>(*n);
        ++modes;
    }
    if (const toml::node* n = t.get("m_of_n")) {
        const toml::array* a = n->as_array();
        auto m = a && a->size() == 2 ? (*a)[0].value<int64_t>() : std::nullopt;
        auto nn = a && a->size() == 2 ? (*a)[1].value<int64_t>() : std::nullopt;
        if (!m || !nn || *m < 1 || *nn < *m || *nn > 10000) {
            rd.error(rd.where(*n), subject,
                     "key \"m_of_n\": expected [M, N] with 1 <= M <= N, e.g. [4, 5]");
        } else {
            c.counting = decision::Counting::m_of_n;
            c.m = static_cast<int>(*m);
            c.n = static_cast<int>(*nn);
        }
        ++modes;
    }
    if (modes > 1) {
        rd.error(rd.where(t), subject,
                 "choose one counting mode: \"for\", \"consecutive\" or \"m_of_n\"");
    }
    if (auto n = rd.get_int(t, "max_missed", subject, 0, 1000)) {
        c.max_missed = static_cast<int>(*n);
    }
    if (auto n = rd.get_int(t, "min_requests", subject, 0, INT64_MAX)) {
        if (signal_ok && !decision::is_request_signal(c.signal)) {
            rd.error(rd.key_where(t, "min_requests"), subject,
                     "\"min_requests\" applies to error_rate and latency signals only");
        }
        c.min_requests = static_cast<uint64_t>(*n);
    }
    if (auto d = rd.get_duration(t, "resolve_after", subject)) {
        c.resolve_after = *d;
    }
    if (auto s = rd.get_string(t, "severity", subject)) {
        if (auto v = decision::parse_severity(*s)) {
            c.severity = *v;
        } else {
            rd.error(rd.where(*t.get("severity")), subject,
                     "key \"severity\": " + util::quoted(*s) +
                         " is not one of \"warning\", \"high\", \"critical\"");
        }
    }
    read_policy(rd, t, "on_no_data", subject, c.on_no_data, c.on_no_data_explicit, true);
    read_policy(rd, t, "on_no_traffic", subject, c.on_no_traffic, c.on_no_traffic_explicit, true);
    read_policy(rd, t, "on_insufficient_sample", subject, c.on_insufficient_sample,
                c.on_insufficient_sample_explicit, false);
    read_policy(rd, t, "on_error", subject, c.on_error, c.on_error_explicit, true);
    read_policy(rd, t, "on_silence", subject, c.on_silence, c.on_silence_explicit, true);
    if (auto s = rd.get_string(t, "mode", subject)) {
        if (auto m = decision::parse_mode(*s)) {
            c.mode = *m;
        } else {
            rd.error(rd.where(*t.get("mode")), subject,
                     "key \"mode\": " + util::quoted(*s) +
                         " is not one of \"auto\", \"confirm\", \"observe\"");
        }
    }
    cfg.conditions.push_back(std::move(c));
}

void read_source(TomlReader& rd, const std::string& name, const toml::table& t, Config& cfg,
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
    case SourceKind::prometheus:
        need("url");
        s.url = rd.get_string(t, "url", subject).value_or("");
        if (std::string why; !s.url.empty() && !util::parse_http_url(s.url, &why)) {
            rd.error(rd.where(*t.get("url")), subject, "key \"url\": " + why,
                     "the monitor probes over plain http:// (a health endpoint behind the TLS "
                     "terminator)");
        }
        if (s.kind == SourceKind::prometheus) {
            need("query");
            s.query = rd.get_string(t, "query", subject).value_or("");
        } else if (auto n = rd.get_int(t, "expect_status", subject, 100, 599)) {
            s.expect_status = static_cast<int>(*n);
        }
        break;
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
                     "a named format (combined, combined_request_time) or an nginx log_format "
                     "string with $status and $time_local, $time_iso8601 or $msec");
        }
        break;
    }
    case SourceKind::sql:
        need("dsn");
        need("query");
        s.dsn = rd.get_string(t, "dsn", subject).value_or("");
        s.query = rd.get_string(t, "query", subject).value_or("");
        util::mask_dsn(s.dsn); // registers the password as a secret
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

} // namespace

std::string_view to_string(SourceKind k) {
    static constexpr std::string_view names[] = {"http", "access_log", "prometheus", "sql",
                                                 "command"};
    return names[static_cast<int>(k)];
}

Config parse(std::string_view text, const std::string& display_path,
             const std::filesystem::path& base_dir) {
    TomlReader rd(display_path);
    auto doc = rd.parse(text);
    rd.throw_if_errors();
    Config cfg;
    cfg.file = display_path;
    cfg.state_dir = base_dir / ".rollback";
    if (doc->empty()) {
        // An empty file would evaluate nothing and record "no action": a wrong path, not a config.
        rd.error({display_path, 1, 1}, "rollback.toml", "empty configuration",
                 "a config has at least [[condition]] and its [source.NAME] (docs/config.md)");
        rd.throw_if_errors();
    }
    rd.check_keys(*doc, "rollback.toml", k_top_keys);

    if (const toml::table* t = rd.get_table(*doc, "target", "target")) {
        rd.check_keys(*t, "target", k_target_keys);
        cfg.target = rd.get_string(*t, "name", "target").value_or("");
        if (auto sd = rd.get_string(*t, "state_dir", "target")) {
            cfg.state_dir = std::filesystem::path(*sd).is_absolute() ? std::filesystem::path(*sd)
                                                                     : base_dir / *sd;
        }
        if (auto st = rd.get_string(*t, "state", "target");
            st && st->rfind("postgresql:", 0) == 0) {
            rd.error(rd.key_where(*t, "state"), "target",
                     "shared PostgreSQL state is not supported by this build; use state_dir");
        }
    }
    if (const toml::table* srcs = rd.get_table(*doc, "source", "source")) {
        for (auto&& [k, v] : *srcs) {
            if (const toml::table* st = v.as_table()) {
                read_source(rd, std::string(k.str()), *st, cfg, base_dir);
            } else {
                rd.type_error(v, k.str(), "source",
                              "a table [source." + std::string(k.str()) + "]");
            }
        }
    }
    if (const toml::node* conds = doc->get("condition")) {
        if (const toml::array* a = conds->as_array(); a && a->is_array_of_tables()) {
            for (size_t i = 0; i < a->size(); ++i) {
                read_condition(rd, *(*a)[i].as_table(), i, cfg);
            }
        } else {
            rd.type_error(*conds, "condition", "rollback.toml", "an array of tables [[condition]]");
        }
    }
    if (const toml::table* d = rd.get_table(*doc, "decision", "decision")) {
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
        }
    }
    rd.throw_if_errors();
    return cfg;
}

bool looks_like_config(const std::filesystem::path& file) {
    // Bounded and guarded like every input: a FIFO or a device is not waited on, deep nesting
    // and non-ASCII keys never reach toml++ (TomlReader::parse). Anything unreadable is left to
    // the playbook check, which reports it.
    std::string text;
    try {
        text = util::read_input_file(file, util::k_max_config_bytes);
    } catch (const util::Error&) {
        return false;
    }
    TomlReader rd(file.string());
    auto doc = rd.parse(text);
    if (!doc) {
        return false;
    }
    bool config_key = false;
    for (auto&& [k, v] : *doc) {
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
    auto base = std::filesystem::absolute(file).parent_path();
    return parse(text, file.string(), base);
}

} // namespace rollback::config
