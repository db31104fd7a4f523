// SPDX-License-Identifier: MIT
// Break-it round 34, finding 17: a secret in the keys of an action that become arguments of the
// programs run on hosts (release_switch's deploy_root, ...) is refused at validate. (Here, not
// in test_playbook_*: the action must be registered.)
#include "actions/action.hpp"
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

TEST_SUITE("actions") {
    TEST_CASE("a secret in the keys of release_switch on hosts is refused at its action key") {
        auto load_with = [](const std::string& deploy_root) -> std::vector<util::Diagnostic> {
            test::TempDir dir;
            dir.write("known_hosts", "");
            std::map<std::string, std::string> env{{"BRK_DIRTOK", "Qk7SecretDirZ"}};
            playbook::LoadOptions options;
            options.environment = &env;
            for (const auto& name : actions::action_names()) {
                const actions::Action* a = actions::find_action(name);
                options.actions.push_back({name, a->keys(), a->required_keys(), a->encodings()});
            }
            fs::path p = dir.write("pb.toml", R"([vars]
tok = { env = "BRK_DIRTOK", secret = true }
[remote]
known_hosts = "known_hosts"
[hosts]
web = ["web1"]
[[step]]
id = "s"
action = "release_switch"
hosts = "web"
deploy_root = ")" + deploy_root + R"("
to = "previous"
)");
            try {
                playbook::load(p, options);
            } catch (const util::InvalidInput& e) {
                return e.diagnostics();
            }
            return {};
        };
        const auto d = load_with("/srv/root{{tok}}");
        INFO(util::format_diagnostics(d));
        INFO(util::format_diagnostics(load_with("/srv/root")));
        REQUIRE(d.size() == 1); // once: deploy_root is refused at its own key (line 11), which
                                // the host check then does not repeat at `action` (line 9)
        CHECK(d[0].where.line == 11);
        CHECK(d[0].problem.find("{{tok}} is secret") != std::string::npos);
        CHECK(load_with("/srv/root").empty());
    }
}
