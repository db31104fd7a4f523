// SPDX-License-Identifier: MIT
// Break-it 30: a `{{value}}` is data, never code, a program, or a name that selects code —
// through every route: environment names that are code set by env/sudo/systemd-run or by the
// shell from a handed-over value (01), bash/zsh places that evaluate a value again (15, 16),
// a value as the program an argv array runs (17), options that load code a value names (02).
#include "playbook/loader.hpp"
#include "playbook/variables.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <map>
#include <string>
#include <vector>

using namespace rollback;
using playbook::ArgRole;
using playbook::argument_roles;
using playbook::fed_value_use;

namespace {

std::string with(std::string text, const std::string& x) {
    for (size_t at = text.find('X'); at != std::string::npos; at = text.find('X', at)) {
        text.replace(at, 1, x);
        at += x.size();
    }
    return text;
}

/// The diagnostics of a playbook with one exec step whose argv is `argv` (TOML strings).
std::vector<util::Diagnostic> argv_errors(const std::vector<std::string>& argv) {
    test::TempDir dir;
    std::map<std::string, std::string> env{{"VV", "touch"}};
    playbook::LoadOptions options;
    options.environment = &env;
    std::string list;
    for (const auto& a : argv) {
        list += (list.empty() ? "'" : ", '") + a + "'";
    }
    const auto p = dir.write("pb.toml", "[vars]\nv = { env = \"VV\" }\n[[step]]\nid = \"s\"\n"
                                        "action = \"exec\"\nargv = [" +
                                            list + "]\n");
    try {
        playbook::load(p, options);
    } catch (const util::InvalidInput& e) {
        return e.diagnostics();
    }
    return {};
}

std::vector<std::string> joined(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

const std::vector<std::vector<std::string>> k_wrappers{
    {},
    {"timeout", "5"},
    {"timeout", "-s", "KILL", "5"},
    {"sudo"},
    {"sudo", "-u", "app"},
    {"/usr/bin/env"},
    {"env", "-u", "HOME", "A=1"},
    {"xargs", "-a", "list"},
    {"nice", "-n", "5"},
    {"nohup"},
    {"setsid", "-w"},
    {"stdbuf", "-oL"},
    {"chroot", "/srv/root"},
    {"flock", "-w", "5", "/tmp/lock"},
    {"ionice", "-c", "3"},
    {"taskset", "-c", "0"},
    {"systemd-run", "--unit", "x", "-p", "A=B", "--"},
    {"timeout", "5", "sudo", "-u", "app", "nice"},
};

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("brk30: generated — shell places that evaluate a value in every spelling and route") {
        // X: where the handed-over value is expanded. The model: bash/zsh run the value (or
        // load code it names) in exactly these places.
        struct Context {
            std::string text;
            bool evaluates;
        };
        const std::vector<Context> contexts{
            // 01: code environment names, assigned from the value by every spelling.
            {"BASH_ENV=X bash -c true", true},
            {"export BASH_ENV=X; bash -c true", true},
            {"declare -x LD_PRELOAD=X; ls", true},
            {"PATH=X ls", true},
            {"PS4=X; set -x; true", true},
            {"export PS4=\"\\$(X)\"; set -x; true", true},
            {"env GIT_SSH_COMMAND=X git fetch", true},
            {"sudo PERL5OPT=X perl x.pl", true},
            {"PROMPT_COMMAND=X bash -i", true},
            {"NODE_OPTIONS=X node app.js", true},
            {"PYTHONPATH=X python3 app.py", true},
            // 15: bash prompt expansion, completion, hash -p, enable -f, compound assignment.
            {"echo \"${X@P}\"", true},
            {"printf '%s\\n' \"${X@P}\"", true},
            {"compgen -W X x", true},
            {"compgen -C X x", true},
            {"hash -p X ls; ls", true},
            {"enable -f X x", true},
            {"declare -a \"arr=(X)\"", true},
            {"typeset -a \"arr=(X)\"", true},
            {"declare -A \"m=([k]=X)\"", true},
            {"bind -x X", true},
            {"mapfile -C X arr", true},
            // 16: zsh glob patterns from a value.
            {"echo ${~X}", true},
            {"echo $~X", true},
            {"setopt globsubst; echo X", true},
            {"setopt GLOB_SUBST; ls -- X", true},
            {"emulate sh; echo X", true},
            // Data.
            {"SHOP_VALUE=X tool", false},
            {"export SHOP=X; tool", false},
            {"declare -a arr=(X); echo \"${arr[@]}\"", false},
            {"arr=(X other); printf '%s' \"${arr[@]}\"", false},
            {"echo \"${X:-none}\"", false},
            {"echo ${X}", false},
            {"hash -r; echo X", false},
            {"PATH=/usr/bin:/bin; tool X", false},
        };
        const std::vector<std::pair<std::string, std::string>> spellings{
            {"N", "$N"}, {"N", "\"$N\""}, {"N", "${N}"}, {"1", "$1"}, {"1", "\"$1\""}};
        size_t cases = 0;
        for (const auto& c : contexts) {
            for (const auto& [fed, x] : spellings) {
                // ${X@P} and ${~X} hold the name, not the expansion.
                const bool inner = c.text.find("{X") != std::string::npos ||
                                   c.text.find("{~X") != std::string::npos ||
                                   c.text.find("$~X") != std::string::npos;
                const std::string script = with(c.text, inner ? fed : x);
                CAPTURE(script);
                if (fed == "N") {
                    CHECK(fed_value_use(script, {"N"}, false).empty() == !c.evaluates);
                    CHECK(fed_value_use(script, {}, false).empty());
                } else {
                    CHECK(fed_value_use(script, {}, true).empty() == !c.evaluates);
                }
                ++cases;
            }
        }
        CHECK(cases == contexts.size() * spellings.size());
    }

    TEST_CASE("brk30: a copy of the value reaches the positional parameters") {
        CHECK(!fed_value_use("set -- \"$R\"; echo \"${1@P}\"", {"R"}, false).empty());
        CHECK(!fed_value_use("f() { echo \"${1@P}\"; }; f \"$R\"", {"R"}, false).empty());
        CHECK(!fed_value_use("y=$R; echo \"${y@P}\"", {"R"}, false).empty());
        CHECK(fed_value_use("f() { echo \"$1\"; }; f \"$R\"", {"R"}, false).empty());
    }

    TEST_CASE("brk30: generated — a value is never the program an argv array runs") {
        size_t cases = 0;
        for (const auto& front : k_wrappers) {
            for (const std::string prog : {"{{v}}", "/usr/local/bin/{{v}}", "{{v}}.sh"}) {
                const auto argv = joined(front, {prog, "arg"});
                CAPTURE(argv.size());
                CAPTURE(prog);
                CAPTURE(front.empty() ? "" : front[0]);
                const auto d = argv_errors(argv);
                REQUIRE(d.size() == 1);
                CHECK(d[0].problem.find("{{v}} is the program to run") != std::string::npos);
                CHECK(d[0].hint.find("fixed program") != std::string::npos);
                ++cases;
            }
            // A fixed program in a directory from a value, the value as an argument: data.
            CHECK(argv_errors(joined(front, {"{{playbook_dir}}/bin/tool", "{{v}}"})).empty());
            CHECK(argv_errors(joined(front, {"/usr/bin/printf", "%s", "{{v}}"})).empty());
        }
        CHECK(cases == k_wrappers.size() * 3);
        // find -exec keeps its own (code) message; a shell's "$@" the shell one.
        CHECK(argv_errors({"find", ".", "-exec", "{{v}}", "{}", ";"}).size() == 1);
    }

    TEST_CASE("brk30: generated — a code environment name takes no value through any route") {
        const std::vector<std::string> names{"BASH_ENV",        "ENV",        "PS4",
                                             "PROMPT_COMMAND",  "LD_PRELOAD", "LD_LIBRARY_PATH",
                                             "GIT_SSH_COMMAND", "PATH",       "PYTHONPATH",
                                             "PERL5OPT",        "RUBYOPT",    "NODE_OPTIONS"};
        const std::vector<std::vector<std::string>> routes{
            {"env", "N={{v}}", "bash", "-c", "true"},  {"env", "-i", "N={{v}}", "perl", "x.pl"},
            {"sudo", "N={{v}}", "bash", "-c", "true"}, {"sudo", "-u", "app", "N=x{{v}}", "tool"},
            {"systemd-run", "-E", "N={{v}}", "true"},  {"systemd-run", "--setenv=N={{v}}", "true"},
            {"site-wrapper", "N={{v}}", "tool"},
        };
        size_t cases = 0;
        for (const auto& n : names) {
            for (const auto& r : routes) {
                std::vector<std::string> argv;
                for (const auto& a : r) {
                    argv.push_back(a.starts_with("N=") || a.starts_with("--setenv=N=")
                                       ? a.substr(0, a.find("N=")) + n + a.substr(a.find("N=") + 1)
                                       : a);
                }
                const auto d = argv_errors(argv);
                CAPTURE(n);
                CAPTURE(r[0]);
                REQUIRE(d.size() == 1);
                CHECK(d[0].problem.find("is the value of " + n) != std::string::npos);
                ++cases;
            }
        }
        CHECK(cases == names.size() * routes.size());
        // The value chooses the name; a name of one's own is data.
        CHECK(argv_errors({"env", "{{v}}", "bash", "-c", "true"}).size() == 1);
        CHECK(argv_errors({"env", "X{{v}}=1", "tool"}).size() == 1);
        CHECK(argv_errors({"sudo", "{{v}}=1", "tool"}).size() == 1);
        CHECK(argv_errors({"env", "SHOP_VALUE={{v}}", "tool"}).empty());
        CHECK(argv_errors({"sudo", "SHOP_VALUE={{v}}", "tool", "--name={{v}}"}).empty());
    }

    TEST_CASE("brk30: generated — an option that loads code a value names is not data") {
        // X: the value. Every spelling a program takes: separate, joined, in a letter group.
        const std::vector<std::vector<std::string>> code{
            {"python3", "-W", "X", "-c", "print(1)"},
            {"python3", "-WX", "app.py"},
            {"python3", "-X", "X", "app.py"},
            {"python3", "-BW", "X", "app.py"},
            {"ruby", "-r", "X", "x.rb"},
            {"ruby", "-rX", "x.rb"},
            {"ruby", "-I", "X", "x.rb"},
            {"perl", "-IX", "x.pl"},
            {"perl", "-I", "X", "x.pl"},
            {"perl", "-MX", "x.pl"},
            {"lua", "-l", "X", "x.lua"},
            {"lua5.4", "-lX", "x.lua"},
            {"gawk", "-l", "X", "BEGIN{}"},
            {"gawk", "-i", "X", "BEGIN{}"},
            {"gawk", "-f", "X", "in.txt"},
            {"gawk", "--include=X", "BEGIN{}"},
            {"gawk", "--load", "X", "BEGIN{}"},
            {"gawk", "--file=X", "in.txt"},
            {"node", "-r", "X", "x.js"},
            {"node", "--require=X", "x.js"},
            {"node", "--import", "X", "x.js"},
            {"java", "-javaagent:X", "-jar", "app.jar"},
            {"java", "-cp", "X", "Main"},
            {"java", "-classpath", "X", "Main"},
            {"java", "--class-path=X", "Main"},
            {"java", "-jar", "X"},
            {"java", "X"},
            {"java", "-XX:OnError=X", "Main"},
            {"git", "--git-dir=X", "status"},
            {"git", "--git-dir", "X", "status"},
            {"git", "--work-tree=X", "status"},
            {"git", "-C", "X", "status"},
            {"git", "--exec-path=X", "status"},
            {"git", "-c", "X", "status"},
            {"sed", "-f", "X", "in.txt"},
            {"jq", "-f", "X", "in.json"},
        };
        const std::vector<std::vector<std::string>> fronts{
            {}, {"timeout", "5"}, {"sudo", "-u", "a"}};
        size_t cases = 0;
        for (const auto& front : fronts) {
            for (const auto& c : code) {
                const auto argv = joined(front, c);
                size_t x = 0;
                for (size_t i = 0; i < argv.size(); ++i) {
                    x = argv[i].find('X') != std::string::npos && argv[i] != "-X" ? i : x;
                }
                CAPTURE(argv[front.size()]);
                CAPTURE(argv[x]);
                CHECK(argument_roles(argv).role.at(x) != ArgRole::data);
                ++cases;
            }
        }
        CHECK(cases == fronts.size() * code.size());
        // Data next to them: the arguments of the program, a working directory's files.
        const std::vector<std::pair<std::vector<std::string>, size_t>> data{
            {{"python3", "-W", "ignore", "app.py", "X"}, 4},
            {{"ruby", "-C", "X", "x.rb"}, 2},
            {{"gawk", "-v", "x=X", "-f", "prog.awk", "in"}, 2},
            {{"gawk", "-f", "prog.awk", "X"}, 3},
            {{"java", "-cp", "app.jar", "Main", "X"}, 4},
            {{"java", "-jar", "app.jar", "X"}, 3},
            {{"git", "-C", "/srv/repo", "log", "X"}, 4},
            {{"perl", "-I", "lib", "x.pl", "X"}, 4},
        };
        for (const auto& [argv, x] : data) {
            CAPTURE(argv[x]);
            CHECK(argument_roles(argv).role.at(x) == ArgRole::data);
        }
    }
}
