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

} // namespace rollback::server
