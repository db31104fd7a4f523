// SPDX-License-Identifier: MIT
// The environment has a code role: names whose value a program runs or loads code from
// (BASH_ENV, GIT_SSH_COMMAND, LD_PRELOAD, ...). A {{reference}} in such a variable is a located
// error (break-it 26/06), and the same value under another name is data that never runs.
#include "playbook/code_env.hpp"
#include "playbook/loader.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <cstdlib>
#include <doctest/doctest.h>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace rollback;

namespace {

std::string playbook_with_env(const std::string& name, const std::string& value) {
    return "[vars]\nv = \"x\"\n[[step]]\nid = \"s\"\naction = \"exec\"\n"
           "argv = [\"bash\", \"-c\", \"echo hi\"]\nenv = { \"" +
           name + "\" = \"" + value + "\" }\n";
}

/// "" when the playbook loads, else its diagnostics as file:line:col: problem lines.
std::string load_problems(const test::TempDir& dir, const std::string& text,
                          const std::string& file = "p.toml") {
    std::map<std::string, std::string> env;
    playbook::LoadOptions options;
    options.environment = &env;
    options.overrides = {{"v", "$(touch PWNED)"}};
    try {
        playbook::load(dir.write(file, text), options);
    } catch (const util::InvalidInput& e) {
        std::string all;
        for (const auto& d : e.diagnostics()) {
            all += d.where.file.substr(d.where.file.rfind('/') + 1) + ":" +
                   std::to_string(d.where.line) + ":" + std::to_string(d.where.column) + ": " +
                   d.problem + " | " + d.hint + "\n";
        }
        return all;
    }
    return {};
}

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("env names that are code refuse a reference at the key") {
        const std::vector<std::string> names{"BASH_ENV",
                                             "ENV",
                                             "PS4",
                                             "PROMPT_COMMAND",
                                             "SHELLOPTS",
                                             "BASHOPTS",
                                             "BASH_FUNC_f%%",
                                             "IFS",
                                             "PATH",
                                             "LD_PRELOAD",
                                             "LD_LIBRARY_PATH",
                                             "LD_AUDIT",
                                             "GIT_SSH_COMMAND",
                                             "GIT_SSH",
                                             "GIT_EDITOR",
                                             "GIT_PAGER",
                                             "GIT_ASKPASS",
                                             "GIT_CONFIG_PARAMETERS",
                                             "GIT_CONFIG_VALUE_0",
                                             "SSH_ASKPASS",
                                             "EDITOR",
                                             "VISUAL",
                                             "PAGER",
                                             "MANPAGER",
                                             "LESSOPEN",
                                             "NODE_OPTIONS",
                                             "PYTHONSTARTUP",
                                             "PYTHONPATH",
                                             "PERL5OPT",
                                             "PERL5LIB",
                                             "RUBYOPT",
                                             "JAVA_TOOL_OPTIONS",
                                             "GCONV_PATH",
                                             "DYLD_INSERT_LIBRARIES"};
        for (const auto& name : names) {
            CAPTURE(name);
            CHECK(playbook::is_code_env_name(name));
            test::TempDir dir;
            for (const std::string value : {"{{v}}", "{{playbook_dir}}/lib.sh", "a{{ v }}b"}) {
                CAPTURE(value);
                const std::string problems = load_problems(dir, playbook_with_env(name, value));
                // env = { "NAME" = ... } is line 7, located at its key.
                CHECK(problems.find("p.toml:7:9: key \"env\": " + name +
                                    " holds a {{reference}}") == 0);
                CHECK(problems.find("a name of your own") != std::string::npos);
            }
        }
    }

    TEST_CASE("env names that are data keep taking references and code names take literals") {
        test::TempDir dir;
        for (const std::string name : {"SHOP_LIB", "HOME_DIR", "LD", "ENVIRONMENT", "bash_env",
                                       "MY_PATH", "PAGER_NAME", "GIT_AUTHOR_NAME"}) {
            CAPTURE(name);
            CHECK_FALSE(playbook::is_code_env_name(name));
            CHECK(load_problems(dir, playbook_with_env(name, "{{v}}")).empty());
        }
        CHECK(load_problems(dir, playbook_with_env("BASH_ENV", "/srv/shop/lib.sh")).empty());
        CHECK(load_problems(dir, playbook_with_env("PATH", "/usr/bin:/bin")).empty());
    }

    TEST_CASE("BASH_ENV from playbook_dir in a directory named like a command is refused") {
        // break-it 26/06: a checkout directory `co$(touch PWNED)` ran the command via bash -c.
        test::TempDir dir;
        fs::create_directories(dir / "co$(touch PWNED)");
        const std::string problems =
            load_problems(dir, playbook_with_env("BASH_ENV", "{{playbook_dir}}/lib.sh"),
                          "co$(touch PWNED)/p.toml");
        CHECK(problems.find("BASH_ENV holds a {{reference}}") != std::string::npos);
        CHECK_FALSE(fs::exists(dir / "PWNED"));
    }
}
