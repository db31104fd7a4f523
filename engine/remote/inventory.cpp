// SPDX-License-Identifier: MIT
#include "remote/inventory.hpp"

#include "remote/inventory_source.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
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

// Splits a host line as Ansible does (Python's shlex.split with comments): words at spaces; a
// quoted part ('...' or "...") keeps its spaces and loses its quotes; outside quotes a backslash
// takes the next character as it is, inside "..." it does so only before " and \; a '#' outside
// quotes ends the line, even inside a word ("x=a#b" is x=a). `error` is set on an open quote
// or a backslash at the end.
std::vector<Token> words(std::string_view line, std::string& error, int& error_column) {
    std::vector<Token> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
            ++i;
        }
        if (i >= line.size() || line[i] == '#') {
            break;
        }
        Token t;
        t.column = static_cast<int>(i) + 1;
        bool comment = false;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
            const char c = line[i];
            if (c == '#') {
                comment = true;
                break;
            }
            if (c == '\\') {
                if (i + 1 >= line.size()) {
                    error = "a backslash at the end of the line";
                    error_column = static_cast<int>(i) + 1;
                    return out;
                }
                t.text += line[i + 1];
                i += 2;
                continue;
            }
            if (c != '\'' && c != '"') {
                t.text += c;
                ++i;
                continue;
            }
            size_t j = i + 1;
            for (; j < line.size() && line[j] != c; ++j) {
                if (c == '"' && line[j] == '\\' && j + 1 < line.size() &&
                    (line[j + 1] == '"' || line[j + 1] == '\\')) {
                    ++j;
                }
                t.text += line[j];
            }
            if (j >= line.size()) {
                error = std::string("unterminated ") + (c == '"' ? "\"" : "'") + " quote";
                error_column = static_cast<int>(i) + 1;
                return out;
            }
            i = j + 1;
        }
        out.push_back(std::move(t));
        if (comment) {
            break;
        }
    }
    return out;
}

// A value as Ansible's _parse_value leaves it when it is one Python string literal ('...' or
// "...", with \\, \', \", \n, \t, \r escapes): its text; any other value as written (numbers,
// lists and the like are not evaluated: docs/playbook.md).
std::string python_string(const std::string& v) {
    if (v.size() < 2 || (v[0] != '\'' && v[0] != '"')) {
        return v;
    }
    const char q = v[0];
    std::string out;
    for (size_t i = 1; i < v.size(); ++i) {
        const char c = v[i];
        if (c == q) {
            return i + 1 == v.size() ? out : v;
        }
        if (c == '\n') {
            return v;
        }
        if (c == '\\' && i + 1 < v.size()) {
            const char e = v[++i];
            switch (e) {
            case '\\':
            case '\'':
            case '"':
                out += e;
                break;
            case 'n':
                out += '\n';
                break;
            case 't':
                out += '\t';
                break;
            case 'r':
                out += '\r';
                break;
            default:
                out += '\\';
                out += e;
                break;
            }
            continue;
        }
        out += c;
    }
    return v; // no closing quote: not a literal, kept as written
}

// What is wrong with variable `k`'s value `v` ("" when nothing): a port that is none would
// leave ssh on port 22, a group priority that is no integer Ansible refuses.
std::string value_problem(const std::string& k, const std::string& v, bool of_group) {
    int n = 0;
    if ((k == "ansible_port" || k == "ansible_ssh_port") && !detail::parse_port(v, n)) {
        return k + ": expected a port 1-65535, got " + util::quoted(v);
    }
    if (of_group && k == "ansible_group_priority" && !detail::parse_priority(v, n)) {
        return k + ": expected an integer, got " + util::quoted(v);
    }
    return {};
}

} // namespace

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
        if (section == Section::vars) {
            // Ansible's _parse_variable_definition: the line cut at its first '=', both sides
            // stripped; the value is the rest of the line, '#' included.
            const size_t eq = trimmed.find('=');
            const std::string key(eq == std::string_view::npos ? std::string_view()
                                                               : util::trim(trimmed.substr(0, eq)));
            if (key.empty()) {
                err(line_no, indent, "expected key=value in [" + group + ":vars]",
                    "write name=value, one a line");
                continue;
            }
            const std::string_view rest = trimmed.substr(eq + 1);
            const std::string_view written = util::trim(rest);
            const size_t lead = std::min(rest.find_first_not_of(" \t"), rest.size());
            const int value_col = indent + static_cast<int>(eq + 1 + lead);
            const std::string value = python_string(std::string(written));
            if (auto why = value_problem(key, value, true); !why.empty()) {
                err(line_no, value_col, why);
            }
            group_vars[group][key] = value;
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
        Host h;
        h.name = ws[0].text;
        h.where = {file, line_no, ws[0].column};
        if (h.name.find('[') != std::string::npos) {
            err(line_no, ws[0].column, "host patterns such as web[1:4] are not supported",
                "name each host on its own line");
            continue;
        }
        // `name:port` (Ansible's host pattern with a port; the port applies where the host is
        // first named, its ansible_port wins).
        std::optional<std::string> port;
        if (auto colon = h.name.rfind(':'); colon != std::string::npos) {
            port = h.name.substr(colon + 1);
            h.name.resize(colon);
            int n = 0;
            if (!detail::parse_port(*port, n)) {
                err(line_no, ws[0].column + static_cast<int>(colon) + 1,
                    "host " + util::quoted(h.name) + ": expected a port 1-65535 after ':', got " +
                        util::quoted(*port),
                    "write name:port or name ansible_port=PORT");
                continue;
            }
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
        if (port && !src.has(h.name)) {
            own_vars[h.name]["ansible_port"] = *port;
        }
        for (size_t i = 1; i < ws.size(); ++i) {
            const auto& w = ws[i];
            auto eq = w.text.find('=');
            if (eq == std::string::npos || eq == 0) {
                err(line_no, w.column, "expected key=value after the host name");
                continue;
            }
            std::string k = w.text.substr(0, eq), v = python_string(w.text.substr(eq + 1));
            if (auto why = value_problem(k, v, false); !why.empty()) {
                err(line_no, w.column + static_cast<int>(eq) + 1, why);
            }
            own_vars[h.name][k] = v;
        }
        src.add(h, group.empty() ? "ungrouped" : group);
    }
    return detail::resolve(std::move(src), errors);
}

namespace {
// `v` as a host line's value that words() and python_string() read back as `v`.
std::string ini_value(const std::string& v) {
    if (!v.empty() && v.find_first_of(" \t'\"#;\\\r\n") == std::string::npos) {
        return v;
    }
    std::string text = v;
    // What python_string would read (a leading quote) or a line break cannot be written as is:
    // written as one Python string literal, within the shell-like quotes.
    if (!v.empty() &&
        (v[0] == '\'' || v[0] == '"' || v.find_first_of("\r\n") != std::string::npos)) {
        text = "\"";
        for (char c : v) {
            if (c == '\n' || c == '\r') {
                text += c == '\n' ? "\\n" : "\\r";
                continue;
            }
            if (c == '"' || c == '\\') {
                text += '\\';
            }
            text += c;
        }
        text += '"';
    }
    if (text.find('\'') == std::string::npos) {
        return "'" + text + "'";
    }
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + '"';
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
