// SPDX-License-Identifier: MIT
#pragma once

// The alerts Alertmanager reported active, by fingerprint: one incident per fingerprint, however
// often it is re-sent (repeat_interval), until a `resolved` notification for it arrives. Pure:
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
    enum class Kind { fired, repeated, resolved, resolved_unknown, unmatched };
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
    /// already active is a repeat (its labels refreshed); a resolved one is removed (resolved) or
    /// was not known (resolved_unknown). One change per alert, in the notification's order.
    std::vector<AlertChange> apply(const server::AlertNotification& n,
                                   const std::vector<config::AlertCondition>& conditions,
                                   util::SystemTime now);
    /// Active alerts matching `c`.
    size_t active(const config::AlertCondition& c) const;
    /// The active alerts matching `c` as a person reads them (at most 5, then "and N more"):
    /// `{alertname="HighErrorRate", service="shop"} since 2026-12-05T17:00:00Z (fingerprint f1)`.
    /// "" when none.
    std::string describe(const config::AlertCondition& c) const;
    size_t size() const { return m_active.size(); }
    /// The fingerprints of the active alerts matching `c`, in order.
    std::vector<std::string> fingerprints(const config::AlertCondition& c) const;

    /// Every active alert, in fingerprint order: what is kept across a restart.
    std::vector<ActiveAlert> alerts() const;
    /// Makes `kept` (what a previous monitor kept) the active alerts, but only those matching
    /// one of `conditions` (a changed config may match fewer). Returns how many were left out.
    size_t restore(std::vector<ActiveAlert> kept,
                   const std::vector<config::AlertCondition>& conditions);

  private:
    std::map<std::string, ActiveAlert> m_active; ///< by fingerprint
};

} // namespace rollback::monitor
