// SPDX-License-Identifier: MIT
#pragma once

// The monitor's HTTP side ([server] of rollback.toml): the Alertmanager webhook receiver,
// /metrics and /healthz, on the server's own thread. Alert notifications are parsed there and
// handed to the loop through a mutex-guarded inbox that wakes the loop's wait at once; the loop
// alone applies them (AlertBook) and decides. Metrics are written by the loop after each
// evaluation and read by the server thread at each scrape.

#include "config/config.hpp"
#include "decision/evaluator.hpp"
#include "journal/state.hpp"
#include "monitor/alert_book.hpp"
#include "server/alertmanager.hpp"
#include "server/http_server.hpp"
#include "server/metrics.hpp"

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

namespace rollback::monitor {

class Monitor;

inline constexpr std::string_view k_alertmanager_path = "/api/v1/alertmanager";
inline constexpr std::string_view k_webhook_prefix = "/api/v1/webhook/";

/// Where /metrics puts what a condition observed: one gauge family per unit, in base units
/// (docs/metrics.md) — latencies (ms) and downtime (s) in rollback_condition_value_seconds,
/// error rates in _ratio, request counts in _requests, an alert condition's (`alert`) count in
/// _alerts, a `value` signal's number in rollback_condition_value. `value`: the observed number
/// converted to the family's unit, nullopt when nothing was observed.
struct ConditionValue {
    const char* family = "";
    std::optional<double> value;
};
ConditionValue condition_value(const decision::ConditionRecord& c, bool alert);

class Endpoint {
  public:
    /// Binds the listener of `sc` (util::Error when it cannot); serves after start(). Each of
    /// `webhooks` is served at /api/v1/webhook/NAME.
    Endpoint(const config::ServerConfig& sc, std::filesystem::path state_dir,
             std::vector<server::WebhookSpec> webhooks = {});
    ~Endpoint();
    void start();
    void stop();
    uint16_t port() const;

    /// The notifications received since the last call, oldest first.
    std::vector<server::AlertNotification> take_alerts();
    /// The loop kept (state::ActiveAlerts) what the notifications take_alerts returned did: they
    /// leave the inbox file. Until then they stay in it, so a monitor killed in between applies
    /// them again at its start (a repeat or a resolution applied twice changes nothing).
    void alerts_kept();
    /// The loop runs a playbook (started at `since`, `what` it runs: "running the playbook of
    /// decision D", "resuming run R (decision D)"; nullopt: it ended): while it does the loop
    /// does not tick, and /healthz answers 503 saying so.
    void playbook_running(std::optional<util::SystemTime> since, const std::string& what);
    /// Waits until `deadline`, until a notification is waiting (returns true), or until
    /// `interrupted()` says so (checked every 100 ms; returns false).
    bool wait_until(util::SystemTime deadline, const std::function<bool()>& interrupted);

    /// After a tick of the signal conditions that took `seconds` (reading and evaluating).
    void tick_done(const decision::Evaluation& e, double seconds, const Monitor& mon);
    /// After an evaluation of the alert conditions.
    void alerts_evaluated(const decision::Evaluation& e, const Monitor& mon, const AlertBook& book);
    void alert_changes(const std::vector<AlertChange>& changes);
    /// A trigger whose run did not start (`reason`: "store" or "playbook"), retried.
    void run_not_started(const std::string& reason);
    /// A resume of a run a monitor left unfinished failed (tried again later).
    void run_not_resumed();
    /// A SIGHUP reload was rejected (rollback_config_reloads_rejected_total), by why: "state"
    /// (the shared state or state directory changed: a restart applies it), "invalid".
    void reload_rejected(const std::string& reason);
    /// The conditions changed (a reload): their gauges are rebuilt at the next evaluations.
    void conditions_changed();
    /// A run started by or noticed by the monitor ended: counted by the state it ended in, and
    /// its duration and each step's (phase, status) exported as the last run's gauges.
    void run_ended(const journal::RunState& run);

    /// The [decision] playbook (empty: none): /metrics exports the time of the newest good,
    /// verified backup of each (catalog, database) its pg_restore steps restore from, and the
    /// start of the newest fully successful `rollback rehearse` of it. Read again when the file
    /// changes; call again at a reload (any thread).
    void set_decision_playbook(std::filesystem::path playbook);

    server::Metrics& metrics() { return m_metrics; }
    /// The handler the server calls (public for tests: no socket needed).
    server::Response handle(const server::Request& r);

  private:
    /// The verdict and value gauges of `r`'s conditions (`alerts`: of the alert conditions).
    void conditions_metrics(const decision::DecisionRecord& r, bool alerts);
    std::optional<util::SystemTime> last_rehearsal();
    void refresh_backup_times();

    server::Response accept(std::optional<server::AlertNotification> n, const std::string& why);

    std::filesystem::path m_state_dir;
    std::vector<server::WebhookSpec> m_webhooks;
    server::Metrics m_metrics;
    std::mutex m_mutex; ///< guards m_inbox, m_last_tick, m_rehearsal_cache
    std::condition_variable m_wake;
    std::vector<server::AlertNotification> m_inbox;
    /// Taken by the loop, not yet kept: still in the inbox file (<state_dir>/alerts.inbox).
    std::vector<server::AlertNotification> m_taken;
    std::optional<util::SystemTime> m_running_since; ///< a playbook the loop runs
    std::string m_running_what;                      ///< what it runs, as /healthz says it
    /// Writes m_taken and m_inbox to the inbox file (write, fsync, rename); with m_mutex held.
    /// util::Error when it cannot.
    void write_inbox();
    std::optional<util::SystemTime> m_last_tick;
    std::optional<std::filesystem::file_time_type> m_rehearsals_mtime;
    std::optional<util::SystemTime> m_rehearsal_cache;
    /// A good backup's archive and the size its manifest records; `usable`: it was there with
    /// that size when last looked at.
    struct Archive {
        std::filesystem::path file;
        std::uintmax_t size = 0;
        bool usable = false;
    };
    /// The archive is there with its recorded size now (db::archive_problem's rule, one stat).
    static bool usable(const Archive& a);
    struct Catalog {
        std::filesystem::path dir;
        std::string database; ///< the manifests of this database only
        std::optional<std::filesystem::file_time_type> mtime;
        std::optional<util::SystemTime> newest_good; ///< as of `mtime`
        std::optional<std::size_t> unreadable;       ///< entries no manifest, as of `mtime`
        /// The archives of the good backups the choice looked at, as of `mtime`: looked at
        /// again at every scrape (a stat each), since one cut short or put back in place changes
        /// no directory.
        std::vector<Archive> archives = {};
    };
    /// The [decision] playbook's pg_restore targets, again when `m_playbook` or its file changed.
    void refresh_backup_targets();
    std::filesystem::path m_playbook;   ///< guarded by m_mutex (set by the loop at a reload)
    std::filesystem::path m_targets_of; ///< the playbook m_catalogs are of (server thread)
    std::optional<std::filesystem::file_time_type> m_playbook_mtime; ///< server thread
    std::vector<Catalog> m_catalogs; ///< read on the server thread only
    std::unique_ptr<server::HttpServer> m_server;
};

} // namespace rollback::monitor
