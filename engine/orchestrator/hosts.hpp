// SPDX-License-Identifier: MIT
#pragma once

// Steps on hosts (issue 15): their preflight (every host reachable,
// its key known) and the settings of their ssh connections.

#include "actions/action.hpp"
#include "remote/ssh.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace rollback::orchestrator {

/// The ssh settings of a playbook's `[remote]` table.
remote::SshSettings ssh_settings(const playbook::RemoteSettings& r);

/// The preflight of the steps on hosts of one plan, host by host: the master connection opens
/// (reachable, authenticated, host key in the known_hosts file; once per host for every step),
/// then the action's own preflight on that host (the program or the unit there, the release
/// directory, the URL with the host's values; an exec step's program once per host and
/// directory), each failure naming the host. The hosts of a step are checked in parallel (at
/// most `[remote] parallel` at once); an http step checks its URL per host without ssh.
/// Read-only. `connections` (may be null: made here) are shared with the run that follows, so a
/// host's master connection is opened once for `run`; the last owner closes them.
class HostPreflight {
  public:
    HostPreflight(const playbook::Playbook& pb, exec::ProcessRunner& local,
                  std::filesystem::path state_dir, state::BadReleases& bad,
                  const actions::Trigger& trigger,
                  std::shared_ptr<remote::Connections> connections = nullptr);
    ~HostPreflight();
    HostPreflight(const HostPreflight&) = delete;
    HostPreflight& operator=(const HostPreflight&) = delete;

    /// The checks of `step` (a step with hosts), in inventory order of its hosts.
    std::vector<actions::Check> step(const playbook::Step& step);

  private:
    std::vector<actions::Check> host_checks(const playbook::Step& step, const remote::Host& h);

    const playbook::Playbook& m_pb;
    exec::ProcessRunner& m_local;
    std::filesystem::path m_state_dir;
    state::BadReleases& m_bad;
    const actions::Trigger& m_trigger;
    std::shared_ptr<remote::Connections> m_connections; ///< given, or made by the first step
    std::mutex m_mutex;
    std::map<std::string, std::vector<actions::Check>> m_programs;
};

} // namespace rollback::orchestrator
