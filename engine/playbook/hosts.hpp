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

/// `text` with each placeholder written back as the reference it stands for (`{{host}}`,
/// `{{host.NAME}}`): how a host step's command is shown before it is bound to a host (plan,
/// preflight, --json), never as the placeholder's control bytes.
std::string show_host_references(std::string_view text);

/// A copy of `step` for `host`: argv, env values, cwd, description and probe bound. An empty
/// cwd becomes "." (the login directory on the host).
Step bind_host(const Step& step, const remote::Host& host);

} // namespace rollback::playbook
