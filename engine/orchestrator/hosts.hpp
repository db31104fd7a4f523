// SPDX-License-Identifier: MIT
#pragma once

// Steps on hosts (issue 15; internal to orchestrator/): their preflight (every host reachable,
// its key known) and the settings of their ssh connections.

#include "actions/action.hpp"
#include "remote/ssh.hpp"

namespace rollback::orchestrator {

/// The ssh settings of a playbook's `[remote]` table.
remote::SshSettings ssh_settings(const playbook::RemoteSettings& r);

/// One check per host of `step`: its master connection opens (reachable, authenticated, host
/// key in the known_hosts file). Read-only; the connections are closed before returning.
std::vector<actions::Check> preflight_hosts(const playbook::Playbook& pb,
                                            const playbook::Step& step, exec::ProcessRunner& local);

} // namespace rollback::orchestrator
