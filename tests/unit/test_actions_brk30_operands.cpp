// SPDX-License-Identifier: MIT
// Break-it 30/03, 05: an action's key that the action puts on a program's command line and
// records (git_checkout repo/ref, release_switch deploy_root/to, service name/supervisor_conf)
// takes no secret; a value in a service name never makes it a pattern, a group or a keyword.
#include "actions/load.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <map>
#include <string>
#include <vector>

using namespace rollback;

namespace {

/// The problems of a playbook with one step (`body`), v = "{{v}}" from --var and a secret tok.
std::vector<std::string> problems(const std::string& body, const std::string& v = "web") {
    test::TempDir dir;
    const auto p = dir.write("pb.toml", "[vars]\nv = { env = \"BRK30_V\", default = \"x\" }\n"
                                        "tok = { env = \"BRK30_TOK\", secret = true, default = "
                                        "\"s3cr3tCANARYzz\" }\n[[step]]\nid = \"s\"\n" +
                                            body + "\n");
    try {
        actions::load_playbook(p, {{"v", v}});
    } catch (const util::InvalidInput& e) {
        std::vector<std::string> out;
        for (const auto& d : e.diagnostics()) {
            out.push_back(d.problem);
        }
        return out;
    }
    return {};
}

bool any_has(const std::vector<std::string>& ps, const std::string& what) {
    for (const auto& p : ps) {
        if (p.find(what) != std::string::npos) {
            return true;
        }
    }
    return false;
}

// Each step with R where the reference goes: every key an action puts on a command line.
const std::vector<std::pair<std::string, std::string>> k_operand_keys{
    {"ref", "action = \"git_checkout\"\nrepo = \"/srv/shop\"\nref = \"R\""},
    {"repo", "action = \"git_checkout\"\nrepo = \"/srv/R\"\nref = \"v1\""},
    {"to", "action = \"release_switch\"\ndeploy_root = \"/srv/shop\"\nto = \"R\""},
    {"deploy_root", "action = \"release_switch\"\ndeploy_root = \"/srv/R\"\nto = \"v1\""},
    {"name", "action = \"service\"\nmanager = \"systemd\"\nop = \"restart\"\nname = \"R\""},
    {"name", "action = \"service\"\nmanager = \"supervisor\"\nop = \"stop\"\nname = \"shop:R\""},
    {"supervisor_conf", "action = \"service\"\nmanager = \"supervisor\"\nop = \"stop\"\n"
                        "name = \"web\"\nsupervisor_conf = \"/etc/R.conf\""},
};

std::string with(std::string text, const std::string& r) {
    text.replace(text.find('R'), 1, r);
    return text;
}

} // namespace

TEST_SUITE("actions") {
    TEST_CASE("brk30: generated — a secret in a key an action puts on a command line is refused") {
        size_t cases = 0;
        for (const auto& [key, body] : k_operand_keys) {
            CAPTURE(body);
            const auto secret = problems(with(body, "{{tok}}"));
            CHECK(any_has(secret, "key \"" + key +
                                      "\": {{tok}} is secret, but the action puts "
                                      "this key on a program's command line"));
            CHECK(!any_has(problems(with(body, "{{v}}")), "secret"));
            ++cases;
        }
        CHECK(cases == k_operand_keys.size());
    }

    TEST_CASE("brk30: generated — a value never makes a service name a pattern or a group") {
        const std::vector<std::string> bodies{
            "action = \"service\"\nmanager = \"systemd\"\nop = \"stop\"\nname = \"R\"",
            "action = \"service\"\nmanager = \"systemd\"\nop = \"stop\"\nname = \"R.service\"",
            "action = \"service\"\nmanager = \"supervisor\"\nop = \"stop\"\nname = \"R\"",
            "action = \"service\"\nmanager = \"supervisor\"\nop = \"stop\"\nname = \"shop:R\""};
        const std::vector<std::string> refused{"",      "*",      "web*", "w?b", "[a-z]*",
                                               "shop:", "shop:*", "all",  "a b", "x:y"};
        const std::vector<std::string> accepted{"web", "shop-web_2", "getty@tty1", "web.v2"};
        size_t cases = 0;
        for (const auto& body : bodies) {
            for (const auto& value : refused) {
                CAPTURE(body);
                CAPTURE(value);
                CHECK(any_has(problems(with(body, "{{v}}"), value), "the value of {{v}}"));
                ++cases;
            }
            for (const auto& value : accepted) {
                CAPTURE(body);
                CAPTURE(value);
                CHECK(problems(with(body, "{{v}}"), value).empty());
            }
        }
        CHECK(cases == bodies.size() * refused.size());
    }
}
