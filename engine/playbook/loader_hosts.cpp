// SPDX-License-Identifier: MIT
// `[remote]`, `[hosts]` and the host keys of a step (issue 15): which hosts a step runs on, in
// which batches, how many may fail, and the per-host values it may use.
#include "playbook/loader_impl.hpp"

#include "util/files.hpp"
#include "util/sha256.hpp"

#include <map>
#include <set>

namespace rollback::playbook::detail {
namespace {

const std::vector<std::string> k_remote_keys{
    "inventory", "known_hosts", "identity", "ssh_config", "user", "parallel", "connect_timeout"};
const std::vector<std::string> k_host_keys{"name", "address", "port", "user", "vars"};

// "web2:2222" → web2 on port 2222.
bool split_port(std::string& name, int& port) {
    auto colon = name.rfind(':');
    if (colon == std::string::npos) {
        return true;
    }
    std::string digits = name.substr(colon + 1);
    if (digits.empty() || digits.size() > 5 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
        return false;
    }
    port = std::stoi(digits);
    name = name.substr(0, colon);
    return port >= 1 && port <= 65535;
}

} // namespace

void Loader::read_remote(const tree::Table& root) {
    const tree::Table* remote = m_r.get_table(root, "remote", "");
    const tree::Table* hosts = m_r.get_table(root, "hosts", "");
    RemoteSettings& rs = m_pb.remote;
    const std::string subject = "[remote]";
    if (remote != nullptr) {
        m_r.check_keys(*remote, subject, k_remote_keys);
        auto path = [&](std::string_view key, std::filesystem::path& out) {
            if (auto v = m_r.get_string(*remote, key, subject)) {
                out = (m_pb.directory / *v).lexically_normal();
            }
        };
        path("inventory", rs.inventory);
        path("known_hosts", rs.known_hosts);
        path("identity", rs.identity);
        path("ssh_config", rs.ssh_config);
        rs.user = m_r.get_string(*remote, "user", subject).value_or("");
        rs.parallel =
            static_cast<int>(m_r.get_int(*remote, "parallel", subject, 1, 256).value_or(10));
        if (auto d = m_r.get_duration(*remote, "connect_timeout", subject)) {
            if (d->count() < 1000) {
                m_r.error(m_r.where(*remote->get("connect_timeout")), subject,
                          "key \"connect_timeout\": at least 1s");
            }
            rs.connect_timeout = *d;
        }
        if (!rs.inventory.empty()) {
            const util::Location at = m_r.where(*remote->get("inventory"));
            try {
                std::vector<util::Diagnostic> errors;
                const std::string text =
                    util::read_input_file(rs.inventory, util::k_max_config_bytes);
                rs.inventory_sha256 = util::sha256_hex(text);
                m_pb.inventory = remote::parse_inventory(text, rs.inventory.string(), errors);
                for (auto& d : errors) {
                    m_r.error(d.where, d.subject, d.problem, d.hint);
                }
            } catch (const util::Error& e) {
                m_r.error(at, subject, std::string("key \"inventory\": ") + e.what());
            }
        }
    }
    if (hosts != nullptr) {
        std::vector<std::pair<remote::Host, std::string>> entries; // every entry, its group
        for (auto&& [group, node] : *hosts) {
            const std::string gsub = "[hosts] " + q(group.str());
            if (!remote::is_inventory_name(group.str()) || group.str() == "all") {
                m_r.error(m_r.where(group), "[hosts]", "invalid group name " + q(group.str()),
                          "letters, digits, _, - and . (\"all\" is every host)");
                continue;
            }
            const tree::Array* arr = node.as_array();
            if (arr == nullptr) {
                m_r.type_error(node, group.str(), "[hosts]", "an array of hosts");
                continue;
            }
            m_pb.inventory.groups[std::string(group.str())];
            m_pb.inventory.group_where[std::string(group.str())] = m_r.where(group);
            for (const auto& item : *arr) {
                remote::Host h;
                h.where = m_r.where(item);
                if (item.is_string()) {
                    h.name = item.string();
                    if (!split_port(h.name, h.port)) {
                        m_r.error(h.where, gsub, "invalid port in " + q(item.string()),
                                  "write \"name\" or \"name:port\" (1-65535)");
                        continue;
                    }
                } else if (const tree::Table* t = item.as_table()) {
                    m_r.check_keys(*t, gsub, k_host_keys);
                    if (!m_r.require(*t, "name", gsub, h.where)) {
                        continue;
                    }
                    h.name = m_r.get_string(*t, "name", gsub).value_or("");
                    h.address = m_r.get_string(*t, "address", gsub).value_or("");
                    h.port = static_cast<int>(m_r.get_int(*t, "port", gsub, 1, 65535).value_or(0));
                    h.user = m_r.get_string(*t, "user", gsub).value_or("");
                    if (const tree::Table* vars = m_r.get_table(*t, "vars", gsub)) {
                        for (auto&& [k, v] : *vars) {
                            if (!is_variable_name(k.str())) {
                                m_r.error(m_r.where(k), gsub,
                                          "invalid variable name " + q(k.str()));
                            } else if (v.is_string()) {
                                h.vars[std::string(k.str())] = v.string();
                            } else {
                                m_r.type_error(v, "vars." + std::string(k.str()), gsub, "a string");
                            }
                        }
                    }
                } else {
                    m_r.type_error(item, group.str(), "[hosts]",
                                   "a host name (\"web1\", \"web1:2222\") or a table");
                    continue;
                }
                if (!remote::is_inventory_name(h.name)) {
                    m_r.error(h.where, gsub, "invalid host name " + q(h.name),
                              "letters, digits, _, - and .");
                    continue;
                }
                if (h.address.empty()) {
                    h.address = h.name;
                }
                // A control character or a space would forge lines of the plan; a leading '-'
                // would be read by ssh as an option (the same rule as remote/inventory.cpp's).
                // The host stays declared: no second error for its group.
                for (const auto& [key, value] :
                     {std::pair<const char*, const std::string*>{"address", &h.address},
                      {"user", &h.user}}) {
                    const bool bad =
                        (!value->empty() && value->front() == '-') ||
                        std::any_of(value->begin(), value->end(),
                                    [is_user = key[0] == 'u'](char ch) {
                                        const auto c = static_cast<unsigned char>(ch);
                                        return c <= 0x20 || c == 0x7f || (is_user && c == '@');
                                    });
                    if (bad) {
                        m_r.error(h.where, gsub,
                                  "host " + q(h.name) + ": invalid " + key +
                                      " (a space, a control character, a leading '-'" +
                                      (key[0] == 'u' ? std::string(" or '@'") : std::string()) +
                                      ")");
                    }
                }
                entries.emplace_back(h, gsub);
                m_pb.inventory.add(h, std::string(group.str()));
            }
        }
        // The same name twice is one host: declared again (in the file's order) with another
        // address, port or user, one of the two servers would silently drop out of the fleet.
        std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
            return std::pair(a.first.where.line, a.first.where.column) <
                   std::pair(b.first.where.line, b.first.where.column);
        });
        std::map<std::string, const remote::Host*> declared;
        auto shown = [](const remote::Host& x) {
            return (x.user.empty() ? "" : x.user + "@") + x.address +
                   (x.port != 0 ? ":" + std::to_string(x.port) : "");
        };
        for (const auto& [h, gsub] : entries) {
            auto [first, fresh] = declared.try_emplace(h.name, &h);
            const remote::Host& f = *first->second;
            if (!fresh && (f.address != h.address || f.port != h.port || f.user != h.user)) {
                m_r.error(h.where, gsub,
                          "host " + q(h.name) + " is already declared (line " +
                              std::to_string(f.where.line) + ") with address " + shown(f) +
                              "; here it has " + shown(h),
                          "give each server its own name");
            }
        }
    }
    if (!m_pb.inventory.empty()) {
        m_host_vars.insert("host");
        for (const auto& h : m_pb.inventory.hosts) {
            for (const auto& [k, _] : h.vars) {
                m_host_vars.insert("host." + k);
            }
        }
        if (rs.known_hosts.empty()) {
            m_r.error(remote != nullptr ? m_r.where(*remote)
                                        : util::Location{m_r.display_path(), 1, 1},
                      subject, "missing required key \"known_hosts\" (hosts are declared)",
                      "the host keys are checked against this file only; an unknown key is an "
                      "error, never accepted");
        }
    }
}

void Loader::read_step_hosts(const tree::Table& t, Step& s, const std::string& subject) {
    auto count = [&](std::string_view key, int min) -> std::optional<HostCount> {
        const tree::Node* n = t.get(key);
        if (n == nullptr) {
            return std::nullopt;
        }
        HostCount c;
        if (n->is_integer()) {
            if (n->integer() < min || n->integer() > 100000) {
                m_r.error(m_r.where(*n), subject,
                          "key " + q(key) + ": must be at least " + std::to_string(min));
                return std::nullopt;
            }
            c.value = static_cast<int>(n->integer());
            return c;
        }
        if (n->is_string()) {
            const std::string v(n->string());
            if (v.size() >= 2 && v.back() == '%' && v.size() <= 4 &&
                v.substr(0, v.size() - 1).find_first_not_of("0123456789") == std::string::npos) {
                c.value = std::stoi(v.substr(0, v.size() - 1));
                c.percent = true;
                if (c.value >= min && c.value <= 100) {
                    return c;
                }
            }
            m_r.error(m_r.where(*n), subject,
                      "key " + q(key) + ": expected a number of hosts or \"N%\" (" +
                          std::to_string(min) + "-100), got " + q(v));
            return std::nullopt;
        }
        m_r.type_error(*n, key, subject, "an integer or a string \"N%\"");
        return std::nullopt;
    };
    s.batch = count("batch", 1);
    s.max_failures = count("max_failures", 0).value_or(HostCount{});
    auto hosts = m_r.get_string(t, "hosts", subject);
    if (!hosts) {
        for (const char* key : {"batch", "max_failures"}) {
            if (t.contains(key)) {
                m_r.error(m_r.where(*t.get(key)), subject,
                          "key " + q(key) + " needs key \"hosts\"");
            }
        }
        return;
    }
    const util::Location at = m_r.where(*t.get("hosts"));
    s.hosts = *hosts;
    static const std::set<std::string> k_on_hosts{"exec",           "wait",         "service",
                                                  "release_switch", "git_checkout", "http"};
    if (k_on_hosts.count(s.action) == 0) {
        // A key the runner would ignore is refused here: these actions act on the engine's
        // own machine (a database, a hook, a person).
        m_r.error(at, subject, "key \"hosts\": action " + q(s.action) + " does not run on hosts",
                  "exec, wait, service, release_switch, git_checkout and http steps run on "
                  "hosts");
        return;
    }
    if (m_pb.inventory.empty()) {
        m_r.error(at, subject, "key \"hosts\": no hosts are declared",
                  "add a [hosts] table or [remote] inventory = \"FILE\"");
        return;
    }
    if (m_pb.inventory.select(s.hosts).empty()) {
        std::vector<std::string> names{"all"};
        for (const auto& [g, _] : m_pb.inventory.groups) {
            names.push_back(g);
        }
        for (const auto& h : m_pb.inventory.hosts) {
            names.push_back(h.name);
        }
        m_r.error(at, subject,
                  with_guess("key \"hosts\": no group or host " + q(s.hosts), s.hosts, names));
    }
}

void Loader::check_host_references(const tree::Table& t, Step& s, const std::string& subject,
                                   size_t first_problem) {
    // On hosts, the keys of the actions other than exec (whose argv is checked where it is
    // read, and whose cwd and env travel on stdin), http (run here) and wait become arguments
    // of the fixed programs the engine runs there: on the host's command lines (ps).
    if (!s.hosts.empty() && s.action != "exec" && s.action != "http" && s.action != "wait" &&
        s.action != "approve") {
        for (const Variable& v : m_pb.variables) {
            const std::string ref = "{{" + v.name + "}} is secret";
            const auto& problems = m_r.diagnostics();
            const bool said =
                std::any_of(problems.begin() + static_cast<std::ptrdiff_t>(first_problem),
                            problems.end(), [&](const util::Diagnostic& d) {
                                return d.problem.find(ref) != std::string::npos;
                            });
            if (v.secret && !said &&
                std::find(s.uses.begin(), s.uses.end(), v.name) != s.uses.end()) {
                m_r.error(m_r.key_where(t, "action"), subject,
                          "{{" + v.name + "}} is secret, and the values of " + q(s.action) +
                              " on hosts are arguments of the programs it runs there, visible "
                              "to every user of the host (ps, /proc/PID/cmdline)",
                          "keep secrets out of this step's keys (a path or a name is not one)");
            }
        }
    }
    // On hosts the env is exported by the remote wrapper's shell: a name must be a shell name
    // (ssh.cpp checks it again when the command runs, after earlier steps acted).
    if (!s.hosts.empty()) {
        for (const auto& [name, _] : s.env) {
            const bool shell_name =
                !name.empty() &&
                (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_') &&
                std::all_of(name.begin(), name.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                });
            if (!shell_name) {
                m_r.error(m_r.key_where(t, "env"), subject,
                          "env name " + q(name) +
                              " cannot be exported on a host (a step with hosts takes names of "
                              "letters, digits and _, not starting with a digit)",
                          "rename it, e.g. " + q("APP_MODE"));
            }
        }
    }
    std::vector<std::string> used;
    for (const auto& u : s.uses) {
        if (m_host_vars.count(u) != 0) {
            used.push_back(u);
        }
    }
    if (used.empty()) {
        return;
    }
    const util::Location at = m_r.key_where(t, "id");
    if (s.hosts.empty()) {
        m_r.error(at, subject, "{{" + used.front() + "}} is defined only in a step with hosts",
                  "add hosts = \"GROUP\"");
        return;
    }
    for (const remote::Host* h : m_pb.inventory.select(s.hosts)) {
        for (const auto& u : used) {
            if (u != "host" && h->vars.count(u.substr(5)) == 0) {
                m_r.error(at, subject,
                          "{{" + u + "}}: host " + q(h->name) + " has no variable " +
                              q(u.substr(5)),
                          "define it for every host of " + q(s.hosts));
            }
        }
    }
}

} // namespace rollback::playbook::detail
