// SPDX-License-Identifier: MIT
#include "monitor/endpoint.hpp"

#include "monitor/monitor.hpp"
#include "util/files.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <sstream>

namespace rollback::monitor {

namespace fs = std::filesystem;
using server::MetricType;

namespace {

constexpr decision::Verdict k_verdicts[] = {
    decision::Verdict::ok,      decision::Verdict::pending,
    decision::Verdict::firing,  decision::Verdict::no_traffic,
    decision::Verdict::no_data, decision::Verdict::insufficient_sample,
    decision::Verdict::error};

constexpr decision::Action k_actions[] = {
    decision::Action::none, decision::Action::notify, decision::Action::escalate,
    decision::Action::request_approval, decision::Action::trigger};

/// The families of rollback_condition_value*, one per unit (condition_value).
constexpr const char* k_value_families[] = {
    "rollback_condition_value_seconds", "rollback_condition_value_ratio",
    "rollback_condition_value_requests", "rollback_condition_value_alerts",
    "rollback_condition_value"};

double epoch_seconds(util::SystemTime t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

server::Response json_response(int status, const boost::json::object& o, std::string outcome) {
    server::Response r;
    r.status = status;
    r.body = util::json_text(o) + "\n";
    r.outcome = std::move(outcome);
    return r;
}

constexpr const char* k_inbox_file = "alerts.inbox";

/// A notification as an Alertmanager (version 4) body, which parse_alertmanager reads back.
std::string notification_json(const server::AlertNotification& n) {
    boost::json::array alerts;
    for (const auto& a : n.alerts) {
        boost::json::object labels, annotations;
        for (const auto& [k, v] : a.labels) {
            labels[k] = v;
        }
        for (const auto& [k, v] : a.annotations) {
            annotations[k] = v;
        }
        alerts.push_back({{"status", a.status},
                          {"labels", std::move(labels)},
                          {"annotations", std::move(annotations)},
                          {"startsAt", a.starts_at},
                          {"endsAt", a.ends_at},
                          {"fingerprint", a.fingerprint}});
    }
    return util::json_text(boost::json::object{{"version", n.version},
                                               {"status", n.status},
                                               {"receiver", n.receiver},
                                               {"groupKey", n.group_key},
                                               {"alerts", std::move(alerts)}});
}

} // namespace

void Endpoint::write_inbox() {
    const fs::path path = m_state_dir / k_inbox_file;
    if (m_taken.empty() && m_inbox.empty()) {
        std::error_code ec;
        fs::remove(path, ec);
        return;
    }
    std::string text;
    for (const auto* list : {&m_taken, &m_inbox}) {
        for (const auto& n : *list) {
            text += notification_json(n) + "\n";
        }
    }
    util::write_file_atomic(path, text, {0600, false});
}

void Endpoint::playbook_running(std::optional<util::SystemTime> since, const std::string& what) {
    std::lock_guard lock(m_mutex);
    m_running_since = since;
    m_running_what = since ? what : std::string();
}

void Endpoint::alerts_kept() {
    std::lock_guard lock(m_mutex);
    if (m_taken.empty()) {
        return;
    }
    m_taken.clear();
    try {
        write_inbox();
    } catch (const std::exception& e) {
        log::warn("webhook: cannot rewrite {}: {}", k_inbox_file, e.what());
    }
}

Endpoint::Endpoint(const config::ServerConfig& sc, fs::path state_dir,
                   std::vector<server::WebhookSpec> webhooks)
    : m_state_dir(std::move(state_dir)), m_webhooks(std::move(webhooks)) {
    // Notifications answered 200 by a monitor that stopped before keeping what they did.
    const fs::path inbox = m_state_dir / k_inbox_file;
    if (fs::exists(inbox)) {
        try {
            std::istringstream lines(util::read_file(inbox));
            std::string line, why;
            while (std::getline(lines, line)) {
                if (auto n = server::parse_alertmanager(line, why)) {
                    m_inbox.push_back(std::move(*n));
                } else if (!line.empty()) {
                    log::warn("webhook: {}: a line that is not a notification left out: {}",
                              inbox.string(), why);
                }
            }
            log::info("webhook: {} notification(s) received before a restart, applied now",
                      m_inbox.size());
        } catch (const std::exception& e) {
            log::warn("webhook: cannot read {}: {}", inbox.string(), e.what());
        }
    }
    auto& m = m_metrics;
    m.declare("rollback_ticks_total", MetricType::counter,
              "Evaluations of the signal conditions by the monitor loop.");
    m.declare("rollback_tick_duration_seconds", MetricType::histogram,
              "Time one tick took: reading the sources and evaluating.",
              {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
    m.declare("rollback_last_tick_timestamp_seconds", MetricType::gauge,
              "Unix time of the last tick of the signal conditions.");
    m.declare("rollback_decisions_total", MetricType::counter,
              "Evaluations by the action decided (none included).");
    m.declare("rollback_condition_verdict", MetricType::gauge,
              "1 for the verdict each condition has at its last evaluation, 0 for the others.");
    // One family per unit, in base units (Prometheus' naming conventions): a condition is in
    // the family of its signal's unit (value_family).
    m.declare("rollback_condition_value_seconds", MetricType::gauge,
              "The latency or downtime each such condition observed at its last evaluation, in "
              "seconds (absent when none).");
    m.declare("rollback_condition_value_ratio", MetricType::gauge,
              "The error rate each such condition observed at its last evaluation, a ratio "
              "(0-1; absent when none).");
    m.declare("rollback_condition_value_requests", MetricType::gauge,
              "The requests in the window each request_count condition observed at its last "
              "evaluation (absent when none).");
    m.declare("rollback_condition_value_alerts", MetricType::gauge,
              "The active alerts each alert condition counted at its last evaluation: confirmed "
              "ones when it confirms (absent when its confirming source gave no number).");
    m.declare("rollback_condition_value", MetricType::gauge,
              "The number a command, prometheus or sql source gave each `value` condition at "
              "its last evaluation, in the unit of its query (absent when none).");
    m.declare("rollback_source_read_errors_total", MetricType::counter,
              "Observations of a source that were unreadable (no data) or a failed check.");
    m.declare("rollback_log_lines_rejected_total", MetricType::counter,
              "Access-log lines that do not match the source's format (not counted).");
    m.declare("rollback_log_lines_late_total", MetricType::counter,
              "Access-log lines that came later than max_lateness (not counted).");
    m.declare("rollback_runs_total", MetricType::counter,
              "Rollback runs started or noticed by this monitor, by the state they ended in.");
    m.declare("rollback_runs_not_started_total", MetricType::counter,
              "Triggers whose run did not start (retried while the condition fires), by why: "
              "store (the state store failed), playbook (the playbook did not load), preflight "
              "(its preflight found problems).");
    m.declare("rollback_runs_not_resumed_total", MetricType::counter,
              "Resumes of a run a monitor left unfinished that failed (tried again after a "
              "growing delay; paged at the first).");
    m.declare("rollback_config_reloads_rejected_total", MetricType::counter,
              "SIGHUP reloads rejected (the running config kept), by why: state (the shared "
              "state or the state directory changed: only a restart applies it), invalid (the "
              "new file does not load).");
    m.declare("rollback_last_run_duration_seconds", MetricType::gauge,
              "How long the last rollback run the monitor started or noticed took.");
    m.declare("rollback_last_run_step_duration_seconds", MetricType::gauge,
              "Each step's duration in that run (all attempts), by step, phase and final status.");
    m.declare("rollback_alerts_active", MetricType::gauge,
              "Alertmanager alerts active (fired, not resolved) per alert condition.");
    m.declare("rollback_alert_notifications_total", MetricType::counter,
              "Alerts received in webhook notifications, by what they did: fired, repeated, "
              "resolved, resolved_unknown, unmatched, stale, expired.");
    m.declare("rollback_last_successful_rehearsal_timestamp_seconds", MetricType::gauge,
              "Unix time the newest successful `rollback rehearse` of the decision playbook "
              "started (absent when none).");
    m.declare("rollback_last_good_backup_timestamp_seconds", MetricType::gauge,
              "Unix time the newest verified backup marked good of each database the decision "
              "playbook restores, per backup catalog, was taken (absent when there is none): "
              "the backup a restore's last_good picks now.");
    m.declare("rollback_backup_catalog_unreadable_manifests", MetricType::gauge,
              "Entries of each backup catalog of the decision playbook that are no readable "
              "manifest (a foreign, half-written or damaged .json): no restore picks them.");
    // Known label values are 0 from the start (the first event is then an increase).
    for (int k = 0; k <= static_cast<int>(AlertChange::Kind::expired); ++k) {
        m.add("rollback_alert_notifications_total",
              {{"outcome", std::string(to_string(static_cast<AlertChange::Kind>(k)))}}, 0);
    }
    for (auto st : {journal::RunStatus::succeeded, journal::RunStatus::failed,
                    journal::RunStatus::verification_failed, journal::RunStatus::interrupted,
                    journal::RunStatus::needs_attention}) {
        m.add("rollback_runs_total", {{"state", std::string(journal::to_string(st))}}, 0);
    }
    for (const char* reason : {"store", "playbook", "preflight"}) {
        m.add("rollback_runs_not_started_total", {{"reason", reason}}, 0);
    }
    m.add("rollback_runs_not_resumed_total", {}, 0);
    for (const char* reason : {"state", "invalid"}) {
        m.add("rollback_config_reloads_rejected_total", {{"reason", reason}}, 0);
    }
    server::ServerOptions o;
    o.host = sc.host;
    o.port = sc.port;
    o.token = sc.token;
    o.max_body = sc.max_body;
    o.webhook_paths = {std::string(k_alertmanager_path)};
    for (const auto& w : m_webhooks) {
        o.webhook_paths.push_back(std::string(k_webhook_prefix) + w.name);
    }
    m_server = std::make_unique<server::HttpServer>(
        std::move(o), [this](const server::Request& r) { return handle(r); }, m_metrics);
}

Endpoint::~Endpoint() {
    stop();
}

void Endpoint::start() {
    m_server->start();
}

void Endpoint::stop() {
    if (m_server) {
        m_server->stop();
    }
}

uint16_t Endpoint::port() const {
    return m_server->port();
}

server::Response Endpoint::handle(const server::Request& r) {
    if (r.path == k_alertmanager_path) {
        if (r.method != "POST") {
            return json_response(405, {{"error", "POST an Alertmanager notification here"}},
                                 "bad_request");
        }
        std::string why;
        auto n = server::parse_alertmanager(r.body, why);
        return accept(std::move(n), why);
    }
    if (r.path.rfind(k_webhook_prefix, 0) == 0) {
        const std::string name = r.path.substr(k_webhook_prefix.size());
        auto w = std::find_if(m_webhooks.begin(), m_webhooks.end(),
                              [&](const auto& x) { return x.name == name; });
        if (w != m_webhooks.end()) {
            if (r.method != "POST") {
                return json_response(405, {{"error", "POST a notification here"}}, "bad_request");
            }
            std::string why;
            auto n = server::parse_webhook(r.body, *w, why, std::chrono::system_clock::now());
            return accept(std::move(n), why);
        }
    }
    if (r.path == "/metrics" || r.path == "/healthz") {
        if (r.method != "GET" && r.method != "HEAD") {
            return json_response(405, {{"error", "GET only"}}, "");
        }
    }
    if (r.path == "/healthz") {
        boost::json::object o{{"ok", true}};
        std::lock_guard lock(m_mutex);
        o["last_tick"] = m_last_tick ? util::format_time(*m_last_tick) : std::string();
        if (m_running_since) {
            // The loop waits for the playbook (a long step, an approval gate): it does not tick.
            o["ok"] = false;
            o["running_since"] = util::format_time(*m_running_since);
            o["reason"] = m_running_what + " since " + util::format_time(*m_running_since) +
                          ": the loop does not tick until it ends";
            return json_response(503, o, "");
        }
        return json_response(200, o, "");
    }
    if (r.path == "/metrics") {
        refresh_backup_targets();
        // Absent when no successful rehearsal is recorded (any more): `absent()` pages.
        if (auto t = last_rehearsal()) {
            m_metrics.set("rollback_last_successful_rehearsal_timestamp_seconds", {},
                          epoch_seconds(*t));
        } else {
            m_metrics.erase("rollback_last_successful_rehearsal_timestamp_seconds", {});
        }
        refresh_backup_times();
        server::Response resp;
        resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
        resp.body = m_metrics.render();
        return resp;
    }
    return json_response(404, {{"error", "no such path"}}, "");
}

server::Response Endpoint::accept(std::optional<server::AlertNotification> n,
                                  const std::string& why) {
    if (!n) {
        log::warn("webhook: refused a notification: {}", why);
        return json_response(400, {{"error", why}}, "bad_request");
    }
    const size_t alerts = n->alerts.size();
    {
        // Kept (fsync'd) before the 200: a monitor killed after answering still has it.
        std::lock_guard lock(m_mutex);
        m_inbox.push_back(std::move(*n));
        try {
            write_inbox();
        } catch (const std::exception& e) {
            m_inbox.pop_back();
            log::error("webhook: cannot keep a notification (answered 503, the sender retries): "
                       "{}",
                       e.what());
            return json_response(503, {{"error", "the notification cannot be kept"}},
                                 "unavailable");
        }
    }
    m_wake.notify_all();
    return json_response(200, {{"accepted", alerts}}, "accepted");
}

std::vector<server::AlertNotification> Endpoint::take_alerts() {
    std::lock_guard lock(m_mutex);
    std::vector<server::AlertNotification> out = m_inbox;
    m_taken.insert(m_taken.end(), std::make_move_iterator(m_inbox.begin()),
                   std::make_move_iterator(m_inbox.end()));
    m_inbox.clear();
    return out;
}

bool Endpoint::wait_until(util::SystemTime deadline, const std::function<bool()>& interrupted) {
    std::unique_lock lock(m_mutex);
    while (m_inbox.empty()) {
        if (interrupted()) {
            return false;
        }
        const auto now = std::chrono::system_clock::now();
        if (now >= deadline) {
            return false;
        }
        // Signals set flags and cannot notify a condition variable: the wait is sliced.
        const auto slice = std::min<std::chrono::system_clock::duration>(
            deadline - now, std::chrono::milliseconds(100));
        m_wake.wait_for(lock, slice);
    }
    return true;
}

ConditionValue condition_value(const decision::ConditionRecord& c, bool alert) {
    ConditionValue v{"rollback_condition_value", c.observed};
    if (alert) {
        v.family = "rollback_condition_value_alerts";
    } else if (c.unit == "ms") {
        v.family = "rollback_condition_value_seconds";
        if (v.value) {
            *v.value /= 1000.0;
        }
    } else if (c.unit == "s") {
        v.family = "rollback_condition_value_seconds";
    } else if (c.unit == "ratio") {
        v.family = "rollback_condition_value_ratio";
    } else if (c.unit == "requests") {
        v.family = "rollback_condition_value_requests";
    }
    return v;
}

void Endpoint::conditions_metrics(const decision::DecisionRecord& r, bool alerts) {
    for (const auto& c : r.conditions) {
        for (auto v : k_verdicts) {
            m_metrics.set("rollback_condition_verdict",
                          {{"condition", c.name}, {"verdict", std::string(to_string(v))}},
                          c.verdict == v ? 1 : 0);
        }
        const ConditionValue value = condition_value(c, alerts);
        const server::Labels labels{{"condition", c.name}};
        for (const char* family : k_value_families) {
            if (value.family != family) { // a reload may have changed the condition's signal
                m_metrics.erase(family, labels);
            }
        }
        if (value.value) {
            m_metrics.set(value.family, labels, *value.value);
        } else {
            m_metrics.erase(value.family, labels);
        }
    }
    for (auto a : k_actions) {
        m_metrics.add("rollback_decisions_total", {{"action", std::string(to_string(a))}},
                      r.action == a ? 1 : 0);
    }
}

void Endpoint::tick_done(const decision::Evaluation& e, double seconds, const Monitor& mon) {
    m_metrics.add("rollback_ticks_total", {});
    m_metrics.observe("rollback_tick_duration_seconds", seconds);
    m_metrics.set("rollback_last_tick_timestamp_seconds", {}, epoch_seconds(e.record.time));
    conditions_metrics(e.record, false);
    for (const auto& [source, n] : mon.read_errors()) {
        m_metrics.set("rollback_source_read_errors_total", {{"source", source}},
                      static_cast<double>(n));
    }
    for (const auto& entry : mon.config().sources) {
        if (entry.second.kind != config::SourceKind::access_log) {
            continue;
        }
        const auto counts = mon.log_counts(entry.first);
        m_metrics.set("rollback_log_lines_rejected_total", {{"source", entry.first}},
                      static_cast<double>(counts.rejected));
        m_metrics.set("rollback_log_lines_late_total", {{"source", entry.first}},
                      static_cast<double>(counts.late));
    }
    std::lock_guard lock(m_mutex);
    m_last_tick = e.record.time;
}

void Endpoint::alerts_evaluated(const decision::Evaluation& e, const Monitor& mon,
                                const AlertBook& book) {
    conditions_metrics(e.record, true);
    for (const auto& a : mon.config().alert_conditions) {
        m_metrics.set("rollback_alerts_active", {{"condition", a.spec.name}},
                      static_cast<double>(book.active(a)));
    }
}

void Endpoint::alert_changes(const std::vector<AlertChange>& changes) {
    for (const auto& c : changes) {
        m_metrics.add("rollback_alert_notifications_total",
                      {{"outcome", std::string(to_string(c.kind))}});
    }
}

void Endpoint::run_not_started(const std::string& reason) {
    m_metrics.add("rollback_runs_not_started_total", {{"reason", reason}});
}

void Endpoint::run_not_resumed() {
    m_metrics.add("rollback_runs_not_resumed_total", {});
}

void Endpoint::reload_rejected(const std::string& reason) {
    m_metrics.add("rollback_config_reloads_rejected_total", {{"reason", reason}});
}

void Endpoint::conditions_changed() {
    m_metrics.clear("rollback_condition_verdict");
    for (const char* family : k_value_families) {
        m_metrics.clear(family);
    }
    m_metrics.clear("rollback_alerts_active");
}

void Endpoint::run_ended(const journal::RunState& run) {
    m_metrics.add("rollback_runs_total", {{"state", std::string(journal::to_string(run.status))}});
    m_metrics.set("rollback_last_run_duration_seconds", {},
                  static_cast<double>(run.duration_ms) / 1000.0);
    m_metrics.clear("rollback_last_run_step_duration_seconds");
    for (const auto& st : run.steps) {
        if (st.status == journal::StepStatus::pending) {
            continue; // never started: no duration
        }
        m_metrics.set("rollback_last_run_step_duration_seconds",
                      {{"step", st.id},
                       {"phase", st.is_finally ? std::string("finally") : st.phase},
                       {"status", std::string(journal::to_string(st.status))}},
                      static_cast<double>(st.duration_ms) / 1000.0);
    }
}

void Endpoint::set_decision_playbook(fs::path playbook) {
    std::lock_guard lock(m_mutex);
    m_playbook = playbook.empty() ? playbook : fs::absolute(playbook).lexically_normal();
}

} // namespace rollback::monitor
