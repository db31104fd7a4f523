// SPDX-License-Identifier: MIT
#pragma once

// What an inventory file says, before Ansible's rules make hosts of it (internal to remote/):
// the INI reader (inventory.cpp) and the YAML reader (inventory_yaml.cpp) fill it, `resolve`
// applies the one set of rules, so the same inventory written either way is the same Inventory.

#include "remote/inventory.hpp"

#include <set>

namespace rollback::remote::detail {

struct InventorySource {
    /// Hosts in the order first named (address = name, `where` set) and each group's own hosts
    /// in order; `group_where` where each group is first named. A group the file defines (INI
    /// `[g]`, YAML a key under `all`/`children`) has an entry in `inv.groups`, possibly empty.
    Inventory inv;
    std::map<std::string, std::map<std::string, std::string>> group_vars; ///< "all" included
    std::map<std::string, std::vector<std::string>> children;             ///< parent → groups
    std::map<std::string, std::map<std::string, std::string>> own_vars;   ///< host → its own
    /// What `add` keeps to stay fast on a large file: host name → index, group → its hosts.
    std::map<std::string, size_t> index;
    std::map<std::string, std::set<std::string>> members;

    /// Inventory::add in O(log n): names `host` (address = name) in `group` (when not empty).
    void add(const Host& host, const std::string& group);
    bool has(const std::string& host) const { return index.count(host) != 0; }
};

/// Bounds that keep a hostile inventory's cost small (resolve's work grows with groups x
/// children): past one, the reader reports it and stops.
inline constexpr size_t k_max_hosts = 10000;
inline constexpr size_t k_max_groups = 1000;
inline constexpr size_t k_max_children = 10000; ///< child group entries, all groups together

/// The Inventory `src` describes: a group holds its children's hosts; "ungrouped" only the
/// hosts of no other group. A host's variables are "all"'s, then its groups' (its own and their
/// ancestors) ordered as Ansible's sort_groups orders them — by depth from "all" (a child group
/// is deeper than its parents), then `ansible_group_priority` (default 1), then name — then its
/// own; the later wins. ansible_ssh_host over ansible_host (and _port, _user alike) say where to
/// connect. An undefined child group, a loop of children, "all" as a child and variables of a
/// group without hosts are errors in `errors`.
Inventory resolve(InventorySource src, std::vector<util::Diagnostic>& errors);

/// True when `s` is a port 1-65535 (digits only); sets `port`.
bool parse_port(const std::string& s, int& port);

/// True when `s` is an integer as Ansible's int() takes an ansible_group_priority (spaces
/// around, a sign; at most 9 digits); sets `priority`.
bool parse_priority(const std::string& s, int& priority);

/// ansible_host, ansible_port, ansible_user and their ansible_ssh_* spellings: where ssh
/// connects, not host variables.
bool is_connect_variable(std::string_view name);

} // namespace rollback::remote::detail
