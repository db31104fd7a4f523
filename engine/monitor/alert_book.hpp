// SPDX-License-Identifier: MIT
#pragma once

// The alerts Alertmanager reported active, by fingerprint: one incident per fingerprint, however
// often it is re-sent (repeat_interval), until a `resolved` notification for it arrives or its
// endsAt passes (Alertmanager's semantics: an alert whose endsAt is in the past is resolved).
// The resolution of a fingerprint and startsAt is remembered, so that a firing notification of
// the same alert sent before it (an HA peer, a retried delivery, out of order) does not reopen
// it. An alert without startsAt (a generic webhook that selects none: Uptime Kuma, Sentry) has no
// such identity: a firing after its resolution is a new incident. Pure:
// fed notifications, asked how many active alerts match an alert condition. `rollback monitor`
// keeps the book in the state (state::ActiveAlerts) whenever it changes and restores it at start.

#include "config/config.hpp"
#include "server/alertmanager.hpp"
#include "state/active_alerts.hpp"
#include "util/time.hpp"

#include <map>
#include <string>
#include <vector>

namespace rollback::monitor {

using ActiveAlert = state::ActiveAlert;

/// What one alert of a notification did to the book.
struct AlertChange {
    /// `stale`: a firing notification of an alert already resolved (same fingerprint and
    /// non-empty startsAt, its endsAt not after the resolution), ignored. `expired`: an active
    /// alert not re-sent before its endsAt (AlertBook::expire).
    enum class Kind { fired, repeated, resolved, resolved_unknown, unmatched, stale, expired };
    Kind kind = Kind::fired;
    std::string fingerprint;
    std::map<std::string, std::string> labels;
    std::vector<std::string> conditions; ///< the alert conditions it matches
};
std::string_view to_string(AlertChange::Kind k);

class AlertBook {
  public:
    /// Applies a notification received at `now` against `conditions`: a firing alert not active
    /// yet becomes active (fired) when it matches a condition (else `unmatched`, not kept); one
    /// already active is a repeat (its labels and endsAt refreshed); a resolved one, or a firing
    /// one whose endsAt is not after `now`, is removed (resolved) or was not known
    /// (resolved_unknown); a firing one of a resolved fingerprint and (non-empty) startsAt whose
    /// endsAt is not after the resolution is `stale` (ignored); without startsAt it fires anew. One
    /// change per alert, in the notification's order.
    std::vector<AlertChange> apply(const server::AlertNotification& n,
                                   const std::vector<config::AlertCondition>& conditions,
                                   util::SystemTime now);
    /// Ends the active alerts whose endsAt is not after `now` (they were not re-sent in time: the
    /// resolved notification was lost): one `expired` change each, in fingerprint order.
    std::vector<AlertChange> expire(util::SystemTime now);
    /// Active alerts matching `c`.
    size_t active(const config::AlertCondition& c) const;
    /// The active alerts matching `c` as a person reads them (at most 5, then "and N more"):
    /// `{alertname="HighErrorRate", service="shop"} since 2026-12-05T17:00:00Z (fingerprint f1)`.
    /// "" when none.
    std::string describe(const config::AlertCondition& c) const;
    size_t size() const { return m_active.size(); }
    /// The fingerprints of the active alerts matching `c`, in order.
    std::vector<std::string> fingerprints(const config::AlertCondition& c) const;

    /// Every active alert, in fingerprint order, then the remembered resolutions (`resolved`
    /// set): what is kept across a restart.
    std::vector<ActiveAlert> alerts() const;
    /// Makes `kept` (what a previous monitor kept) the active alerts, but only those matching
    /// one of `conditions` (a changed config may match fewer). Returns how many were left out.
    size_t restore(std::vector<ActiveAlert> kept,
                   const std::vector<config::AlertCondition>& conditions);

  private:
    void remember_resolution(const std::string& fingerprint, const std::string& starts_at,
                             util::SystemTime at);

    std::map<std::string, ActiveAlert> m_active; ///< by fingerprint
    /// The latest resolution of each fingerprint (at most k_resolutions_kept, the oldest go).
    std::map<std::string, ActiveAlert> m_resolved;
};

} // namespace rollback::monitor
