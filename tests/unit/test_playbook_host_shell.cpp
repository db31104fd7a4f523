// SPDX-License-Identifier: MIT
// Break-it round 34, finding 16: a per-host value ({{host}} and every dotted {{host.NAME}} of
// the inventory) in shell text is refused at its reference, whatever the name's shape.
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

namespace {

// The diagnostics of loading a one-step exec playbook on hosts whose step holds `body`.
std::vector<util::Diagnostic> host_diagnostics_of(const std::string& body) {
    test::TempDir dir;
    dir.write("known_hosts", "");
    std::map<std::string, std::string> env;
    playbook::LoadOptions options;
    options.environment = &env;
    fs::path p = dir.write("pb.toml", R"([remote]
known_hosts = "known_hosts"
[hosts]
web = [{ name = "web3", address = "h3", vars = { deploy_root = "/c; touch /tmp/x" } }]
[[step]]
id = "s"
action = "exec"
hosts = "web"
)" + body + "\n");
    try {
        playbook::load(p, options);
    } catch (const util::InvalidInput& e) {
        return e.diagnostics();
    }
    return {};
}

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("a dotted per-host value in shell text is refused at its reference") {
        const std::vector<std::string> bodies{
            R"(argv = ["sh", "-c", "echo {{host.deploy_root}}"])",
            R"(argv = ["bash", "-c", "echo {{host.deploy_root}}"])",
            R"(argv = ["/bin/sh", "-ec", "echo {{host.deploy_root}}"])",
            R"(argv = ["env", "X=1", "sh", "-c", "echo {{host.deploy_root}}"])",
            R"(argv = ["nice", "dash", "-c", "echo {{host.deploy_root}}"])",
            R"(shell = true
argv = "echo {{host.deploy_root}} shell_true")",
            "argv = [\"true\"]\nprobe = \"test -e {{host.deploy_root}}\"",
            "argv = [\"true\"]\nprobe = [\"sh\", \"-c\", \"test -e {{host.deploy_root}}\"]",
        };
        for (const auto& body : bodies) {
            CAPTURE(body);
            const auto d = host_diagnostics_of(body);
            REQUIRE(d.size() == 1);
            CHECK(d[0].problem.find("{{host.deploy_root}} inside a shell command string") !=
                  std::string::npos);
            CHECK(d[0].where.column > 1); // at the reference, not the start of the value
        }
        // as data (a whole argv element, env) it stays accepted
        CHECK(host_diagnostics_of(R"(argv = ["ls", "{{host.deploy_root}}"])").empty());
        CHECK(
            host_diagnostics_of(R"(argv = ["sh", "-c", "ls \"$1\"", "sh", "{{host.deploy_root}}"])")
                .empty());
    }
}
