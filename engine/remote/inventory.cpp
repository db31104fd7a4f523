// SPDX-License-Identifier: MIT
#include "remote/inventory.hpp"

#include "remote/inventory_source.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace rollback::remote {

const Host* Inventory::find(std::string_view name) const {
    for (const auto& h : hosts) {
        if (h.name == name) {
            return &h;
        }
    }
    return nullptr;
}

std::vector<const Host*> Inventory::select(std::string_view name) const {
    std::vector<const Host*> out;
    if (name == "all") {
        for (const auto& h : hosts) {
            out.push_back(&h);
        }
        return out;
    }
    if (auto g = groups.find(std::string(name)); g != groups.end()) {
        for (const auto& n : g->second) {
            if (const Host* h = find(n)) {
                out.push_back(h);
            }
        }
        return out;
    }
    if (const Host* h = find(name)) {
        out.push_back(h);
    }
    return out;
}

Host& Inventory::add(const Host& host, const std::string& group) {
    Host* h = const_cast<Host*>(find(host.name));
    if (h == nullptr) {
        hosts.push_back(host);
        h = &hosts.back();
    } else {
        if (host.address != host.name || h->address.empty()) {
            h->address = host.address;
        }
        if (host.port != 0) {
            h->port = host.port;
        }
        if (!host.user.empty()) {
            h->user = host.user;
        }
        for (const auto& [k, v] : host.vars) {
            h->vars[k] = v;
        }
    }
    if (!group.empty()) {
        auto& members = groups[group];
        if (std::find(members.begin(), members.end(), host.name) == members.end()) {
            members.push_back(host.name);
        }
    }
    return *h;
}

bool is_inventory_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
}

namespace {

struct Token {
    std::string text;
    int column = 0; // 1-based
};

// Splits a line into whitespace-separated words; a quoted part ('...' or "...") keeps its
// spaces and loses its quotes. A word is key=value or a name. `error` is set on an open quote.
std::vector<Token> words(std::string_view line, std::string& error, int& error_column) {
    std::vector<Token> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
            ++i;
        }
        if (i >= line.size() || line[i] == '#' || line[i] == ';') {
            break;
        }
        Token t;
        t.column = static_cast<int>(i) + 1;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
            char c = line[i];
            if (c == '\'' || c == '"') {
                size_t end = line.find(c, i + 1);
                if (end == std::string_view::npos) {
                    error = std::string("unterminated ") + (c == '"' ? "\"" : "'") + " quote";
                    error_column = static_cast<int>(i) + 1;
                    return out;
                }
                t.text.append(line.substr(i + 1, end - i - 1));
                i = end + 1;
            } else {
                t.text += c;
                ++i;
            }
        }
        out.push_back(std::move(t));
    }
    return out;
}

} // namespace

namespace detail {

bool parse_port(const std::string& s, int& port) {
    if (s.empty() || s.size() > 5 ||
        !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return false;
    }
    port = std::stoi(s);
    return port >= 1 && port <= 65535;
}

void InventorySource::add(const Host& host, const std::string& group) {
    if (index.emplace(host.name, inv.hosts.size()).second) {
        inv.hosts.push_back(host);
    }
    if (!group.empty() && members[group].insert(host.name).second) {
        inv.groups[group].push_back(host.name);
    }
}

// What is wrong with a host's address or login as ssh would get it ("" when nothing): a control
// character or a space would forge lines of the plan, a leading '-' would be an ssh option.
static std::string connect_value_problem(const std::string& value, bool is_user) {
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

Inventory resolve(InventorySource src, std::vector<util::Diagnostic>& errors) {
    Inventory& inv = src.inv;
    auto& group_vars = src.group_vars;
    auto& children = src.children;
    auto& own_vars = src.own_vars;
    auto err = [&](const util::Location& at, std::string problem) {
        errors.push_back({at, "inventory", std::move(problem), {}});
    };
    // Group variables flow to the hosts of the group's children (Ansible's rule: the child's
    // own win; then the host's own over every group's). Each group is visited once per parent,
    // whatever the shape of the children (a cycle, a diamond): the work stays linear.
    for (const auto& [parent, kids] : children) {
        for (const auto& c : kids) {
            if (inv.groups.find(c) == inv.groups.end() && children.find(c) == children.end()) {
                err(inv.group_where[parent], "group " + util::quoted(parent) + ": child group " +
                                                 util::quoted(c) + " is not defined");
            }
        }
    }
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
    // Each host's groups, in the order their variables apply: "all" first, then groups by name
    // with parents before children (children win), then the host's own.
    std::map<std::string, std::vector<const std::string*>> parents_of, leaves_of;
    for (const auto& [g, members] : inv.groups) {
        if (g == "all") {
            continue;
        }
        auto& into = children.find(g) != children.end() ? parents_of : leaves_of;
        for (const auto& h : members) {
            into[h].push_back(&g);
        }
    }
    for (auto& h : inv.hosts) {
        std::map<std::string, std::string> vars;
        auto apply = [&](const std::string& g) {
            if (auto it = group_vars.find(g); it != group_vars.end()) {
                for (const auto& [k, v] : it->second) {
                    vars[k] = v;
                }
            }
        };
        apply("all");
        for (const auto* list : {&parents_of[h.name], &leaves_of[h.name]}) {
            for (const std::string* g : *list) {
                apply(*g);
            }
        }
        for (const auto& [k, v] : own_vars[h.name]) {
            vars[k] = v;
        }
        for (const auto& [k, v] : vars) {
            if (k == "ansible_host") {
                h.address = v;
            } else if (k == "ansible_port") {
                int port = 0;
                if (parse_port(v, port)) {
                    h.port = port;
                }
            } else if (k == "ansible_user") {
                h.user = v;
            } else {
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

} // namespace detail

Inventory parse_ini_inventory(std::string_view text, const std::string& file,
                              std::vector<util::Diagnostic>& errors) {
    detail::InventorySource src;
    Inventory& inv = src.inv;
    auto& group_vars = src.group_vars;
    auto& own_vars = src.own_vars;
    enum class Section { hosts, vars, children };
    Section section = Section::hosts;
    std::string group; // empty: ungrouped hosts before any section
    size_t child_entries = 0;
    auto err = [&](int line, int col, std::string problem, std::string hint = {}) {
        errors.push_back({{file, line, col}, "inventory", std::move(problem), std::move(hint)});
    };
    int line_no = 0;
    for (const auto& raw : util::split(text, '\n')) {
        ++line_no;
        std::string_view line = raw;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        std::string_view trimmed = util::trim(line);
        const int indent = static_cast<int>(line.find_first_not_of(" \t")) + 1;
        if (trimmed.empty() || trimmed[0] == '#' || trimmed[0] == ';') {
            continue;
        }
        if (trimmed[0] == '[') {
            size_t close = trimmed.find(']');
            if (close == std::string_view::npos) {
                err(line_no, indent, "a section header without \"]\"", "write [group]");
                continue;
            }
            std::string name(util::trim(trimmed.substr(1, close - 1)));
            section = Section::hosts;
            if (auto colon = name.find(':'); colon != std::string::npos) {
                std::string suffix = name.substr(colon + 1);
                name = name.substr(0, colon);
                if (suffix == "vars") {
                    section = Section::vars;
                } else if (suffix == "children") {
                    section = Section::children;
                } else {
                    err(line_no, indent + 1 + static_cast<int>(colon) + 1,
                        "unknown section kind " + util::quoted(suffix),
                        "write [group], [group:vars] or [group:children]");
                }
            }
            if (!is_inventory_name(name)) {
                err(line_no, indent + 1, "invalid group name " + util::quoted(name),
                    "letters, digits, _, - and .");
            }
            if (inv.group_where.count(name) == 0 &&
                inv.group_where.size() >= detail::k_max_groups) {
                err(line_no, indent,
                    "more than " + std::to_string(detail::k_max_groups) + " groups",
                    "split the inventory");
                break;
            }
            group = name;
            if (section == Section::hosts) {
                inv.groups[group];
            }
            inv.group_where.emplace(group, util::Location{file, line_no, indent});
            continue;
        }
        std::string problem;
        int problem_col = 0;
        auto ws = words(line, problem, problem_col);
        if (!problem.empty()) {
            err(line_no, problem_col, problem);
            continue;
        }
        if (ws.empty()) {
            continue;
        }
        if (section == Section::children) {
            if (ws.size() != 1 || !is_inventory_name(ws[0].text)) {
                err(line_no, ws[0].column, "expected one group name in [" + group + ":children]");
                continue;
            }
            if (++child_entries > detail::k_max_children) {
                err(line_no, ws[0].column,
                    "more than " + std::to_string(detail::k_max_children) + " child groups",
                    "split the inventory");
                break;
            }
            src.children[group].push_back(ws[0].text);
            continue;
        }
        if (section == Section::vars) {
            for (const auto& w : ws) {
                auto eq = w.text.find('=');
                if (eq == std::string::npos || eq == 0) {
                    err(line_no, w.column, "expected key=value in [" + group + ":vars]");
                    continue;
                }
                group_vars[group][w.text.substr(0, eq)] = w.text.substr(eq + 1);
            }
            continue;
        }
        Host h;
        h.name = ws[0].text;
        h.where = {file, line_no, ws[0].column};
        if (h.name.find('[') != std::string::npos) {
            err(line_no, ws[0].column, "host patterns such as web[1:4] are not supported",
                "name each host on its own line");
            continue;
        }
        if (!is_inventory_name(h.name)) {
            err(line_no, ws[0].column, "invalid host name " + util::quoted(h.name),
                "letters, digits, _, - and .");
            continue;
        }
        if (!src.has(h.name) && inv.hosts.size() >= detail::k_max_hosts) {
            err(line_no, ws[0].column,
                "more than " + std::to_string(detail::k_max_hosts) + " hosts",
                "split the inventory");
            break;
        }
        h.address = h.name;
        for (size_t i = 1; i < ws.size(); ++i) {
            const auto& w = ws[i];
            auto eq = w.text.find('=');
            if (eq == std::string::npos || eq == 0) {
                err(line_no, w.column, "expected key=value after the host name");
                continue;
            }
            std::string k = w.text.substr(0, eq), v = w.text.substr(eq + 1);
            if (k == "ansible_port" && !detail::parse_port(v, h.port)) {
                err(line_no, w.column + static_cast<int>(eq) + 1,
                    "ansible_port: expected a port 1-65535, got " + util::quoted(v));
            }
            own_vars[h.name][k] = v;
        }
        src.add(h, group.empty() ? "ungrouped" : group);
    }
    return detail::resolve(std::move(src), errors);
}

namespace {
std::string ini_value(const std::string& v) {
    if (!v.empty() && v.find_first_of(" \t'\"#;") == std::string::npos) {
        return v;
    }
    return v.find('"') == std::string::npos ? "\"" + v + "\"" : "'" + v + "'";
}
} // namespace

std::string to_ini(const Inventory& inv) {
    std::string out;
    auto host_line = [&](const Host& h) {
        out += h.name;
        if (h.address != h.name) {
            out += " ansible_host=" + ini_value(h.address);
        }
        if (h.port != 0) {
            out += " ansible_port=" + std::to_string(h.port);
        }
        if (!h.user.empty()) {
            out += " ansible_user=" + ini_value(h.user);
        }
        for (const auto& [k, v] : h.vars) {
            out += " " + k + "=" + ini_value(v);
        }
        out += "\n";
    };
    std::set<std::string> written;
    for (const auto& [g, members] : inv.groups) {
        out += "[" + g + "]\n";
        for (const auto& n : members) {
            const Host* h = inv.find(n);
            if (h != nullptr && written.insert(n).second) {
                host_line(*h);
            } else if (h != nullptr) {
                out += n + "\n";
            }
        }
    }
    std::string ungrouped;
    for (const auto& h : inv.hosts) {
        if (written.count(h.name) == 0) {
            std::string saved;
            std::swap(saved, out);
            host_line(h);
            ungrouped += out;
            out = std::move(saved);
        }
    }
    return ungrouped + out;
}

} // namespace rollback::remote
