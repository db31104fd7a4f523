// SPDX-License-Identifier: MIT
#pragma once

// The hosts a playbook's steps can run on: the `[hosts]` table of a playbook (read by the
// playbook loader) and Ansible INI inventory files (read here, as Ansible reads them: groups,
// `[group:vars]`, `[group:children]`, ansible_host/ansible_port/ansible_user).

#include "util/error.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::remote {

struct Host {
    std::string name;    ///< the inventory name: `{{host}}`, the journal's `step@host`
    std::string address; ///< what ssh connects to (ansible_host); the name when not given
    int port = 0;        ///< 0 = ssh's default (22, or the ssh_config's)
    std::string user;    ///< empty = ssh's default
    /// Per-host variables, `{{host.NAME}}`: the host's own over its groups' (`[g:vars]`).
    std::map<std::string, std::string> vars;
    util::Location where; ///< where the host is first named
};

struct Inventory {
    std::vector<Host> hosts;                                ///< in the order first named
    std::map<std::string, std::vector<std::string>> groups; ///< group → host names, in order
    std::map<std::string, util::Location> group_where;

    const Host* find(std::string_view name) const;
    /// The hosts a step's `hosts = "..."` names: a group (in its order) or one host; empty when
    /// the name is neither. "all" is every host.
    std::vector<const Host*> select(std::string_view name) const;
    /// Adds (or completes) `host` and appends it to `group` (when not empty).
    Host& add(const Host& host, const std::string& group);
    bool empty() const { return hosts.empty(); }
};

/// Reads an Ansible INI inventory. Comments (`#`, `;`), host lines `name [k=v ...]`, `[group]`,
/// `[group:vars]` (k=v lines), `[group:children]` (group names). Values may be quoted ('...' or
/// "..."). Host patterns (`web[1:4]`) and unknown section suffixes are errors; every error is
/// located at `file:line:col` in `errors`. Group variables apply to the hosts of the group and
/// of its children; a host's own variables win.
Inventory parse_ini_inventory(std::string_view text, const std::string& file,
                              std::vector<util::Diagnostic>& errors);

/// The INI text of `inv` that parse_ini_inventory reads back to the same hosts, groups and
/// variables (each host's variables on its own line; tests, `rollback plan`).
std::string to_ini(const Inventory& inv);

/// True for a host or group name usable in a playbook: letters, digits, `_`, `-`, `.`.
bool is_inventory_name(std::string_view name);

} // namespace rollback::remote
