// SPDX-License-Identifier: MIT
// Environment names that carry options or code by convention (break-it 45 F1): MAKEFLAGS and
// TAR_OPTIONS are the twins of `make --eval` and `tar --checkpoint-action`, refused in argv.
// Every name of every kind is refused in every way a value reaches the environment: the env
// table, env's NAME=VALUE operand and an assignment in shell text; data names stay accepted.
#include "playbook/code_env.hpp"
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

/// "" when the playbook loads, else every diagnostic's problem, one a line.
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

/// The three ways in: the env table, env's NAME=VALUE operand, shell text's assignment.
std::vector<std::string> ways_in(const std::string& name) {
    return {k_head + "argv = [\"make\"]\nenv = { \"" + name + "\" = \"{{v}}\" }\n",
            k_head + "argv = [\"env\", \"" + name + "={{v}}\", \"make\"]\n",
            k_head + "argv = [\"sh\", \"-c\", \"" + name + "=\\\"$V\\\" make\"]\n" +
                "env = { V = \"{{v}}\" }\n"};
}

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("env names that carry options or code are refused in every way in") {
        // The names break-it 45 found accepted, and one of each convention of the rule.
        const std::vector<std::string> names{"MAKEFLAGS",
                                             "GNUMAKEFLAGS",
                                             "MFLAGS",
                                             "TAR_OPTIONS",
                                             "ZIPOPT",
                                             "RSYNC_RSH",
                                             "RSYNC_CONNECT_PROG",
                                             "CVS_RSH",
                                             "LUA_INIT",
                                             "LUA_INIT_5_4",
                                             "EXINIT",
                                             "VIMINIT",
                                             "SUDO_ASKPASS",
                                             "SUDO_EDITOR",
                                             "FCEDIT",
                                             "SYSTEMD_PAGER",
                                             "LESS",
                                             "npm_config_script_shell",
                                             "DOTNET_STARTUP_HOOKS",
                                             "R_PROFILE_USER",
                                             "CLASSPATH",
                                             "ZDOTDIR",
                                             "FPATH",
                                             "PYTHONUSERBASE",
                                             "GEM_PATH",
                                             "PHPRC",
                                             "TCLLIBPATH",
                                             "XDG_CONFIG_HOME",
                                             "HOME",
                                             "KUBECONFIG",
                                             "GIT_CONFIG_GLOBAL",
                                             "GIT_DIR",
                                             "GIT_CONFIG_KEY_0",
                                             "CFLAGS",
                                             "SHOP_OPTS",
                                             "GREP_OPTIONS",
                                             "PGOPTIONS",
                                             "SVN_SSH",
                                             "MYVIMRC",
                                             "WGETRC",
                                             "PSQLRC",
                                             "EDITOR",
                                             "VISUAL",
                                             "PAGER",
                                             "APP_COMMAND",
                                             "DEPLOY_CMD",
                                             "POST_HOOK",
                                             "PROMPT_COMMAND",
                                             "BASH_ENV",
                                             "ENV",
                                             "LD_PRELOAD",
                                             "DYLD_INSERT_LIBRARIES",
                                             "PYTHONSTARTUP",
                                             "PERL5OPT",
                                             "RUBYOPT",
                                             "NODE_OPTIONS",
                                             "LUA_PATH",
                                             "JAVA_HOME",
                                             "OPENSSL_CONF",
                                             "MANPATH",
                                             "QT_PLUGIN_PATH",
                                             "MAKEFILES",
                                             "GZIP",
                                             "VIMRUNTIME",
                                             "SHELL",
                                             "CONFIG_SHELL"};
        test::TempDir dir;
        for (const std::string& name : names) {
            CAPTURE(name);
            const std::string why = playbook::code_env_reason(name);
            REQUIRE_FALSE(why.empty());
            for (const std::string& text : ways_in(name)) {
                CAPTURE(text);
                const std::string got = problems(dir, text);
                CHECK(got.find(name) != std::string::npos);
                CHECK(got.find(why) != std::string::npos); // the reason is in the error
            }
        }
    }

    TEST_CASE("ordinary data names are accepted in every way in") {
        test::TempDir dir;
        for (const std::string name :
             {"DB_HOST", "RELEASE", "VERSION", "SHOP_ENV", "SHOP_VALUE", "SHOP_LIB", "HOME_DIR",
              "BACKUP_PATH", "DATA_DIR", "SRC", "JOBS", "NODE_ENV", "GIT_AUTHOR_NAME",
              "GIT_COMMITTER_EMAIL", "PORT", "TARGET_URL", "LD", "RAILS_ENV"}) {
            CAPTURE(name);
            CHECK(playbook::code_env_reason(name).empty());
            for (const std::string& text : ways_in(name)) {
                CAPTURE(text);
                CHECK(problems(dir, text).empty());
            }
        }
    }

    TEST_CASE("a code name keeps taking a literal value") {
        test::TempDir dir;
        CHECK(problems(dir, k_head + "argv = [\"make\"]\nenv = { MAKEFLAGS = \"-j2\" }\n").empty());
        CHECK(problems(dir, k_head + "argv = [\"env\", \"TAR_OPTIONS=--no-same-owner\", \"tar\", "
                                     "\"xf\", \"a.tar\"]\n")
                  .empty());
    }
}
