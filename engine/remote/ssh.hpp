// SPDX-License-Identifier: MIT
#pragma once

// Steps on hosts over the system OpenSSH client: one master connection per host (ControlMaster,
// ControlPersist) in a private directory, `BatchMode=yes` (no prompt, ever), strict host-key
// checking against one known_hosts file (an unknown key is an error, never accepted), and each
// command run by the remote wrapper (remote/wrapper.hpp) with its argv and environment on stdin.

#include "exec/runner.hpp"
#include "remote/inventory.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace rollback::remote {

struct SshSettings {
    std::string known_hosts; ///< required: the only file host keys are checked against
    std::string identity;    ///< a private key file (-i, IdentitiesOnly); empty = ssh's default
    std::string config;      ///< an ssh_config file (-F); empty = the user's and the system's
    std::string user;        ///< the default login; a host's own wins; empty = ssh's default
    std::chrono::seconds connect_timeout{10};
    std::chrono::seconds persist{60}; ///< ControlPersist: a master outlives an idle engine so long
    std::string program = "ssh";
};

/// The master connections of one run. Thread-safe. The destructor closes every master it
/// opened (`ssh -O exit`) and removes the private directory of their sockets.
class Connections {
  public:
    /// Throws util::Error when the private directory cannot be made.
    Connections(exec::ProcessRunner& local, SshSettings settings);
    ~Connections();
    Connections(const Connections&) = delete;
    Connections& operator=(const Connections&) = delete;

    /// Opens the master connection to `host` once (authenticating, checking its key); returns
    /// "" when it is open, else the problem in one line (the same one on every later call):
    /// `host key of 127.0.0.1:2201 is not in known_hosts FILE`, `cannot connect: ...`.
    std::string open(const Host& host);
    /// ssh's argv up to (not including) the destination, for a command over the master.
    std::vector<std::string> command_argv(const Host& host) const;
    const SshSettings& settings() const { return m_settings; }
    exec::ProcessRunner& local() const { return m_local; }

  private:
    std::vector<std::string> base_argv(const Host& host) const;
    exec::ProcessRunner& m_local;
    SshSettings m_settings;
    std::string m_dir; ///< 0700, holds the control sockets
    std::mutex m_mutex;
    std::map<std::string, std::string> m_opened; ///< host name → "" or its problem
    std::map<std::string, Host> m_hosts;
};

/// The process runner of one host: runs a Command's program on the host through its master
/// connection (opened on first use). The local ssh client is the child the engine times out and
/// interrupts; its end makes the wrapper end the remote group. Outcome: the remote program's
/// exit code; failed_to_start when the host cannot be reached or the program not started there
/// (the error says which); exit 255 with a line in stderr when the connection was lost while the
/// program ran. Command::cwd is the directory on the host (empty or "." = the login directory).
class SshRunner final : public exec::ProcessRunner {
  public:
    SshRunner(Connections& connections, Host host);
    exec::Outcome run(const exec::Command& cmd) override;
    /// The process groups the programs got on the host, in start order.
    std::vector<int> remote_groups() const;
    const Host& host() const { return m_host; }

  private:
    Connections& m_connections;
    Host m_host;
    mutable std::mutex m_mutex;
    std::vector<int> m_groups;
};

/// `host:port` (or the address alone without a port) as ssh and known_hosts name it.
std::string endpoint(const Host& host);

} // namespace rollback::remote
