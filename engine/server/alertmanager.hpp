// SPDX-License-Identifier: MIT
#pragma once

// Alertmanager's webhook payload, version 4
// (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config): parsed into values,
// every field checked, nothing else done.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::server {

struct Alert {
    std::string status; ///< "firing" | "resolved"
    std::map<std::string, std::string> labels, annotations;
    /// RFC 3339, read by util::parse_time and written back in UTC ending in Z (format_time);
    /// Go's zero time "0001-01-01T00:00:00Z" (no end announced) as it is; "" when absent.
    std::string starts_at, ends_at;
    std::string fingerprint;
};

struct AlertNotification {
    std::string version; ///< "4"
    std::string status;  ///< of the group: "firing" | "resolved"
    std::string receiver, group_key;
    std::vector<Alert> alerts;
};

/// Parses a notification. nullopt and `why` (a short reason for the 400 answer: "not JSON: ...",
/// "alerts[2].fingerprint: missing") when the body is not a version 4 payload. Bounded: at most
/// k_max_alerts alerts, label names and values as strings.
std::optional<AlertNotification> parse_alertmanager(std::string_view body, std::string& why);

inline constexpr size_t k_max_alerts = 10000;

/// An alert's startsAt or endsAt read by the one time parser and kept as the console writes
/// times (UTC, ending in Z); Go's zero time (Alertmanager's endsAt of a firing alert) is kept
/// as "0001-01-01T00:00:00Z". Absent: stays "". False and `why` (`where` + `key`: reason) when
/// it is no time.
bool normalize_time(std::string& text, std::string& why, const std::string& where,
                    std::string_view key);

} // namespace rollback::server
