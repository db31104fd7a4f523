// SPDX-License-Identifier: MIT
#pragma once

// Steps on hosts (issue 15; internal to orchestrator/): their preflight (every host reachable,
// its key known) and the settings of their ssh connections.

#include "actions/action.hpp"
#include "remote/ssh.hpp"

namespace rollback::orchestrator {

/// The ssh settings of a playbook's `[remote]` table.
remote::SshSettings ssh_settings(const playbook::RemoteSettings& r);

/// What the preflight of a step on hosts reads (all read-only).
struct PreflightInput {
    const playbook::Playbook& playbook;
    const playbook::Step& step;
    exec::ProcessRunner& local;
    std::filesystem::path state_dir;
    state::BadReleases& bad_releases;
    const actions::Trigger& trigger;
};

/// The checks of `step` host by host: its master connection opens (reachable, authenticated,
/// host key in the known_hosts file), then the action's own preflight on that host (the program
/// or the unit there, the release directory, the URL with the host's values), each failure
/// naming the host. An http step checks its URL per host without ssh. Read-only; the
/// connections are closed before returning.
std::vector<actions::Check> preflight_hosts(const PreflightInput& in);

} // namespace rollback::orchestrator
