// SPDX-License-Identifier: MIT
// Ansible YAML inventories. yaml-cpp's event parser (not YAML::Load) feeds a tree built here, so
// the hostile shapes are refused while they are read: nesting past k_max_depth (checked at each
// node's start, before yaml-cpp recurses into it), more than k_max_nodes nodes counting each
// alias as the nodes it stands for (a "billion laughs" ends at the limit, not in memory), an
// alias to a node still open (a cycle). Aliases share the node they name: no copy is made.
#include "remote/inventory.hpp"

#include "remote/inventory_source.hpp"
#include "util/strings.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <sstream>

namespace rollback::remote {
namespace {

constexpr size_t k_max_depth = 64;
constexpr size_t k_max_nodes = 500000;

struct Node {
    enum class Kind { null, scalar, sequence, map } kind = Kind::null;
    std::string value; ///< a scalar's text
    std::string tag;   ///< "?" plain, "!" quoted, else the tag written
    YAML::Mark mark;
    std::vector<size_t> items; ///< a sequence's items; a map's keys and values, alternating
    size_t expanded = 1;       ///< nodes once every alias inside is replaced by its node
    bool open = false;
};

/// A located problem that ends the reading.
struct Stop {
    YAML::Mark mark;
    std::string problem;
    std::string hint;
};

class TreeBuilder final : public YAML::EventHandler {
  public:
    std::vector<Node> nodes;
    size_t root = SIZE_MAX;

    void OnDocumentStart(const YAML::Mark& mark) override {
        if (m_documents++ > 0) {
            throw Stop{mark, "a second YAML document", "an inventory is one document"};
        }
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        add(Node{Node::Kind::null, {}, {}, mark, {}, 1, false}, anchor);
    }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        auto it = m_anchors.find(anchor);
        if (it == m_anchors.end()) {
            throw Stop{mark, "an alias to an unknown anchor", {}};
        }
        if (nodes[it->second].open) {
            throw Stop{mark, "an alias inside the node it names (a cycle)", {}};
        }
        count(mark, nodes[it->second].expanded);
        attach(it->second);
    }
    void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  const std::string& value) override {
        add(Node{Node::Kind::scalar, value, tag, mark, {}, 1, false}, anchor);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value) override {
        open(Node{Node::Kind::sequence, {}, tag, mark, {}, 1, true}, anchor);
    }
    void OnSequenceEnd() override { close(); }
    void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value) override {
        open(Node{Node::Kind::map, {}, tag, mark, {}, 1, true}, anchor);
    }
    void OnMapEnd() override { close(); }

  private:
    void count(const YAML::Mark& mark, size_t n) {
        m_total += n;
        if (m_total > k_max_nodes) {
            throw Stop{mark,
                       "more than " + std::to_string(k_max_nodes) +
                           " YAML nodes (aliases counted as the nodes they repeat)",
                       "an inventory this large is not read; split it"};
        }
    }
    void attach(size_t index) {
        if (m_stack.empty()) {
            root = index;
            return;
        }
        Node& parent = nodes[m_stack.back()];
        parent.items.push_back(index);
        parent.expanded += nodes[index].expanded;
    }
    size_t push(Node n, YAML::anchor_t anchor) {
        count(n.mark, 1);
        nodes.push_back(std::move(n));
        const size_t index = nodes.size() - 1;
        if (anchor != YAML::NullAnchor) {
            m_anchors[anchor] = index;
        }
        return index;
    }
    void add(Node n, YAML::anchor_t anchor) { attach(push(std::move(n), anchor)); }
    void open(Node n, YAML::anchor_t anchor) {
        if (m_stack.size() >= k_max_depth) {
            throw Stop{n.mark, "nested deeper than " + std::to_string(k_max_depth) + " levels",
                       "an inventory is groups, hosts and their variables: a few levels"};
        }
        m_stack.push_back(push(std::move(n), anchor));
    }
    void close() {
        const size_t index = m_stack.back();
        m_stack.pop_back();
        nodes[index].open = false;
        attach(index);
    }

    std::vector<size_t> m_stack;
    std::map<YAML::anchor_t, size_t> m_anchors;
    size_t m_total = 0;
    int m_documents = 0;
};

const char* kind_name(Node::Kind k) {
    switch (k) {
    case Node::Kind::null:
        return "nothing (null)";
    case Node::Kind::scalar:
        return "a scalar";
    case Node::Kind::sequence:
        return "a list";
    case Node::Kind::map:
        return "a mapping";
    }
    return "?";
}

// Reads the tree into an InventorySource, as Ansible's yaml inventory plugin reads its data.
class Reader {
  public:
    Reader(const std::vector<Node>& nodes, const std::string& file,
           std::vector<util::Diagnostic>& errors)
        : m_nodes(nodes), m_file(file), m_errors(errors) {}

    detail::InventorySource src;

    void top(size_t root) {
        const Node& n = m_nodes[root];
        if (n.kind == Node::Kind::null) {
            return; // an empty file: no hosts
        }
        if (n.kind != Node::Kind::map) {
            throw Stop{n.mark,
                       "expected a mapping of groups (all:), got " + std::string(kind_name(n.kind)),
                       "write all:\\n  hosts:\\n    web1:"};
        }
        for (const auto& [key, value] : entries(root)) {
            group(name_of(key, "a group name"), key, value, "");
        }
    }

  private:
    using Entry = std::pair<size_t, size_t>;

    util::Location where(const YAML::Mark& m) const {
        return {m_file, m.is_null() ? 1 : m.line + 1, m.is_null() ? 1 : m.column + 1};
    }
    void error(const YAML::Mark& m, std::string problem, std::string hint = {}) {
        m_errors.push_back({where(m), "inventory", std::move(problem), std::move(hint)});
    }

    // A mapping's entries, `<<` merges applied (a merged key the mapping has itself is not
    // taken); a duplicate key is an error (Ansible only warns, and keeps the last).
    std::vector<Entry> entries(size_t map) {
        const Node& n = m_nodes[map];
        std::vector<Entry> own, merged;
        std::map<std::string, YAML::Mark> seen;
        std::vector<size_t> merges;
        for (size_t i = 0; i + 1 < n.items.size(); i += 2) {
            const Node& k = m_nodes[n.items[i]];
            if (k.kind == Node::Kind::scalar && k.tag == "?" && k.value == "<<") {
                merges.push_back(n.items[i + 1]);
                continue;
            }
            const std::string name = name_of(n.items[i], "a name");
            if (auto [it, fresh] = seen.emplace(name, k.mark); !fresh) {
                throw Stop{k.mark,
                           "duplicate key " + util::quoted(name) + " (first at line " +
                               std::to_string(it->second.line + 1) + ")",
                           "say each key once in a mapping"};
            }
            own.emplace_back(n.items[i], n.items[i + 1]);
        }
        for (size_t m : merges) {
            std::vector<size_t> sources;
            if (m_nodes[m].kind == Node::Kind::sequence) {
                sources = m_nodes[m].items;
            } else {
                sources.push_back(m);
            }
            for (size_t s : sources) {
                if (m_nodes[s].kind != Node::Kind::map) {
                    throw Stop{m_nodes[s].mark,
                               "a << merge of " + std::string(kind_name(m_nodes[s].kind)),
                               "merge a mapping: <<: *anchor"};
                }
                for (const auto& e : entries(s)) {
                    const std::string name = m_nodes[e.first].value;
                    if (seen.emplace(name, m_nodes[e.first].mark).second) {
                        merged.push_back(e);
                    }
                }
            }
        }
        merged.insert(merged.end(), own.begin(), own.end());
        return merged;
    }

    std::string name_of(size_t key, const char* what) const {
        const Node& k = m_nodes[key];
        if (k.kind != Node::Kind::scalar) {
            throw Stop{k.mark,
                       std::string("expected ") + what + ", got " + kind_name(k.kind) + " as a key",
                       "keys are names: groups, hosts, variables"};
        }
        check_tag(k);
        return k.value;
    }

    void check_tag(const Node& n) const {
        if (n.tag.empty() || n.tag == "?" || n.tag == "!" ||
            n.tag.rfind("tag:yaml.org,2002:", 0) == 0) {
            return;
        }
        throw Stop{n.mark, "the tag " + util::quoted(n.tag) + " is not read",
                   n.tag == "!vault"
                       ? "vault-encrypted values are not decrypted: give the value in the "
                         "playbook's [vars] (secret = true, from the environment)"
                       : "write the value as plain text"};
    }

    // A variable's value: a scalar's text as written (Ansible would keep the YAML type; every
    // value is text to the engine, as in an INI inventory).
    std::optional<std::string> value_of(const std::string& var, size_t key, size_t value) {
        const Node& v = m_nodes[value];
        if (v.kind == Node::Kind::scalar) {
            check_tag(v);
            return v.value;
        }
        // An empty value's mark is the next token's: the key says where it is.
        error(v.kind == Node::Kind::null ? m_nodes[key].mark : v.mark,
              "variable " + util::quoted(var) + ": " + kind_name(v.kind) + " is not read",
              v.kind == Node::Kind::null ? "write \"\" for an empty value"
                                         : "only text, numbers and booleans are host variables");
        return std::nullopt;
    }

    std::map<std::string, std::string> vars(size_t node, const std::string& owner,
                                            bool of_group = false) {
        std::map<std::string, std::string> out;
        const Node& n = m_nodes[node];
        if (n.kind == Node::Kind::null) {
            return out;
        }
        if (n.kind != Node::Kind::map) {
            throw Stop{n.mark,
                       owner + ": expected a mapping of variables, got " + kind_name(n.kind),
                       "write name: value, one a line"};
        }
        for (const auto& [k, v] : entries(node)) {
            const std::string name = name_of(k, "a variable name");
            if (auto value = value_of(name, k, v)) {
                out[name] = *value;
                int number = 0;
                if ((name == "ansible_port" || name == "ansible_ssh_port") &&
                    !detail::parse_port(*value, number)) {
                    error(m_nodes[v].mark,
                          name + ": expected a port 1-65535, got " + util::quoted(*value));
                }
                if (of_group && name == "ansible_group_priority" &&
                    !detail::parse_priority(*value, number)) {
                    error(m_nodes[v].mark,
                          name + ": expected an integer, got " + util::quoted(*value));
                }
            }
        }
        return out;
    }

    void group(const std::string& name, size_t key, size_t body, const std::string& parent) {
        const YAML::Mark& at = m_nodes[key].mark;
        if (!is_inventory_name(name)) {
            throw Stop{at, "invalid group name " + util::quoted(name),
                       "letters, digits, _, - and ."};
        }
        Inventory& inv = src.inv;
        if (inv.group_where.count(name) == 0 && inv.group_where.size() >= detail::k_max_groups) {
            throw Stop{at, "more than " + std::to_string(detail::k_max_groups) + " groups",
                       "split the inventory"};
        }
        inv.group_where.emplace(name, where(at));
        if (name != "all") {
            inv.groups[name];
        }
        if (!parent.empty() && parent != "all") {
            auto& kids = src.children[parent];
            if (std::find(kids.begin(), kids.end(), name) == kids.end()) {
                if (++m_child_entries > detail::k_max_children) {
                    throw Stop{
                        at, "more than " + std::to_string(detail::k_max_children) + " child groups",
                        "split the inventory"};
                }
                kids.push_back(name);
            }
        }
        const Node& n = m_nodes[body];
        if (n.kind == Node::Kind::null) {
            return;
        }
        if (n.kind != Node::Kind::map) {
            throw Stop{n.mark,
                       "group " + util::quoted(name) +
                           ": expected a mapping (hosts:, vars:, "
                           "children:), got " +
                           kind_name(n.kind),
                       {}};
        }
        // A group met again (another parent, an alias) is read again: the same data adds
        // nothing, and the work stays within the node limit (aliases counted as expanded).
        for (const auto& [k, v] : entries(body)) {
            const std::string section = name_of(k, "hosts, vars or children");
            if (section == "children") {
                children(name, v);
            } else if (section == "hosts") {
                hosts(name, v);
            } else if (section == "vars") {
                for (auto& [var, value] : vars(v, "group " + util::quoted(name), true)) {
                    src.group_vars[name][var] = std::move(value);
                }
            } else {
                const std::string guess =
                    util::closest_match(section, {"hosts", "vars", "children"});
                error(m_nodes[k].mark,
                      "group " + util::quoted(name) + ": unknown key " + util::quoted(section) +
                          (guess.empty() ? "" : " (did you mean " + util::quoted(guess) + "?)"),
                      "a group has hosts:, vars: and children:");
            }
        }
    }

    void children(const std::string& parent, size_t node) {
        const Node& n = m_nodes[node];
        if (n.kind == Node::Kind::null) {
            return;
        }
        if (n.kind != Node::Kind::map) {
            throw Stop{n.mark,
                       "group " + util::quoted(parent) +
                           ": children: expected a mapping of groups, got " + kind_name(n.kind),
                       "write children:\n  web:"};
        }
        for (const auto& [k, v] : entries(node)) {
            group(name_of(k, "a group name"), k, v, parent);
        }
    }

    void hosts(const std::string& group_name, size_t node) {
        const Node& n = m_nodes[node];
        if (n.kind == Node::Kind::null) {
            return;
        }
        if (n.kind != Node::Kind::map) {
            throw Stop{n.mark,
                       "group " + util::quoted(group_name) +
                           ": hosts: expected a mapping of hosts, got " + kind_name(n.kind),
                       n.kind == Node::Kind::sequence
                           ? "write each host as a key: hosts:\n  web1:\n  web2:"
                           : ""};
        }
        Inventory& inv = src.inv;
        for (const auto& [k, v] : entries(node)) {
            const YAML::Mark& at = m_nodes[k].mark;
            Host h;
            h.name = name_of(k, "a host name");
            h.where = where(at);
            if (h.name.find('[') != std::string::npos) {
                error(at, "host patterns such as web[1:4] are not supported",
                      "name each host as its own key");
                continue;
            }
            // `name:port`, as Ansible's yaml plugin reads a host key (the port applies where
            // the host is first named; its ansible_port wins).
            std::optional<std::string> port;
            if (auto colon = h.name.rfind(':'); colon != std::string::npos) {
                port = h.name.substr(colon + 1);
                h.name.resize(colon);
                int number = 0;
                if (!detail::parse_port(*port, number)) {
                    error(at,
                          "host " + util::quoted(h.name) +
                              ": expected a port 1-65535 after ':', got " + util::quoted(*port),
                          "write name:port or ansible_port: PORT");
                    continue;
                }
            }
            if (!is_inventory_name(h.name)) {
                error(at, "invalid host name " + util::quoted(h.name),
                      "letters, digits, _, - and .");
                continue;
            }
            if (!src.has(h.name) && inv.hosts.size() >= detail::k_max_hosts) {
                throw Stop{at, "more than " + std::to_string(detail::k_max_hosts) + " hosts",
                           "split the inventory"};
            }
            h.address = h.name;
            if (port && !src.has(h.name)) {
                src.own_vars[h.name]["ansible_port"] = *port;
            }
            for (auto& [var, value] : vars(v, "host " + util::quoted(h.name))) {
                src.own_vars[h.name][var] = std::move(value);
            }
            // Hosts right under `all` are Ansible's "ungrouped", like an INI file's first lines.
            src.add(h, group_name == "all" ? "ungrouped" : group_name);
        }
    }

    const std::vector<Node>& m_nodes;
    const std::string& m_file;
    std::vector<util::Diagnostic>& m_errors;
    size_t m_child_entries = 0;
};

} // namespace

Inventory parse_yaml_inventory(std::string_view text, const std::string& file,
                               std::vector<util::Diagnostic>& errors) {
    auto located = [&](const YAML::Mark& m, std::string problem, std::string hint) {
        errors.push_back({{file, m.is_null() ? 1 : m.line + 1, m.is_null() ? 1 : m.column + 1},
                          "inventory",
                          std::move(problem),
                          std::move(hint)});
    };
    TreeBuilder tree;
    try {
        std::istringstream in{std::string(text)};
        YAML::Parser parser(in);
        while (parser.HandleNextDocument(tree)) {
        }
    } catch (const Stop& s) {
        located(s.mark, s.problem, s.hint);
        return {};
    } catch (const YAML::Exception& e) {
        located(e.mark, "YAML: " + e.msg, "check the indentation and the \": \" after each key");
        return {};
    }
    if (tree.root == SIZE_MAX) {
        return {}; // no document: no hosts
    }
    Reader reader(tree.nodes, file, errors);
    try {
        reader.top(tree.root);
    } catch (const Stop& s) {
        located(s.mark, s.problem, s.hint);
        return {};
    }
    return detail::resolve(std::move(reader.src), errors);
}

Inventory parse_inventory(std::string_view text, const std::string& file,
                          std::vector<util::Diagnostic>& errors) {
    auto ends_with = [&](std::string_view suffix) {
        return file.size() >= suffix.size() &&
               file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return ends_with(".yml") || ends_with(".yaml") ? parse_yaml_inventory(text, file, errors)
                                                   : parse_ini_inventory(text, file, errors);
}

} // namespace rollback::remote
