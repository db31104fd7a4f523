// SPDX-License-Identifier: MIT
#include "remote/inventory.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>

using namespace rollback;

namespace {

// One inventory as data, written both ways: the differential test's generator.
struct Spec {
    struct H {
        std::string name;
        std::vector<std::pair<std::string, std::string>> vars; // ansible_* included
    };
    struct G {
        std::string name;
        std::vector<size_t> hosts; // indexes into `hosts`
        std::vector<std::pair<std::string, std::string>> vars;
        std::vector<std::string> children;
    };
    std::vector<H> hosts;
    std::vector<size_t> ungrouped;
    std::vector<G> groups;
    std::vector<std::pair<std::string, std::string>> all_vars;
};

// `v` as one Python string literal ("..." with \\ and \"): what Ansible's _parse_value reads
// back as `v`.
std::string python_literal(const std::string& v) {
    std::string out = "\"";
    for (char c : v) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

// A host line's value (shell-like words, then _parse_value).
std::string ini_value(const std::string& v) {
    if (!v.empty() && v.find_first_of(" \t'\"#;\\") == std::string::npos) {
        return v;
    }
    const std::string text = !v.empty() && (v[0] == '\'' || v[0] == '"') ? python_literal(v) : v;
    // In double quotes the shell-like words escape " and \ as a Python literal does.
    return text.find('\'') == std::string::npos ? "'" + text + "'" : python_literal(text);
}

// A [group:vars] value (the rest of the line, stripped, then _parse_value).
std::string vars_value(const std::string& v) {
    if (v.empty() || (v[0] != '\'' && v[0] != '"' && v.front() != ' ' && v.back() != ' ')) {
        return v;
    }
    return python_literal(v);
}

std::string yaml_value(const std::string& v, bool plain) {
    if (plain && !v.empty() &&
        v.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_./") == std::string::npos &&
        v != "null" && v.find('.') != 0) {
        return v;
    }
    std::string out = "\"";
    for (char c : v) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

std::string to_ini(const Spec& s) {
    std::string out;
    std::set<size_t> written;
    auto host_line = [&](size_t i) {
        out += s.hosts[i].name;
        if (written.insert(i).second) {
            for (const auto& [k, v] : s.hosts[i].vars) {
                out += " " + k + "=" + ini_value(v);
            }
        }
        out += "\n";
    };
    for (size_t i : s.ungrouped) {
        host_line(i);
    }
    if (!s.all_vars.empty()) {
        out += "[all:vars]\n";
        for (const auto& [k, v] : s.all_vars) {
            out += k + "=" + vars_value(v) + "\n";
        }
    }
    for (const auto& g : s.groups) {
        out += "[" + g.name + "]\n";
        for (size_t i : g.hosts) {
            host_line(i);
        }
        if (!g.vars.empty()) {
            out += "[" + g.name + ":vars]\n";
            for (const auto& [k, v] : g.vars) {
                out += k + "=" + vars_value(v) + "\n";
            }
        }
        if (!g.children.empty()) {
            out += "[" + g.name + ":children]\n";
            for (const auto& c : g.children) {
                out += c + "\n";
            }
        }
    }
    return out;
}

std::string to_yaml(const Spec& s, std::mt19937& rng) {
    std::string out = "all:\n";
    std::set<size_t> written;
    auto host_entry = [&](size_t i, const std::string& indent) {
        out += indent + s.hosts[i].name + ":";
        if (!written.insert(i).second || s.hosts[i].vars.empty()) {
            out += "\n";
            return;
        }
        if (rng() % 2 == 0) { // flow style
            out += " {";
            bool first = true;
            for (const auto& [k, v] : s.hosts[i].vars) {
                out += (first ? "" : ", ") + k + ": " + yaml_value(v, false);
                first = false;
            }
            out += "}\n";
            return;
        }
        out += "\n";
        for (const auto& [k, v] : s.hosts[i].vars) {
            out += indent + "  " + k + ": " + yaml_value(v, rng() % 2 == 0) + "\n";
        }
    };
    if (!s.all_vars.empty()) {
        out += "  vars:\n";
        for (const auto& [k, v] : s.all_vars) {
            out += "    " + k + ": " + yaml_value(v, true) + "\n";
        }
    }
    if (!s.ungrouped.empty()) {
        out += "  hosts:\n";
        for (size_t i : s.ungrouped) {
            host_entry(i, "    ");
        }
    }
    if (!s.groups.empty()) {
        out += "  children:\n";
    }
    for (const auto& g : s.groups) {
        out += "    " + g.name + ":\n";
        if (!g.hosts.empty()) {
            out += "      hosts:\n";
            for (size_t i : g.hosts) {
                host_entry(i, "        ");
            }
        }
        if (!g.vars.empty()) {
            out += "      vars:\n";
            for (const auto& [k, v] : g.vars) {
                out += "        " + k + ": " + yaml_value(v, rng() % 2 == 0) + "\n";
            }
        }
        if (!g.children.empty()) {
            out += "      children:\n";
            for (const auto& c : g.children) {
                out += "        " + c + ":\n";
            }
        }
    }
    return out;
}

void check_same(const remote::Inventory& a, const remote::Inventory& b) {
    REQUIRE(a.hosts.size() == b.hosts.size());
    for (size_t i = 0; i < a.hosts.size(); ++i) {
        CHECK(a.hosts[i].name == b.hosts[i].name);
        CHECK(a.hosts[i].address == b.hosts[i].address);
        CHECK(a.hosts[i].port == b.hosts[i].port);
        CHECK(a.hosts[i].user == b.hosts[i].user);
        CHECK(a.hosts[i].vars == b.hosts[i].vars);
    }
    CHECK(a.groups == b.groups);
}

remote::Inventory yaml(const std::string& text, std::vector<util::Diagnostic>& errors) {
    return remote::parse_yaml_inventory(text, "inv.yml", errors);
}

} // namespace

TEST_SUITE("remote") {

    TEST_CASE("an Ansible YAML inventory reads as its INI twin") {
        std::vector<util::Diagnostic> errors;
        const auto from_yaml = yaml(R"(# shop
all:
  hosts:
    lb1:
      ansible_host: 10.0.0.1
  vars:
    env: prod
  children:
    web:
      hosts:
        web1: {ansible_host: 10.0.0.11, ansible_port: 2222, deploy_root: /srv/one}
        web2:
          ansible_user: deploy
          note: "two words"
      vars: &webvars
        deploy_root: /srv/shop
        ansible_user: www
    db:
      hosts:
        db1:
    app:
      children:
        web:
      vars:
        <<: *webvars
        tier: app
)",
                                    errors);
        REQUIRE(errors.empty());
        const auto from_ini = remote::parse_ini_inventory(R"(lb1 ansible_host=10.0.0.1
[web]
web1 ansible_host=10.0.0.11 ansible_port=2222 deploy_root=/srv/one
web2 ansible_user=deploy "note=two words"
[web:vars]
deploy_root=/srv/shop
ansible_user=www
[db]
db1
[app:children]
web
[app:vars]
deploy_root=/srv/shop
ansible_user=www
tier=app
[all:vars]
env=prod
)",
                                                          "inv.ini", errors);
        REQUIRE(errors.empty());
        check_same(from_yaml, from_ini);
        const remote::Host* w1 = from_yaml.find("web1");
        REQUIRE(w1 != nullptr);
        CHECK(w1->address == "10.0.0.11");
        CHECK(w1->port == 2222);
        CHECK(w1->user == "www");
        CHECK(w1->vars.at("deploy_root") == "/srv/one");
        CHECK(w1->vars.at("tier") == "app");
        CHECK(from_yaml.select("app").size() == 2);
        CHECK(from_yaml.select("ungrouped").size() == 1);
        CHECK(from_yaml.find("web2")->vars.at("note") == "two words");
    }

    TEST_CASE("generated inventories: INI and YAML give the same Inventory") {
        std::mt19937 rng(20261206);
        auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
        const std::string alphabet = "abcxyz019_-./ =#;:'\"\\@!%&*{}[],?|>";
        auto value = [&] {
            std::string w;
            for (int i = pick(10); i > 0; --i) {
                w += alphabet[static_cast<size_t>(pick(static_cast<int>(alphabet.size())))];
            }
            if (w.find('"') != std::string::npos && w.find('\'') != std::string::npos) {
                w.erase(std::remove(w.begin(), w.end(), '\''), w.end());
            }
            // INI cuts a value at a space unless quoted, and trims nothing inside quotes; a
            // value with '=' or a leading/trailing space reads the same both ways when quoted.
            return w;
        };
        auto vars = [&](bool connect) {
            std::vector<std::pair<std::string, std::string>> out;
            std::set<std::string> seen;
            for (int v = pick(4); v > 0; --v) {
                std::string k = "v" + std::to_string(pick(5));
                if (connect && pick(3) == 0) {
                    const int which = pick(3);
                    k = which == 0 ? "ansible_host" : which == 1 ? "ansible_port" : "ansible_user";
                }
                if (!seen.insert(k).second) {
                    continue;
                }
                // (a login with a space, '@' or a leading '-' is an error either way)
                std::string val = k == "ansible_port"   ? std::to_string(1 + pick(65535))
                                  : k == "ansible_host" ? "10.0." + std::to_string(pick(9)) + ".1"
                                  : k == "ansible_user" ? "u" + std::to_string(pick(9))
                                                        : value();
                out.emplace_back(k, val);
            }
            return out;
        };
        for (int round = 0; round < 300; ++round) {
            Spec s;
            const int n_hosts = 1 + pick(8);
            for (int h = 0; h < n_hosts; ++h) {
                s.hosts.push_back({"h" + std::to_string(h), vars(true)});
            }
            const int n_groups = pick(5);
            for (int g = 0; g < n_groups; ++g) {
                Spec::G grp;
                grp.name = "g" + std::to_string(g);
                std::set<size_t> in;
                for (int k = pick(4); k > 0; --k) {
                    in.insert(static_cast<size_t>(pick(n_hosts)));
                }
                grp.hosts.assign(in.begin(), in.end());
                std::shuffle(grp.hosts.begin(), grp.hosts.end(), rng);
                grp.vars = vars(true);
                // Children only of later groups: every child is defined, no cycle.
                for (int c = g + 1; c < n_groups; ++c) {
                    if (pick(3) == 0) {
                        grp.children.push_back("g" + std::to_string(c));
                    }
                }
                s.groups.push_back(std::move(grp));
            }
            std::set<size_t> grouped;
            for (const auto& g : s.groups) {
                grouped.insert(g.hosts.begin(), g.hosts.end());
            }
            for (size_t i = 0; i < s.hosts.size(); ++i) {
                if (grouped.count(i) == 0 || pick(6) == 0) {
                    s.ungrouped.push_back(i);
                }
            }
            if (pick(2) == 0) {
                s.all_vars = vars(false);
            }
            const std::string ini = to_ini(s), yml = to_yaml(s, rng);
            INFO("INI:\n" << ini << "\nYAML:\n" << yml);
            std::vector<util::Diagnostic> ini_errors, yaml_errors;
            const auto a = remote::parse_ini_inventory(ini, "gen.ini", ini_errors);
            const auto b = yaml(yml, yaml_errors);
            REQUIRE(ini_errors.empty());
            for (const auto& e : yaml_errors) {
                INFO(e.where.line << ":" << e.where.column << " " << e.problem);
            }
            REQUIRE(yaml_errors.empty());
            check_same(a, b);
        }
    }

    TEST_CASE("YAML inventory errors are located with a hint") {
        struct Case {
            std::string text;
            int line, column;
            std::string problem;
        };
        const std::vector<Case> cases{
            {"all:\n  hosts:\n    web1:\n      ansible_port: 99999\n", 4, 21,
             "ansible_port: expected a port 1-65535, got \"99999\""},
            {"all:\n  hosts:\n    web[1:3]:\n", 3, 5,
             "host patterns such as web[1:4] are not supported"},
            {"all:\n  host:\n    web1:\n", 2, 3,
             "group \"all\": unknown key \"host\" (did you mean \"hosts\"?)"},
            {"all:\n  hosts:\n    - web1\n", 3, 5,
             "group \"all\": hosts: expected a mapping of hosts, got a list"},
            {"all:\n  hosts:\n    web1:\n      x: [1, 2]\n", 4, 10,
             "variable \"x\": a list is not read"},
            {"all:\n  hosts:\n    web1:\n      x:\n", 4, 7,
             "variable \"x\": nothing (null) is not read"},
            {"all:\n  hosts:\n    web1:\n    web1:\n", 4, 5,
             "duplicate key \"web1\" (first at line 3)"},
            {"all:\n  vars:\n    pw: !vault |\n      $ANSIBLE_VAULT;1.1;AES256\n", 3, 9,
             "the tag \"!vault\" is not read"},
            {"all:\n  hosts: {web1: {a: 1}\n", 3, 1, ""},
            {"all: 1\n---\nall: 2\n", 2, 1, "a second YAML document"},
            {"all:\n  children:\n    ? [a, b]\n    : x\n", 3, 7, ""},
            {"all: &g\n  children:\n    web: *g\n", 3, 10,
             "an alias inside the node it names (a cycle)"},
            {"- web1\n", 1, 1, "expected a mapping of groups (all:), got a list"},
        };
        for (const auto& c : cases) {
            CAPTURE(c.text);
            std::vector<util::Diagnostic> errors;
            yaml(c.text, errors);
            REQUIRE(errors.size() >= 1);
            CHECK(errors[0].where.file == "inv.yml");
            CHECK(errors[0].where.line == c.line);
            CHECK(errors[0].where.column == c.column);
            if (!c.problem.empty()) {
                CHECK(errors[0].problem == c.problem);
            }
        }
    }

    TEST_CASE("hostile YAML inventories end in a located error quickly and in bounded memory") {
        auto timed = [](const std::string& text, const std::string& expect) {
            CAPTURE(expect);
            std::vector<util::Diagnostic> errors;
            const auto start = std::chrono::steady_clock::now();
            const auto inv = yaml(text, errors);
            const auto took = std::chrono::steady_clock::now() - start;
            CHECK(took < std::chrono::seconds(5));
            REQUIRE(!errors.empty());
            CHECK(errors[0].problem.find(expect) != std::string::npos);
            CHECK(inv.hosts.empty());
        };
        std::string laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
        for (int i = 1; i < 12; ++i) {
            laughs += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
            for (int k = 0; k < 10; ++k) {
                laughs += (k ? ", *a" : "*a") + std::to_string(i - 1);
            }
            laughs += "]\n";
        }
        timed(laughs, "more than 500000 YAML nodes");
        timed(std::string(100000, '['), "nested deeper than 64 levels");
        std::string block;
        for (int i = 0; i < 200; ++i) {
            block += std::string(static_cast<size_t>(i), ' ') + "k" + std::to_string(i) + ":\n";
        }
        timed(block, "nested deeper than 64 levels");
        std::string many = "all:\n  hosts:\n";
        for (int i = 0; i < 10001; ++i) {
            many += "    h" + std::to_string(i) + ":\n";
        }
        timed(many, "more than 10000 hosts");
    }

    TEST_CASE("an inventory file is read as YAML by its name and otherwise as INI") {
        std::vector<util::Diagnostic> errors;
        CHECK(remote::parse_inventory("all:\n  hosts:\n    a:\n", "x.yaml", errors).hosts.size() ==
              1);
        CHECK(remote::parse_inventory("all:\n  hosts:\n    a:\n", "x.YML", errors).empty());
        CHECK(remote::parse_inventory("[web]\na\n", "hosts", errors).hosts.size() == 1);
    }
}
