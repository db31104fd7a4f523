// SPDX-License-Identifier: MIT
#pragma once

// rollback.toml: [target], [source.NAME], [[condition]], [decision] — loaded and validated with
// the same located diagnostics as playbooks (FILE:LINE:COL: error: <subject>: <problem>).

#include "decision/condition.hpp"
#include "server/generic_webhook.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/http_client.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rollback::config {

using util::Millis;

enum class SourceKind { http, access_log, prometheus, sql, command };
std::string_view to_string(SourceKind k);

struct SourceConfig {
    std::string name;
    SourceKind kind = SourceKind::command;
    Millis interval{0}; ///< reading (polled kinds) / aggregation (access_log); 0 in the file = the
                        ///< [decision] interval, filled in by parse()
    Millis timeout{std::chrono::seconds(5)};
    std::string url;            ///< http, prometheus
    util::TlsOptions tls;       ///< http, prometheus with https:// (ca_file absolute)
    int expect_status = 200;    ///< http: the status a healthy target answers
    std::filesystem::path path; ///< access_log (relative paths: to the config's directory)
    std::string format = "combined_request_time"; ///< access_log
    /// access_log: how late a line may be written after the interval of its time and still be
    /// counted; conditions judge the window that ended this long ago (docs/decision.md).
    Millis max_lateness{std::chrono::minutes(1)};
    bool has_latency = true;       ///< access_log: the format has a request-time field
    std::string query;             ///< prometheus, sql
    std::string dsn;               ///< sql (a secret: registered for masking)
    std::vector<std::string> argv; ///< command
    util::Location where;
};

/// `[server]`: the monitor's HTTP listener (docs/config.md "The HTTP server").
struct ServerConfig {
    std::string listen = "127.0.0.1:9095"; ///< as written
    std::string host;                      ///< the address part, without IPv6 brackets
    uint16_t port = 9095;
    bool loopback = true;
    /// The bearer token clients must send (registered as a secret); empty: none is asked for,
    /// allowed only on a loopback address.
    std::string token;
    uint64_t max_body = 1024 * 1024; ///< bytes; a longer request body is answered 413
    util::Location where;
};

/// One label matcher of an alert condition, Alertmanager's `=`: the alert's label `name` equals
/// `value` (an absent label is the empty string).
struct LabelMatcher {
    std::string name, value;
};

/// A `[[condition]]` with `kind = "alert"`: fires while an Alertmanager alert matching every
/// matcher is active. `spec` is the condition the alert evaluator judges: signal `value` of the
/// source "alerts:NAME" (the number of matching active alerts), above 0, judged immediately.
struct AlertCondition {
    decision::ConditionSpec spec;
    std::vector<LabelMatcher> match;
    util::Location where;
    /// `confirm = { source = "errors", above = 0.05 }`: an alert carries no values, so before
    /// the condition acts on its active alerts the `prometheus` source `source` is queried; they
    /// count only when it answers a number strictly above (or below) `threshold`
    /// (docs/config.md, "Confirming an alert").
    struct Confirm {
        std::string source;
        bool above = true; ///< `above` (true) or `below` (false)
        double threshold = 0;
        util::Location where;
    };
    std::optional<Confirm> confirm;
};
/// True when `labels` satisfy every matcher of `c`.
bool matches(const AlertCondition& c, const std::map<std::string, std::string>& labels);

/// The shared state (`[target] state = "postgresql://..."`, or `[state]`): a PostgreSQL
/// database every engine host of the target names (docs/config.md "Shared state in
/// PostgreSQL"). Its password is registered as a secret when the file loads.
struct SharedState {
    std::string dsn;                        ///< a libpq URI or key=value string
    std::string schema = "rollback";        ///< where the tables live
    Millis lease{std::chrono::seconds(15)}; ///< how long a silent holder keeps the run lock
    util::Location where;                   ///< the key that named it
};

struct Config {
    std::filesystem::path file;
    std::string target;
    std::filesystem::path state_dir; ///< absolute; default `.rollback` beside the config
    /// Whether state_dir came from a relative `[target] state_dir` or the default: then it is
    /// beside the file, and moves with a symlink the file was reached through.
    bool state_dir_relative = true;
    /// The shared store, when the config names one; then state_dir keeps only what stays on
    /// this host (rollback.log, the runs' artifacts).
    std::optional<SharedState> shared_state;
    std::map<std::string, SourceConfig> sources;
    std::vector<decision::ConditionSpec> conditions;
    std::vector<AlertCondition> alert_conditions; ///< `kind = "alert"`, fed by [server]
    std::optional<ServerConfig> server;           ///< no [server]: no listener
    /// `[webhook.NAME]`: generic JSON webhooks at /api/v1/webhook/NAME (need [server]).
    std::vector<server::WebhookSpec> webhooks;
    decision::DecisionPolicy decision;
    std::filesystem::path playbook; ///< empty when not set
    /// Hooks (names in the playbook's hooks directory) told of every decision that asks people
    /// for something: notify (recurrences), escalate, request_approval, an observed trigger.
    std::vector<std::string> hooks;
    /// mode = "confirm": how long `rollback approve` may act on a request.
    Millis approval_timeout{std::chrono::hours(1)};
    Millis interval{std::chrono::seconds(10)}; ///< evaluation interval ([decision] interval)
    /// What is valid but likely not what was meant (an `above_baseline` rule without an `above`
    /// floor judges nothing until a baseline exists); `validate` prints them.
    std::vector<util::Diagnostic> warnings;
    /// A condition that can decide a trigger (mode auto or confirm, severity above warning) and
    /// no [decision] playbook to run: located at [decision] (else the condition). `validate -c`
    /// refuses it; check and check --replay, which run nothing, read the config all the same
    /// (break-it 44/08).
    std::optional<util::Diagnostic> no_playbook;
};

/// Loads and validates `file` completely. Throws util::InvalidInput with every diagnostic (syntax,
/// unknown keys with "did you mean", types, missing keys, unknown sources, signals a source kind
/// cannot produce, conflicting thresholds or counting modes); util::Error when unreadable.
Config load(const std::filesystem::path& file);
/// True when `file` is TOML whose top level has a table of rollback.toml ([target], [source.*],
/// [[condition]], [decision]) and none of a playbook's ([playbook], [vars], [[step]],
/// [[finally]]). False for anything else, a file that does not parse included.
bool looks_like_config(const std::filesystem::path& file);
/// The `[decision] playbook` `file` names, canonical (relative: to the file's own directory,
/// symlinks resolved, as load() resolves it), read without validating the rest of the file:
/// the config search asks whether a rollback.toml above a playbook is that playbook's.
/// nullopt when the file cannot be read, does not parse, or names no playbook.
std::optional<std::filesystem::path> decision_playbook_of(const std::filesystem::path& file);
/// The same over text (`display_path` names it in diagnostics; relative paths resolve against
/// `base_dir`).
Config parse(std::string_view text, const std::string& display_path,
             const std::filesystem::path& base_dir);

} // namespace rollback::config
