// SPDX-License-Identifier: MIT
#pragma once

// A generic JSON webhook (Grafana alerting, Sentry issue alerts, uptime checkers): field
// selectors say where in the body the alerts, their status, their identity and their labels are;
// the result is the same notification an Alertmanager webhook gives.

#include "server/alertmanager.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

#include <map>
#include <string>
#include <vector>

namespace rollback::server {

/// `[webhook.NAME]` of rollback.toml. Paths are dotted (`data.issue.id`; an array element by
/// its index, `alerts.0`).
struct WebhookSpec {
    std::string name;
    std::string alerts; ///< the array of alerts; "" = the body is one alert
    std::string status; ///< in an alert: its status ("" = always firing)
    std::vector<std::string> firing = {"firing"};
    std::vector<std::string> resolved = {"resolved"};
    std::string fingerprint;                   ///< in an alert: what identifies one incident
    std::map<std::string, std::string> labels; ///< label → path in an alert
    /// In an alert: its start and announced end (RFC 3339, as Alertmanager's startsAt/endsAt;
    /// Grafana sends both). "" = not sent: a firing after a resolution is then a new incident.
    std::string starts_at;
    std::string ends_at;
    /// How long a firing alert lasts unless re-sent (its endsAt is then its arrival plus this,
    /// when the body announces no end): the end of an incident a source never resolves (Sentry,
    /// `status = ""`). Zero: none. Set by the config (default k_default_expire_after when the
    /// source has no resolution).
    util::Millis expire_after{0};
};

/// The lifetime of an alert of a source that cannot resolve it (`status = ""` or no resolved
/// value), unless `expire_after` says otherwise.
inline constexpr util::Millis k_default_expire_after{std::chrono::hours(1)};

/// The first problem of a dotted path (empty, an empty segment), "" when it is well formed.
std::string path_problem(const std::string& path);

/// Reads `body` as `spec` says. Booleans are read as their JSON text, numbers in one form (an
/// uptime checker's status 0/1; 1e2 and 100 are "100", 0.0 is "0", 0.5 "0.5"). Fingerprints get
/// the prefix "NAME:". nullopt and `why` when a selected field is missing, is a number that
/// cannot be kept exactly (an integer past 2^53 that is no exact 64-bit integer), or the status
/// is neither firing nor resolved, or a selected startsAt/endsAt is no time. A firing alert
/// that announces no end gets `received` + spec.expire_after as its endsAt (when set).
std::optional<AlertNotification> parse_webhook(std::string_view body, const WebhookSpec& spec,
                                               std::string& why,
                                               util::SystemTime received = util::SystemTime{});

} // namespace rollback::server
