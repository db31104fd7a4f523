// SPDX-License-Identifier: MIT
// git configuration is default-deny (break-it 45 F2): a value may be the value of a key known to
// be data (user.name, user.email, ...) and of no other, since any other key may name a command
// git runs through the shell (merge.NAME.driver, gpg.ssh.defaultKeyCommand, ...). Every key of
// the finding is refused in every way a value reaches git's configuration.
#include "playbook/loader.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <map>
#include <string>
#include <vector>

using namespace rollback;

namespace {

const std::string k_head = "[vars]\nv = \"x\"\n[[step]]\nid = \"s\"\naction = \"exec\"\n";

std::string problems(const test::TempDir& dir, const std::string& text) {
    std::map<std::string, std::string> env;
    playbook::LoadOptions options;
    options.environment = &env;
    try {
        playbook::load(dir.write("p.toml", text), options);
    } catch (const util::InvalidInput& e) {
        std::string all;
        for (const auto& d : e.diagnostics()) {
            all += d.problem + "\n";
        }
        return all;
    }
    return {};
}

/// A value reaching KEY: git config KEY V (plain, --file --add, set), git -c KEY=V, the
/// environment's GIT_CONFIG_KEY_0/VALUE_0, and the same commands in shell text.
std::vector<std::string> ways_in(const std::string& key) {
    const std::string sh = "argv = [\"sh\", \"-c\", ";
    const std::string fed = "env = { V = \"{{v}}\" }\n";
    return {
        k_head + "argv = [\"git\", \"config\", \"" + key + "\", \"{{v}}\"]\n",
        k_head + "argv = [\"git\", \"config\", \"--file\", \"x\", \"--add\", \"" + key +
            "\", \"{{v}}\"]\n",
        k_head + "argv = [\"git\", \"config\", \"set\", \"" + key + "\", \"{{v}}\"]\n",
        k_head + "argv = [\"git\", \"-c\", \"" + key + "={{v}}\", \"merge\", \"other\"]\n",
        k_head +
            "argv = [\"git\", \"merge\", \"other\"]\nenv = { GIT_CONFIG_COUNT = \"1\", "
            "GIT_CONFIG_KEY_0 = \"" +
            key + "\", GIT_CONFIG_VALUE_0 = \"{{v}}\" }\n",
        k_head + sh + "\"git config " + key + " \\\"$V\\\"\"]\n" + fed,
        k_head + sh + "\"git -c " + key + "=\\\"$V\\\" merge other\"]\n" + fed,
    };
}

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("git config keys not known to be data refuse a value in every way in") {
        const std::vector<std::string> keys{"merge.x.driver",
                                            "MERGE.X.DRIVER",
                                            "gpg.ssh.defaultKeyCommand",
                                            "uploadpack.packObjectsHook",
                                            "core.alternateRefsCommand",
                                            "sendemail.sendmailcmd",
                                            "sendemail.tocmd",
                                            "sendemail.smtpserver",
                                            "browser.x.path",
                                            "difftool.x.path",
                                            "difftool.x.cmd",
                                            "remote.origin.vcs",
                                            "core.pager",
                                            "alias.x",
                                            "core.sshCommand",
                                            "core.fsmonitor",
                                            "credential.helper",
                                            "some.future.key"};
        test::TempDir dir;
        for (const std::string& key : keys) {
            CAPTURE(key);
            for (const std::string& text : ways_in(key)) {
                CAPTURE(text);
                CHECK_FALSE(problems(dir, text).empty());
            }
        }
    }

    TEST_CASE("git config data keys take a value and the error names the key") {
        test::TempDir dir;
        for (const std::string key : {"user.name", "user.email", "User.Email"}) {
            CAPTURE(key);
            const std::vector<std::string> ways = ways_in(key);
            for (size_t w = 0; w < ways.size(); ++w) {
                CAPTURE(ways[w]);
                // The environment's GIT_CONFIG_VALUE_n is refused whatever the key (GIT_*).
                CHECK(problems(dir, ways[w]).empty() == (w != 4));
            }
        }
        const std::string got = problems(dir, ways_in("merge.x.driver").front());
        CHECK(got.find("git config merge.x.driver (not a key known to be data") !=
              std::string::npos);
        // The key itself is never a value, nor the new name of a section.
        CHECK_FALSE(
            problems(dir, k_head + "argv = [\"git\", \"config\", \"{{v}}\", \"x\"]\n").empty());
        CHECK_FALSE(problems(dir, k_head + "argv = [\"git\", \"config\", \"--rename-section\", "
                                           "\"x\", \"{{v}}\"]\n")
                        .empty());
        // Reading: a pattern is data.
        CHECK(problems(dir, k_head + "argv = [\"git\", \"config\", \"--get\", \"core.pager\", "
                                     "\"{{v}}\"]\n")
                  .empty());
    }
}
