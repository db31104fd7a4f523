// SPDX-License-Identifier: MIT
#pragma once

// The alerts the monitor holds active (monitor::AlertBook), kept so that a restarted monitor still
// knows the incidents Alertmanager reported: their resolution resolves them, a re-sent
// notification is a repeat, and an alert condition sees them at its first evaluation.

#include "util/time.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rollback::state {

/// One active alert, by fingerprint.
struct ActiveAlert {
    std::string fingerprint;
    std::map<std::string, std::string> labels;
    std::string starts_at;     ///< as Alertmanager sent it ("" when it sent none)
    util::SystemTime received; ///< when its first firing notification arrived
    std::string ends_at;       ///< as last sent ("" or Go's zero time: no end announced)
    /// Set: not active but resolved at this time (its resolution's endsAt, or when it arrived):
    /// remembered so that a late firing notification of the same fingerprint and startsAt does
    /// not reopen it.
    std::optional<util::SystemTime> resolved;
};

/// The active alerts, replaced as a whole whenever they change.
class ActiveAlerts {
  public:
    virtual ~ActiveAlerts() = default;
    /// The alerts kept, in fingerprint order; empty when none were kept. util::Error (exit 1)
    /// naming where they are kept when that is malformed.
    virtual std::vector<ActiveAlert> active_alerts() const = 0;
    /// Replaces what is kept with `alerts`, all or nothing (LocalStore: write, fsync, rename).
    /// util::Error when it cannot be kept.
    virtual void put_active_alerts(const std::vector<ActiveAlert>& alerts) = 0;
};

/// The document of the active alerts (without newline): {"version":1,"alerts":[{fingerprint,
/// labels, starts_at, received, ends_at?}],"resolved":[{fingerprint, starts_at, resolved}]},
/// and back ("resolved" and "ends_at" may be absent). parse_active_alerts throws util::Error (exit
/// 1) naming `where` when it is not that document.
std::string active_alerts_json(const std::vector<ActiveAlert>& alerts);
std::vector<ActiveAlert> parse_active_alerts(const std::string& text, const std::string& where);

} // namespace rollback::state
