// SPDX-License-Identifier: MIT
#include "remote/ssh.hpp"

#include "remote/wrapper.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

namespace rollback::remote {
namespace {

/// The remote command line. With an attempt token, the wrapper runs under it (`env`, which every
/// login shell can run): the wrapper, its watcher and the program all carry it, so a resume finds
/// on the host whatever of the attempt still runs there, the wrapper ending the program's group
/// included (orchestrator/host_survivors.hpp). The token is no secret and holds only
/// [A-Za-z0-9_.@/-]; anything else is left off.
std::string remote_command(const std::string& token) {
    const std::string& wrapper = wrapper_command();
    const std::string_view exec_word = "exec ";
    if (token.empty() || wrapper.rfind(exec_word, 0) != 0 ||
        token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789_.@/-") != std::string::npos) {
        return wrapper;
    }
    return "exec env " + std::string(exec::k_attempt_env) + "=" + token + " " +
           wrapper.substr(exec_word.size());
}

std::string nonce() {
    static thread_local std::mt19937_64 rng{[] {
        std::random_device rd;
        return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    }()};
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(rng()));
    return hex;
}

std::string last_line(std::string_view text) {
    std::string_view t = util::trim(text);
    size_t nl = t.rfind('\n');
    return std::string(util::trim(nl == std::string_view::npos ? t : t.substr(nl + 1)));
}

bool is_env_name(const std::string& name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
        return false;
    }
    for (char c : name) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
            return false;
        }
    }
    return true;
}

} // namespace

std::string endpoint(const Host& host) {
    return host.port != 0 ? host.address + ":" + std::to_string(host.port) : host.address;
}

Connections::Connections(exec::ProcessRunner& local, SshSettings settings)
    : m_local(local), m_settings(std::move(settings)) {
    const char* tmp = std::getenv("TMPDIR");
    // Short: a control socket's path must fit in sun_path (108 bytes) with its 40-digit %C.
    std::string pattern = std::string(tmp != nullptr && std::strlen(tmp) < 40 ? tmp : "/tmp") +
                          "/rollback-ssh-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) { // mkdtemp makes it 0700
        throw util::Error("cannot create a directory for ssh connections in " + pattern + ": " +
                          std::strerror(errno));
    }
    m_dir = pattern;
}

Connections::~Connections() {
    std::map<std::string, std::string> opened;
    {
        std::lock_guard lock(m_mutex);
        opened = m_opened;
    }
    for (const auto& [name, problem] : opened) {
        if (!problem.empty()) {
            continue;
        }
        exec::Command cmd;
        cmd.argv = base_argv(m_hosts[name]);
        cmd.argv.insert(cmd.argv.end(), {"-O", "exit", "--", m_hosts[name].address});
        cmd.timeout = std::chrono::seconds(5);
        m_local.run(cmd);
    }
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
}

std::vector<std::string> Connections::base_argv(const Host& host) const {
    std::vector<std::string> argv{m_settings.program};
    // Only [remote] ssh_config is read (none: -F /dev/null, not the user's nor the system's),
    // and only [remote] known_hosts decides a host key: no KnownHostsCommand, no DNS.
    argv.insert(argv.end(),
                {"-F", m_settings.config.empty() ? std::string("/dev/null") : m_settings.config});
    for (std::string o : {"BatchMode=yes", "StrictHostKeyChecking=yes", "UpdateHostKeys=no",
                          "CheckHostIP=no", "GlobalKnownHostsFile=/dev/null",
                          "KnownHostsCommand=none", "VerifyHostKeyDNS=no", "LogLevel=ERROR",
                          "ForwardAgent=no", "ClearAllForwardings=yes", "PermitLocalCommand=no"}) {
        argv.insert(argv.end(), {"-o", o});
    }
    argv.insert(argv.end(), {"-o", "UserKnownHostsFile=" + m_settings.known_hosts});
    argv.insert(argv.end(),
                {"-o", "ConnectTimeout=" + std::to_string(m_settings.connect_timeout.count())});
    argv.insert(argv.end(), {"-o", "ControlPath=" + m_dir + "/%C"});
    if (!m_settings.identity.empty()) {
        argv.insert(argv.end(), {"-i", m_settings.identity, "-o", "IdentitiesOnly=yes"});
    }
    if (host.port != 0) {
        argv.insert(argv.end(), {"-p", std::to_string(host.port)});
    }
    std::string user = host.user.empty() ? m_settings.user : host.user;
    if (!user.empty()) {
        argv.insert(argv.end(), {"-l", user});
    }
    return argv;
}

std::vector<std::string> Connections::command_argv(const Host& host) const {
    std::vector<std::string> argv = base_argv(host);
    argv.insert(argv.end(), {"-o", "ControlMaster=no", "-T"});
    return argv;
}

std::string Connections::open(const Host& host) {
    {
        std::lock_guard lock(m_mutex);
        if (auto it = m_opened.find(host.name); it != m_opened.end()) {
            return it->second;
        }
    }
    exec::Command cmd;
    cmd.argv = base_argv(host);
    // -f: ssh forks into the background (its own session) once authenticated; the master
    // then serves every command of the run and ends `persist` after the last one.
    cmd.argv.insert(cmd.argv.end(), {"-o", "ControlMaster=yes", "-o",
                                     "ControlPersist=" + std::to_string(m_settings.persist.count()),
                                     "-N", "-f", "--", host.address});
    cmd.timeout = m_settings.connect_timeout + std::chrono::seconds(5);
    cmd.grace = std::chrono::seconds(1);
    exec::Outcome o = m_local.run(cmd);
    std::string problem;
    if (!o.ok()) {
        std::string why = last_line(util::trim(o.stderr_tail));
        // ssh ends a changed or revoked key with "Host key verification failed" too: its
        // banner is looked for first, so that it is never read as an unknown key to add.
        std::string offending; // "Offending ED25519 key in FILE:LINE", when ssh names it
        if (size_t at = o.stderr_tail.find("Offending "); at != std::string::npos) {
            offending = std::string(
                util::trim(o.stderr_tail.substr(at, o.stderr_tail.find('\n', at) - at)));
        }
        if (o.stderr_tail.find("REMOTE HOST IDENTIFICATION HAS CHANGED") != std::string::npos ||
            o.stderr_tail.find("REVOKED HOST KEY") != std::string::npos ||
            o.stderr_tail.find("is marked as revoked") != std::string::npos) {
            problem = "the host key of " + endpoint(host) + " does not match known_hosts " +
                      m_settings.known_hosts + (offending.empty() ? "" : " (" + offending + ")") +
                      ": possible attack, verify the new key out of band (never add it "
                      "because this run needs it)";
        } else if (o.stderr_tail.find("Host key verification failed") != std::string::npos ||
                   o.stderr_tail.find("host key is known") != std::string::npos) {
            problem = "the host key of " + endpoint(host) + " is not in known_hosts " +
                      m_settings.known_hosts +
                      " (check the key's fingerprint with the host's owner, then add it)";
        } else if (o.ending == exec::Ending::failed_to_start) {
            problem = o.error;
        } else if (o.ending == exec::Ending::timed_out) {
            problem = "cannot connect to " + endpoint(host) + ": no answer";
        } else {
            problem = "cannot connect to " + endpoint(host) + ": " +
                      (why.empty() ? "ssh exit " + std::to_string(o.exit_code) : why);
        }
    }
    std::lock_guard lock(m_mutex);
    m_hosts[host.name] = host;
    return m_opened.emplace(host.name, problem).first->second;
}

SshRunner::SshRunner(Connections& connections, Host host)
    : m_connections(connections), m_host(std::move(host)) {}

std::vector<int> SshRunner::remote_groups() const {
    std::lock_guard lock(m_mutex);
    return m_groups;
}

exec::Outcome SshRunner::run(const exec::Command& cmd) {
    exec::Outcome out;
    if (std::string problem = m_connections.open(m_host); !problem.empty()) {
        out.ending = exec::Ending::failed_to_start;
        out.error = "host " + m_host.name + ": " + problem;
        return out;
    }
    Request req;
    req.argv = cmd.argv;
    req.env = cmd.env;
    for (const auto& [k, v] : cmd.env) {
        if (!is_env_name(k)) {
            out.ending = exec::Ending::failed_to_start;
            out.error =
                "host " + m_host.name + ": invalid environment variable name " + util::quoted(k);
            return out;
        }
    }
    if (!cmd.attempt_token.empty()) {
        req.env[std::string(exec::k_attempt_env)] = cmd.attempt_token;
    }
    req.cwd = cmd.cwd;
    req.grace = std::chrono::duration_cast<std::chrono::seconds>(cmd.grace);
    if (req.grace.count() < 1) {
        req.grace = std::chrono::seconds(1);
    }
    req.nonce = nonce();

    exec::Command local;
    local.argv = m_connections.command_argv(m_host);
    local.argv.insert(local.argv.end(), {"--", m_host.address, remote_command(cmd.attempt_token)});
    local.stdin_data = encode_request(req);
    local.keep_stdin_open = true;
    local.timeout = cmd.timeout;
    local.grace = cmd.grace;
    local.capture_limit = cmd.capture_limit;
    // The token goes to the host only (the request's environment, the remote command line): on
    // the engine's machine the ssh client is the child; were the host this machine, the
    // attempt's processes there would otherwise pass for the client's own leftovers.
    local.on_started = cmd.on_started;
    local.on_exited = cmd.on_exited;
    std::string pending; // a partial stderr line: the wrapper's lines are never shown
    const std::string marker = "@rollback-remote:" + req.nonce + " ";
    if (cmd.on_output) {
        local.on_output = [&cmd, &pending, &marker](std::string_view chunk, bool is_stderr) {
            if (!is_stderr) {
                cmd.on_output(chunk, false);
                return;
            }
            pending.append(chunk);
            size_t nl;
            while ((nl = pending.find('\n')) != std::string::npos) {
                std::string line = pending.substr(0, nl + 1);
                pending.erase(0, nl + 1);
                if (line.find(marker) == std::string::npos) {
                    cmd.on_output(line, true);
                }
            }
        };
    }
    out = m_connections.local().run(local);
    Report rep = take_report(out.stderr_tail, req.nonce);
    if (rep.pgid) {
        std::lock_guard lock(m_mutex);
        m_groups.push_back(*rep.pgid);
    }
    if (out.ending != exec::Ending::exited) {
        return out; // timed out, interrupted: the wrapper ends the remote group
    }
    if (!rep.not_started.empty()) {
        out.ending = exec::Ending::failed_to_start;
        out.error = "on host " + m_host.name + ": " + rep.not_started;
    } else if (rep.exit_code) {
        out.exit_code = *rep.exit_code;
        // sh's `wait` reports a program killed by signal N as 128+N: shown as the signal, as
        // the local runner shows one (the code stays in exit_code for the record).
        if (*rep.exit_code > 128 && *rep.exit_code <= 128 + 64) {
            out.ending = exec::Ending::signaled;
            out.signal = *rep.exit_code - 128;
        }
    } else if (!rep.pgid) {
        out.ending = exec::Ending::failed_to_start;
        std::string why = last_line(out.stderr_tail);
        out.error = "host " + m_host.name + ": cannot run the command over ssh" +
                    (why.empty() ? "" : ": " + why);
    } else {
        if (!out.stderr_tail.empty() && out.stderr_tail.back() != '\n') {
            out.stderr_tail += '\n';
        }
        out.stderr_tail += "rollback: the connection to host " + m_host.name +
                           " was lost while the program ran (group " + std::to_string(*rep.pgid) +
                           " on the host)\n";
    }
    return out;
}

} // namespace rollback::remote
