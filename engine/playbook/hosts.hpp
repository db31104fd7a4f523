// SPDX-License-Identifier: MIT
#pragma once

// A host step made concrete for one host: its `{{host}}` / `{{host.NAME}}` references (kept by
// the loader as placeholders, k_host_open NAME k_host_close) replaced by that host's values.

#include "playbook/model.hpp"

namespace rollback::playbook {

/// `text` with each placeholder replaced by `host`'s name or variable (plain: the value as it
/// is — the loader allows them only where a program reads data). An unknown variable is empty
/// (the loader checked that every host of the step defines the ones it uses).
std::string bind_host_text(std::string_view text, const remote::Host& host);

/// `text` with each placeholder (plain or percent-encoded) shown as the `{{host}}` /
/// `{{host.NAME}}` written in the playbook: what the plan shows of a step on hosts.
std::string show_host_references(std::string_view text);

/// A copy of `step` for `host`: argv, env values, cwd, description, probe, the action's own keys
/// (params; percent-encoded placeholders in URLs get the value percent-encoded) and SQL values
/// bound; `parsed` is dropped so the action parses the bound keys. An empty cwd becomes "." (the
/// login directory on the host).
Step bind_host(const Step& step, const remote::Host& host);

} // namespace rollback::playbook
