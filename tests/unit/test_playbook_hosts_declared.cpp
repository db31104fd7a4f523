// SPDX-License-Identifier: MIT
// Break-it round 34: finding 13, a host declared twice in [hosts] with another address, port or
// user is an error; 18, env names on hosts are shell names; 10, addresses and users are checked.
#include "playbook/loader.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

using namespace rollback;
namespace fs = std::filesystem;

TEST_SUITE("playbook") {
    TEST_CASE("a host declared twice in hosts with another address port or user is an error") {
        auto load_hosts = [](const std::string& hosts) -> std::vector<util::Diagnostic> {
            test::TempDir dir;
            dir.write("known_hosts", "");
            fs::path p =
                dir.write("pb.toml", "[remote]\nknown_hosts = \"known_hosts\"\n[hosts]\n" + hosts +
                                         "\n[[step]]\nid = \"s\"\naction = \"exec\"\n"
                                         "hosts = \"web\"\nargv = [\"true\"]\n");
            try {
                playbook::load(p, {});
            } catch (const util::InvalidInput& e) {
                return e.diagnostics();
            }
            return {};
        };
        const auto d =
            load_hosts("web = [{ name = \"a\", address = \"127.0.0.1\", port = 23401 },\n"
                       "       { name = \"a\", address = \"127.0.0.1\", port = 23402 }]\n"
                       "app = [{ name = \"a\", address = \"127.0.0.1\", port = 23403 }]");
        INFO(util::format_diagnostics(d));
        REQUIRE(d.size() == 2);
        CHECK(d[0].where.line == 5);
        CHECK(d[0].problem ==
              "host \"a\" is already declared (line 4) with address 127.0.0.1:23401; here it has "
              "127.0.0.1:23402");
        CHECK(d[1].where.line == 6);
        CHECK(d[1].problem.find("(line 4)") != std::string::npos);
        CHECK(load_hosts("web = [\"a:2201\", \"a:2202\"]").size() == 1);
        // the same host named again (in another group) is one host
        CHECK(load_hosts("web = [\"a\", \"b\"]\napp = [\"a\"]").empty());
        CHECK(load_hosts("web = [{ name = \"a\", port = 22 }]\napp = [\"a:22\"]").empty());
    }

    TEST_CASE("an env name that a host's shell cannot export is refused at load") {
        auto load_env = [](const std::string& env) -> std::vector<util::Diagnostic> {
            test::TempDir dir;
            dir.write("known_hosts", "");
            fs::path p =
                dir.write("pb.toml", "[remote]\nknown_hosts = \"known_hosts\"\n[hosts]\n"
                                     "web = [\"web1\"]\n[[step]]\nid = \"s\"\naction = "
                                     "\"exec\"\nhosts = \"web\"\nargv = [\"true\"]\nenv = " +
                                         env + "\n");
            try {
                playbook::load(p, {});
            } catch (const util::InvalidInput& e) {
                return e.diagnostics();
            }
            return {};
        };
        const auto d = load_env("{ \"app.mode\" = \"x\" }");
        REQUIRE(d.size() == 1);
        CHECK(d[0].where.line == 10);
        CHECK(d[0].problem.find("env name \"app.mode\" cannot be exported on a host") !=
              std::string::npos);
        CHECK(load_env("{ \"1X\" = \"x\" }").size() == 1);
        CHECK(load_env("{ APP_MODE = \"x\", _a1 = \"y\" }").empty());
    }

    TEST_CASE("an address or user of hosts that cannot be one is a located error") {
        auto load_hosts = [](const std::string& hosts) -> std::vector<util::Diagnostic> {
            test::TempDir dir;
            dir.write("known_hosts", "");
            fs::path p =
                dir.write("pb.toml", "[remote]\nknown_hosts = \"known_hosts\"\n[hosts]\n" + hosts +
                                         "\n[[step]]\nid = \"s\"\naction = \"exec\"\n"
                                         "hosts = \"web\"\nargv = [\"true\"]\n");
            try {
                playbook::load(p, {});
            } catch (const util::InvalidInput& e) {
                return e.diagnostics();
            }
            return {};
        };
        const auto d =
            load_hosts("web = [{ name = \"a\", address = \"127.0.0.1\\n  ok    s: forged\" }]");
        INFO(util::format_diagnostics(d));
        REQUIRE(d.size() == 1);
        CHECK(d[0].where.line == 4);
        CHECK(d[0].problem.find("host \"a\": invalid address") != std::string::npos);
        CHECK(load_hosts("web = [{ name = \"a\", user = \"-oX=y\" }]").size() == 1);
        CHECK(load_hosts("web = [{ name = \"a\", address = \"10.0.0.1\", user = \"deploy\" }]")
                  .empty());
    }
}
