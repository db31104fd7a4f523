// SPDX-License-Identifier: MIT
// Ansible's rules, once for both readers (inventory_source.hpp): which hosts a group holds, the
// order a host's group variables apply in, and where ssh connects.
#include "remote/inventory_source.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <functional>
#include <set>
#include <tuple>

namespace rollback::remote::detail {

bool parse_port(const std::string& s, int& port) {
    if (s.empty() || s.size() > 5 ||
        !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return false;
    }
    port = std::stoi(s);
    return port >= 1 && port <= 65535;
}

bool is_connect_variable(std::string_view name) {
    return name == "ansible_host" || name == "ansible_port" || name == "ansible_user" ||
           name == "ansible_ssh_host" || name == "ansible_ssh_port" || name == "ansible_ssh_user";
}

bool parse_priority(const std::string& s, int& priority) {
    std::string_view t = util::trim(s);
    bool negative = false;
    if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
        negative = t[0] == '-';
        t.remove_prefix(1);
    }
    if (t.empty() || t.size() > 9 ||
        !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return false;
    }
    priority = std::stoi(std::string(t)) * (negative ? -1 : 1);
    return true;
}

void InventorySource::add(const Host& host, const std::string& group) {
    if (index.emplace(host.name, inv.hosts.size()).second) {
        inv.hosts.push_back(host);
    }
    if (!group.empty() && members[group].insert(host.name).second) {
        inv.groups[group].push_back(host.name);
    }
}

namespace {

// What is wrong with a host's address or login as ssh would get it ("" when nothing): a control
// character or a space would forge lines of the plan, a leading '-' would be an ssh option.
std::string connect_value_problem(const std::string& value, bool is_user) {
    if (value.empty()) {
        return "is empty";
    }
    if (value[0] == '-') {
        return "starts with '-'";
    }
    for (unsigned char c : value) {
        if (c <= 0x20 || c == 0x7f) {
            return "contains a space or a control character";
        }
        if (is_user && c == '@') {
            return "contains '@'";
        }
    }
    return {};
}

// The first loop of child groups found ("a -> b -> a"), or "": Ansible refuses one ("creates a
// recursive dependency loop"), and a group's depth is only defined without.
std::string find_loop(const std::map<std::string, std::vector<std::string>>& children,
                      std::string& at_group, std::string& child) {
    enum class Mark { none, open, done };
    std::map<std::string, Mark> mark;
    std::vector<std::string> path;
    std::string loop;
    std::function<bool(const std::string&)> visit = [&](const std::string& g) {
        mark[g] = Mark::open;
        path.push_back(g);
        if (auto it = children.find(g); it != children.end()) {
            for (const auto& c : it->second) {
                if (mark[c] == Mark::open) {
                    auto from = std::find(path.begin(), path.end(), c);
                    for (auto p = from; p != path.end(); ++p) {
                        loop += *p + " -> ";
                    }
                    loop += c;
                    at_group = g;
                    child = c;
                    return true;
                }
                if (mark[c] == Mark::none && visit(c)) {
                    return true;
                }
            }
        }
        path.pop_back();
        mark[g] = Mark::done;
        return false;
    };
    for (const auto& [g, _] : children) {
        if (mark[g] == Mark::none && visit(g)) {
            break;
        }
    }
    return loop;
}

} // namespace

Inventory resolve(InventorySource src, std::vector<util::Diagnostic>& errors) {
    Inventory& inv = src.inv;
    auto& group_vars = src.group_vars;
    auto& children = src.children;
    auto& own_vars = src.own_vars;
    auto err = [&](const util::Location& at, std::string problem) {
        errors.push_back({at, "inventory", std::move(problem), {}});
    };
    for (const auto& [parent, kids] : children) {
        for (const auto& c : kids) {
            if (c == "all") {
                err(inv.group_where[parent], "group " + util::quoted(parent) +
                                                 ": \"all\" cannot be a child group (every "
                                                 "group is already in it)");
            } else if (inv.groups.find(c) == inv.groups.end() &&
                       children.find(c) == children.end()) {
                err(inv.group_where[parent], "group " + util::quoted(parent) + ": child group " +
                                                 util::quoted(c) + " is not defined");
            }
        }
    }
    std::string loop_at, loop_child;
    const std::string loop = find_loop(children, loop_at, loop_child);
    if (!loop.empty()) {
        err(inv.group_where[loop_at], "group " + util::quoted(loop_at) + ": child group " +
                                          util::quoted(loop_child) + " makes a loop of children (" +
                                          loop + ")");
    }
    // A group holds its children's hosts, at any depth (visited once per parent: the work
    // stays linear whatever the shape).
    std::map<std::string, std::set<std::string>> hosts_of;
    for (const auto& [parent, kids] : children) {
        std::set<std::string> visited{parent};
        std::vector<std::string> to_visit(kids.begin(), kids.end());
        std::set<std::string>& reached = hosts_of[parent];
        while (!to_visit.empty()) {
            std::string g = std::move(to_visit.back());
            to_visit.pop_back();
            if (!visited.insert(g).second) {
                continue;
            }
            if (auto it = inv.groups.find(g); it != inv.groups.end()) {
                reached.insert(it->second.begin(), it->second.end());
            }
            if (auto it = children.find(g); it != children.end()) {
                to_visit.insert(to_visit.end(), it->second.begin(), it->second.end());
            }
        }
    }
    for (const auto& [parent, reached] : hosts_of) {
        auto& members = inv.groups[parent];
        std::set<std::string> present(members.begin(), members.end());
        for (const auto& h : inv.hosts) {
            if (reached.count(h.name) != 0 && present.insert(h.name).second) {
                members.push_back(h.name);
            }
        }
    }
    // Each host's groups (its own and their ancestors, `all` aside); "ungrouped" only when it is
    // in no other group (Ansible's reconcile_inventory takes it out of "ungrouped").
    std::map<std::string, std::vector<const std::string*>> groups_of;
    for (const auto& [g, members] : inv.groups) {
        if (g != "all" && g != "ungrouped") {
            for (const auto& h : members) {
                groups_of[h].push_back(&g);
            }
        }
    }
    if (auto u = inv.groups.find("ungrouped"); u != inv.groups.end()) {
        std::vector<std::string> kept;
        for (auto& h : u->second) {
            if (groups_of[h].empty()) {
                groups_of[h].push_back(&u->first);
                kept.push_back(std::move(h));
            }
        }
        u->second = std::move(kept);
    }
    // The order a host's group variables apply in, Ansible's sort_groups: by depth (the longest
    // path of children from `all`: a child group is deeper than each of its parents), then
    // ansible_group_priority (default 1), then name; the later wins, the host's own last.
    std::map<std::string, std::vector<std::string>> parents;
    for (const auto& [p, kids] : children) {
        if (p != "all") {
            for (const auto& c : kids) {
                parents[c].push_back(p);
            }
        }
    }
    std::map<std::string, int> depth;
    std::function<int(const std::string&)> depth_of = [&](const std::string& g) {
        if (auto it = depth.find(g); it != depth.end()) {
            return it->second;
        }
        depth[g] = 1; // a loop (reported above) ends here
        int d = 1;
        for (const auto& p : parents[g]) {
            d = std::max(d, depth_of(p) + 1);
        }
        return depth[g] = d;
    };
    std::map<std::string, int> priority;
    for (auto& [g, vars] : group_vars) {
        if (auto it = vars.find("ansible_group_priority"); it != vars.end()) {
            int p = 1; // a value that is no integer was reported where it is written
            parse_priority(it->second, p);
            priority[g] = p;
            vars.erase(it);
        }
    }
    auto order_key = [&](const std::string* g) {
        auto p = priority.find(*g);
        return std::tuple<int, int, const std::string&>(depth_of(*g),
                                                        p == priority.end() ? 1 : p->second, *g);
    };
    for (auto& h : inv.hosts) {
        auto& gs = groups_of[h.name];
        std::sort(gs.begin(), gs.end(), [&](const std::string* a, const std::string* b) {
            return order_key(a) < order_key(b);
        });
        std::map<std::string, std::string> vars;
        auto apply = [&](const std::string& g) {
            if (auto it = group_vars.find(g); it != group_vars.end()) {
                for (const auto& [k, v] : it->second) {
                    vars[k] = v;
                }
            }
        };
        apply("all");
        for (const std::string* g : gs) {
            apply(*g);
        }
        for (const auto& [k, v] : own_vars[h.name]) {
            vars[k] = v;
        }
        // Where ssh connects: Ansible's ssh plugin takes ansible_ssh_host over ansible_host
        // (and _port, _user alike), whichever level set them. A port that is none was reported
        // where it is written.
        auto connect = [&](const char* plain, const char* ssh) -> const std::string* {
            auto it = vars.find(ssh);
            if (it == vars.end()) {
                it = vars.find(plain);
            }
            return it == vars.end() ? nullptr : &it->second;
        };
        if (const std::string* v = connect("ansible_host", "ansible_ssh_host")) {
            h.address = *v;
        }
        if (const std::string* v = connect("ansible_port", "ansible_ssh_port")) {
            parse_port(*v, h.port);
        }
        if (const std::string* v = connect("ansible_user", "ansible_ssh_user")) {
            h.user = *v;
        }
        for (const auto& [k, v] : vars) {
            if (!is_connect_variable(k)) {
                h.vars[k] = v;
            }
        }
        if (auto why = connect_value_problem(h.address, false); !why.empty()) {
            err(h.where, "host " + util::quoted(h.name) + ": ansible_host " + why);
        }
        if (auto why = connect_value_problem(h.user, true); !h.user.empty() && !why.empty()) {
            err(h.where, "host " + util::quoted(h.name) + ": ansible_user " + why);
        }
    }
    for (const auto& [g, vs] : group_vars) {
        if (g != "all" && inv.groups.find(g) == inv.groups.end() &&
            children.find(g) == children.end()) {
            auto at = inv.group_where[g];
            err(at, "[" + g + ":vars] names a group that has no hosts");
        }
    }
    return std::move(inv);
}

} // namespace rollback::remote::detail
