// SPDX-License-Identifier: MIT
#pragma once

// The playbook as the engine uses it: plain values, already validated, variables resolved.

#include "remote/inventory.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"

#include <boost/json/object.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rollback::playbook {

/// Execution order of phases. Values are written to journals by name, never by number.
enum class Phase { immediate, database, code, verify, finally };
std::string_view to_string(Phase p);
std::optional<Phase> parse_phase(std::string_view name);

enum class OnFailure { abort, continue_ };
std::string_view to_string(OnFailure f);

/// What the text a `{{name}}` is written in is for. It decides how a value is put there, so that
/// a value stays one piece of data whatever characters it holds (DESIGN.md, trust invariant 5).
enum class Encoding {
    plain,  ///< passed on whole (an argv element, an environment value, a path): as it is
    shell,  ///< a /bin/sh command line: takes no value at all (a reference is a validation error)
    sql,    ///< SQL: a bound parameter $1, $2, ... (a reference alone in quotes, '{{v}}', too)
    url,    ///< a URL: at its very start the base URL, anywhere else one percent-encoded component
    header, ///< an HTTP header value: as it is, but CR, LF and NUL are refused
    json,   ///< JSON: inside a string JSON-escaped; elsewhere a JSON string (or a JSON number)
    form,   ///< an application/x-www-form-urlencoded body: percent-encoded
    /// A libpq connection string: at its very start the base DSN; elsewhere one parameter value,
    /// conninfo-quoted in key=value form, percent-encoded in a URI (detail::dsn_place).
    dsn,
    /// An argv array (a program and its arguments): each element as it is (plain), but the
    /// command string a shell runs (`sh -c "..."`, found by script_argument) is shell text,
    /// and the code of another interpreter (`python3 -c`) takes no value at all. A single
    /// string given this encoding is plain.
    argv,
    /// A value an action puts on a program's command line and records in its state
    /// (git_checkout `repo`/`ref`, release_switch `deploy_root`/`to`, service
    /// `supervisor_conf`): as it is (plain, NUL refused); a {{secret}} is a validation error.
    operand,
    /// A service or unit name (`service` `name`): an operand whose value may not make the name a
    /// pattern or a keyword: an empty value, `*`, `?`, `[`, `]`, `:` (supervisor's
    /// `GROUP:`), whitespace, or `all` are refused.
    service_name,
};
std::string_view to_string(Encoding e);

struct Variable {
    std::string name;
    std::string value;
    bool secret = false;
    std::string origin; ///< "playbook", "env HELLO_TOKEN", ".env HELLO_TOKEN", "default", "--var"
    /// Its environment variable is not set (and it has no default): the value is empty. Only a
    /// playbook loaded with LoadOptions::unset_env_is_warning carries such a variable.
    bool unset = false;
};

/// An action's own keys (Step::params) parsed and checked once, by the action kind that owns them
/// (actions/): each kind derives its typed struct from this; the playbook only keeps it.
struct ActionParams {
    virtual ~ActionParams() = default;
};

/// A count of hosts: `N`, or `"N%"` of the step's hosts.
struct HostCount {
    int value = 0;
    bool percent = false;
    /// Of `total` hosts: N, or N% rounded up (so "25%" of 3 hosts is 1, never 0 when N > 0).
    int of(int total) const { return percent ? (total * value + 99) / 100 : value; }
};

/// `[remote]`: how steps reach their hosts (docs/playbook.md "Hosts").
struct RemoteSettings {
    std::filesystem::path inventory; ///< an Ansible INI file; empty = only `[hosts]`
    /// SHA-256 of the inventory file's bytes as the loader read them ("" without one): a run
    /// journals it, a resume refuses another (docs/journal.md run_started).
    std::string inventory_sha256;
    std::filesystem::path known_hosts; ///< required with hosts: the only file keys are checked in
    std::filesystem::path identity;    ///< empty = ssh's default keys
    std::filesystem::path ssh_config;  ///< empty = the user's and the system's ssh_config
    std::string user;                  ///< empty = ssh's default
    int parallel = 10;                 ///< hosts of a batch at once, at most
    util::Millis connect_timeout{std::chrono::seconds(10)};
};

/// How a `{{host}}` / `{{host.NAME}}` reference waits in a host step's text until the step runs
/// on a host (playbook::bind_host): k_host_open + "host" or "host.NAME" + k_host_close.
inline constexpr char k_host_open = '\x1e';
inline constexpr char k_host_close = '\x1f';

struct Step {
    std::string id;
    Phase phase = Phase::immediate;
    std::string action; ///< "exec", "wait", "hook", "sql", "pg_restore", "http", ...
    util::Location where;

    // Common to every action. Strings below are already substituted ({{var}} resolved).
    std::string description;
    util::Millis timeout{std::chrono::minutes(5)};
    int retries = 0;
    util::Millis retry_delay{std::chrono::seconds(1)}; ///< doubles after each failed attempt
    OnFailure on_failure = OnFailure::abort;
    std::string when;               ///< condition on the trigger; empty = always
    std::vector<std::string> needs; ///< step ids within the same phase
    bool idempotent = false;
    std::vector<std::string> probe; ///< argv: exit 0 = already done, 1 = not done
    bool probe_shell = false;       ///< probe = "string" runs through /bin/sh -c

    /// `hosts = "web"`: a group or host of the inventory; empty = the engine's own machine.
    std::string hosts;
    std::optional<HostCount> batch; ///< hosts per batch; none = every host in one batch
    HostCount max_failures;         ///< failed hosts tolerated; past them no new host starts

    // exec
    std::vector<std::string> argv;
    bool shell = false; ///< argv is a single string run with /bin/sh -c
    std::string cwd;    ///< absolute after loading; empty = the playbook's directory
    std::map<std::string, std::string> env;

    // wait
    util::Millis duration{0};

    // hook
    std::string hook; ///< name of an executable in the hooks directory

    /// Every other action's own keys, substituted, as JSON (strings, numbers, booleans, arrays,
    /// tables). Each action reads and checks its own keys here (see actions/).
    boost::json::object params;
    /// Where each key of `params` is written (the key itself), for the actions' own diagnostics.
    std::map<std::string, util::Location> param_where;

    /// The bound values of the SQL texts among `params`, by where the text is: "sql",
    /// "statements.1", "query", "assert.0.sql". Such a text holds $1, $2, ... in place of each
    /// {{variable}} (Encoding::sql); the values are never spliced into it.
    std::map<std::string, std::vector<std::string>> sql_params;
    /// Names of the variables this step's fields used (for masking and the plan).
    std::vector<std::string> uses;

    /// `params` as the step's action parsed them at load (LoadOptions::validate_step), kept so
    /// that describe, preflight, run and probe never read raw keys again. Null when the step was
    /// not loaded by the loader with the actions' parser.
    std::shared_ptr<const ActionParams> parsed;
};

struct Playbook {
    std::filesystem::path file;      ///< absolute path of the TOML file
    std::filesystem::path directory; ///< its directory; relative paths are resolved against it
    std::filesystem::path hooks_dir; ///< `[playbook] hooks_dir`, default <repo>/hooks or ./hooks
    std::string name;
    std::string description;
    std::vector<Variable> variables;
    std::vector<Step> steps;     ///< in execution order: phase order, then `needs`, then file order
    std::vector<Step> finally;   ///< `[[finally]]`, in file order
    remote::Inventory inventory; ///< `[hosts]` and `[remote] inventory`, merged
    RemoteSettings remote;
    /// Lifecycle hooks: event name ("on-trigger", "before-step", ...) → hook names.
    std::map<std::string, std::vector<std::string>> hooks;
    /// What LoadOptions::unset_env_is_warning turned from errors into warnings (one per unset
    /// environment variable), in file order.
    std::vector<util::Diagnostic> warnings;
    /// What the steps' keys are worth a second look for (a reference in a request body that
    /// goes in raw), in file order; `validate` shows them.
    std::vector<util::Diagnostic> step_warnings;

    const Step* find_step(std::string_view id) const;
};

} // namespace rollback::playbook
