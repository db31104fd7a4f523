// SPDX-License-Identifier: MIT
#pragma once

// Internal to config/: reading [server] and the `kind = "alert"` conditions.

#include "config/config.hpp"
#include "playbook/toml_reader.hpp"

#include <cstddef>

namespace rollback::config {

/// Reads [server] into cfg.server: the listen address (IP literal and port), the bearer token
/// from `token_file` (relative to `base_dir`) or `token_env`, `max_body`. A non-loopback address
/// without a token is a diagnostic.
void read_server(playbook::TomlReader& rd, const playbook::tree::Table& t,
                 const std::filesystem::path& base_dir, Config& cfg);
/// Reads `[webhook.NAME]` into cfg.webhooks.
void read_webhook(playbook::TomlReader& rd, const std::string& name, const playbook::tree::Table& t,
                  Config& cfg);
/// Reads the `index`-th [[condition]] table, which has `kind = "alert"`, into
/// cfg.alert_conditions.
void read_alert_condition(playbook::TomlReader& rd, const playbook::tree::Table& t, size_t index,
                          Config& cfg);
/// Once every source is read: each alert condition's `confirm.source` names a `prometheus`
/// source (a diagnostic at `confirm` otherwise).
void check_alert_confirmations(playbook::TomlReader& rd, const Config& cfg);

} // namespace rollback::config
