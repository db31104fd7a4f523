// SPDX-License-Identifier: MIT
#pragma once

// The hosts a playbook's steps can run on: the `[hosts]` table of a playbook (read by the
// playbook loader) and Ansible inventory files, INI or YAML (read here, as Ansible reads them:
// groups, their vars and children, ansible_host/ansible_port/ansible_user; one set of rules for
// both, inventory_source.hpp).

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

/// Reads an Ansible YAML inventory (yaml-cpp): `all:` (and any other top-level group), each
/// group a mapping of `hosts:` (host → its variables or nothing), `vars:` and `children:`
/// (group → the same shape or nothing); anchors, aliases and `<<` merges as YAML has them.
/// The same rules as parse_ini_inventory; a variable's value is its scalar's text as written.
/// Every error is located at `file:line:col` in `errors`, the reader stopping at the first one
/// that leaves the rest unreadable: YAML syntax, a value that is a list or mapping, a null
/// value, a non-scalar key, a duplicate key, an unknown key in a group, a host pattern, a tag
/// other than YAML's own (`!vault`), more than one document, nesting deeper than 64, more than
/// 500000 nodes (aliases counted as expanded), more hosts/groups than inventory_source.hpp
/// allows. Never throws for bad input.
Inventory parse_yaml_inventory(std::string_view text, const std::string& file,
                               std::vector<util::Diagnostic>& errors);

/// parse_yaml_inventory when `file` ends in `.yml` or `.yaml`, else parse_ini_inventory.
Inventory parse_inventory(std::string_view text, const std::string& file,
                          std::vector<util::Diagnostic>& errors);

/// The INI text of `inv` that parse_ini_inventory reads back to the same hosts, groups and
/// variables (each host's variables on its own line; tests, `rollback plan`).
std::string to_ini(const Inventory& inv);

/// True for a host or group name usable in a playbook: letters, digits, `_`, `-`, `.`.
bool is_inventory_name(std::string_view name);

} // namespace rollback::remote
