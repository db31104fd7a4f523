// SPDX-License-Identifier: MIT
#include "remote/inventory.hpp"
#include "remote/wrapper.hpp"

#include <doctest/doctest.h>

#include <random>

using namespace rollback;

TEST_SUITE("remote") {

    TEST_CASE("an Ansible INI inventory: groups and vars and children") {
        std::vector<util::Diagnostic> errors;
        auto inv = remote::parse_ini_inventory(R"(# shop
lb1 ansible_host=10.0.0.1
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
[all:vars]
env=prod
)",
                                               "inv.ini", errors);
        REQUIRE(errors.empty());
        REQUIRE(inv.hosts.size() == 4);
        const remote::Host* w1 = inv.find("web1");
        REQUIRE(w1 != nullptr);
        CHECK(w1->address == "10.0.0.11");
        CHECK(w1->port == 2222);
        CHECK(w1->user == "www");
        CHECK(w1->vars.at("deploy_root") == "/srv/one"); // the host's own wins
        CHECK(w1->vars.at("env") == "prod");
        const remote::Host* w2 = inv.find("web2");
        CHECK(w2->user == "deploy");
        CHECK(w2->vars.at("deploy_root") == "/srv/shop");
        CHECK(w2->vars.at("note") == "two words");
        CHECK(w2->address == "web2");
        CHECK(inv.select("app").size() == 2);
        CHECK(inv.select("web").size() == 2);
        CHECK(inv.select("all").size() == 4);
        CHECK(inv.select("db1").size() == 1);
        CHECK(inv.select("nope").empty());
        CHECK(inv.find("lb1")->address == "10.0.0.1");
    }

    TEST_CASE("INI inventory errors are located") {
        std::vector<util::Diagnostic> errors;
        remote::parse_ini_inventory(
            "[web]\nweb[1:3]\nweb1 ansible_port=99999\n[web:hosts]\nx \"open\n", "inv.ini", errors);
        REQUIRE(errors.size() == 4);
        CHECK(errors[0].where.line == 2);
        CHECK(errors[0].where.column == 1);
        CHECK(errors[0].problem == "host patterns such as web[1:4] are not supported");
        CHECK(errors[1].where.line == 3);
        CHECK(errors[1].where.column == 19);
        CHECK(errors[1].problem == "ansible_port: expected a port 1-65535, got \"99999\"");
        CHECK(errors[2].where.line == 4);
        CHECK(errors[2].problem == "unknown section kind \"hosts\"");
        CHECK(errors[3].where.line == 5);
        CHECK(errors[3].where.column == 3);
        CHECK(errors[3].where.file == "inv.ini");
    }

    TEST_CASE("an address or user that cannot be one is a located error (brk34 10)") {
        std::vector<util::Diagnostic> errors;
        remote::parse_ini_inventory("[web]\nweb1 ansible_host=\"127.0.0.1 ok\"\nweb2 "
                                    "ansible_user=-oProxyCommand=x\nweb3 ansible_user=a@b\n"
                                    "web4 ansible_host=10.0.0.4 ansible_user=deploy\n",
                                    "inv.ini", errors);
        REQUIRE(errors.size() == 3);
        CHECK(errors[0].where.line == 2);
        CHECK(errors[0].problem ==
              "host \"web1\": ansible_host contains a space or a control character");
        CHECK(errors[1].where.line == 3);
        CHECK(errors[1].problem == "host \"web2\": ansible_user starts with '-'");
        CHECK(errors[2].where.line == 4);
        CHECK(errors[2].problem == "host \"web3\": ansible_user contains '@'");
    }

    TEST_CASE("generated inventories round trip through INI") {
        std::mt19937 rng(20261206);
        auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
        const std::string alphabet = "abcxyz019_-./ =#;'";
        auto word = [&](bool spaces) {
            std::string w(1, "abcdef"[pick(6)]);
            for (int i = pick(8); i > 0; --i) {
                char c = alphabet[static_cast<size_t>(pick(spaces ? 18 : 12))];
                w += c;
            }
            return w;
        };
        for (int round = 0; round < 200; ++round) {
            remote::Inventory inv;
            const int n_hosts = 1 + pick(6);
            for (int h = 0; h < n_hosts; ++h) {
                remote::Host host;
                host.name = "h" + std::to_string(h) + word(false);
                for (char& c : host.name) {
                    if (c == '/') {
                        c = '_';
                    }
                }
                host.address = pick(2) ? host.name : "10.0." + std::to_string(h) + ".1";
                host.port = pick(2) ? 0 : 1 + pick(65535);
                host.user = pick(2) ? "" : "u" + std::to_string(pick(9));
                for (int v = pick(4); v > 0; --v) {
                    std::string value = word(true);
                    if (value.find('"') != std::string::npos &&
                        value.find('\'') != std::string::npos) {
                        continue;
                    }
                    host.vars["v" + std::to_string(pick(5))] = value;
                }
                inv.add(host, "g" + std::to_string(pick(3)));
                if (pick(3) == 0) {
                    inv.add(host, "g" + std::to_string(pick(3)));
                }
            }
            const std::string text = remote::to_ini(inv);
            std::vector<util::Diagnostic> errors;
            remote::Inventory back = remote::parse_ini_inventory(text, "gen.ini", errors);
            INFO(text);
            REQUIRE(errors.empty());
            REQUIRE(back.hosts.size() == inv.hosts.size());
            for (const auto& h : inv.hosts) {
                const remote::Host* b = back.find(h.name);
                REQUIRE(b != nullptr);
                CHECK(b->address == h.address);
                CHECK(b->port == h.port);
                CHECK(b->user == h.user);
                CHECK(b->vars == h.vars);
            }
            for (const auto& [g, members] : inv.groups) {
                CHECK(back.groups.at(g) == members);
            }
        }
    }

    TEST_CASE("the wrapper's request carries every byte as data") {
        remote::Request r;
        r.argv = {"printf", "%s", "a b'c\"d\\e\n$(x)`y`"};
        r.env = {{"TOKEN", "s e;c'r\"et"}};
        r.nonce = "00ff";
        const std::string text = remote::encode_request(r);
        CHECK(text.find("s e;c") == std::string::npos); // escaped: no space, quote or ; survives
        CHECK(text.find('\'') == std::string::npos);
        CHECK(remote::octal_escape("a b") == "a\\0040b");
        CHECK(remote::octal_escape("/srv/x-1.2") == "/srv/x-1.2");
    }

    TEST_CASE("the wrapper's lines are taken out of stderr") {
        std::string err =
            "warn\n@rollback-remote:ab pgid 42\nmore\npartial@rollback-remote:ab exit 3\n";
        auto rep = remote::take_report(err, "ab");
        CHECK(rep.pgid == 42);
        CHECK(rep.exit_code == 3);
        CHECK(err == "warn\nmore\npartial");
        std::string forged = "@rollback-remote:zz exit 0\n";
        auto none = remote::take_report(forged, "ab");
        CHECK_FALSE(none.exit_code.has_value());
        CHECK(forged == "@rollback-remote:zz exit 0\n");
    }

} // TEST_SUITE

TEST_SUITE("remote") {

    // Expected values from ansible-inventory 2.14 (`--list`) on the same text.
    TEST_CASE("group variables apply by depth then ansible_group_priority then name (brk34 03)") {
        std::vector<util::Diagnostic> errors;
        // h1 in z (depth 1) and in c (a child of b: depth 2): c wins although "c" < "z".
        auto inv = remote::parse_ini_inventory("[z]\nh1\n[c]\nh1\n[b:children]\nc\n"
                                               "[z:vars]\nroot=/z\n[b:vars]\nroot=/b\n"
                                               "[c:vars]\nroot=/c\n",
                                               "prec.ini", errors);
        REQUIRE(errors.empty());
        CHECK(inv.find("h1")->vars.at("root") == "/c");
        inv = remote::parse_ini_inventory(R"(h0
[top]
h1
[mid]
h1
[leaf]
h1
[top:children]
mid
[mid:children]
leaf
[side]
h1
h2
[side:vars]
v=side
w=side
ansible_group_priority=10
[top:vars]
v=top
w=top
[leaf:vars]
v=leaf
[other]
h2
[other:vars]
w=other
ansible_group_priority=5
)",
                                          "pri.ini", errors);
        REQUIRE(errors.empty());
        const auto* h1 = inv.find("h1");
        const auto* h2 = inv.find("h2");
        CHECK(h1->vars == std::map<std::string, std::string>{{"v", "leaf"}, {"w", "side"}});
        CHECK(h2->vars == std::map<std::string, std::string>{{"v", "side"}, {"w", "side"}});
        CHECK(inv.select("ungrouped").size() == 1);
        // The same in YAML.
        auto y = remote::parse_yaml_inventory(R"(all:
  children:
    z:
      hosts:
        h1:
      vars: { root: /z }
    b:
      children:
        c:
          hosts:
            h1:
          vars: { root: /c }
      vars: { root: /b }
)",
                                              "y1.yml", errors);
        REQUIRE(errors.empty());
        CHECK(y.find("h1")->vars.at("root") == "/c");
    }

    TEST_CASE("INI lines as Ansible reads them (brk34 05)") {
        std::vector<util::Diagnostic> errors;
        // host:port; shell-like words with '#' ending the line anywhere; a value that is one
        // Python string literal loses its quotes; `k = v` lines in [g:vars] cut at the first '='.
        auto inv = remote::parse_ini_inventory(
            "h1:23401 x=\"a b\" y='\"q\"' z=a\\ b w=\"c\\\"d\" u='e\\f' t=1#c s=gone\n"
            "h2 ansible_ssh_host=10.0.0.2 ansible_host=10.0.0.9 ansible_ssh_port=2202 "
            "ansible_ssh_user=deploy\n[g]\nh1\n[g:vars]\n k1 = \"quoted value\" \n"
            "k2=plain # not a comment\nk3='s\\'q'\nmotd=hello world\n",
            "q.ini", errors);
        for (const auto& e : errors) {
            INFO(e.where.line << ":" << e.where.column << " " << e.problem);
        }
        REQUIRE(errors.empty());
        const auto* h1 = inv.find("h1");
        REQUIRE(h1 != nullptr);
        CHECK(h1->port == 23401);
        CHECK(h1->vars == std::map<std::string, std::string>{{"k1", "quoted value"},
                                                             {"k2", "plain # not a comment"},
                                                             {"k3", "s'q"},
                                                             {"motd", "hello world"},
                                                             {"t", "1"},
                                                             {"u", "e\\f"},
                                                             {"w", "c\"d"},
                                                             {"x", "a b"},
                                                             {"y", "q"},
                                                             {"z", "a b"}});
        const auto* h2 = inv.find("h2");
        CHECK(h2->address == "10.0.0.2"); // Ansible's ssh plugin: ansible_ssh_host wins
        CHECK(h2->port == 2202);
        CHECK(h2->user == "deploy");
        CHECK(h2->vars.empty());
        // A host in a group is not in "ungrouped" (Ansible's reconcile_inventory).
        CHECK(inv.groups.at("ungrouped") == std::vector<std::string>{"h2"});
        auto y = remote::parse_yaml_inventory("all:\n  hosts:\n    h1:23401:\n", "p.yml", errors);
        REQUIRE(errors.empty());
        CHECK(y.find("h1")->port == 23401);
    }

    TEST_CASE("INI group variables and loops are checked where written (brk34 04 05)") {
        std::vector<util::Diagnostic> errors;
        remote::parse_ini_inventory("[web]\nh1 ansible_host=127.0.0.1\n[web:vars]\n"
                                    "ansible_port=23401x\nansible_group_priority = high\n"
                                    "[web:vars]\n  ansible_ssh_port =  0\nnothing\n",
                                    "d.ini", errors);
        REQUIRE(errors.size() == 4);
        CHECK(errors[0].where.line == 4);
        CHECK(errors[0].where.column == 14);
        CHECK(errors[0].problem == "ansible_port: expected a port 1-65535, got \"23401x\"");
        CHECK(errors[1].where.line == 5);
        CHECK(errors[1].where.column == 26);
        CHECK(errors[1].problem == "ansible_group_priority: expected an integer, got \"high\"");
        CHECK(errors[2].where.line == 7);
        CHECK(errors[2].where.column == 23);
        CHECK(errors[2].problem == "ansible_ssh_port: expected a port 1-65535, got \"0\"");
        CHECK(errors[3].where.line == 8);
        CHECK(errors[3].problem == "expected key=value in [web:vars]");
        errors.clear();
        remote::parse_ini_inventory("[a]\nh1\n[a:children]\nb\n[b]\nh2\n[b:children]\na\n", "c.ini",
                                    errors);
        REQUIRE(errors.size() == 1);
        CHECK(errors[0].where.line == 5);
        CHECK(errors[0].problem ==
              "group \"b\": child group \"a\" makes a loop of children (a -> b -> a)");
        errors.clear();
        remote::parse_ini_inventory("[web]\nh1:80x\nh2:\n", "p.ini", errors);
        REQUIRE(errors.size() == 2);
        CHECK(errors[0].where.column == 4);
        CHECK(errors[0].problem == "host \"h1\": expected a port 1-65535 after ':', got \"80x\"");
        CHECK(errors[1].problem == "host \"h2\": expected a port 1-65535 after ':', got \"\"");
        errors.clear();
        remote::parse_yaml_inventory(
            "all:\n  children:\n    web:\n      hosts: { h1: }\n      vars:\n"
            "        ansible_ssh_port: 70000\n        ansible_group_priority: x\n",
            "g.yml", errors);
        REQUIRE(errors.size() == 2);
        CHECK(errors[0].where.line == 6);
        CHECK(errors[0].problem == "ansible_ssh_port: expected a port 1-65535, got \"70000\"");
        CHECK(errors[1].where.line == 7);
    }
}
