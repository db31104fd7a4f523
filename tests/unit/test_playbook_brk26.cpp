// SPDX-License-Identifier: MIT
// Break-it 26: the "no value as code" rule's gaps, fixed by kind — every shell by name, a name
// that begins with `|` or `!`, abbreviated long options and tar's old form, options that take a
// program (node --import, scp -o, git grep -O, make --eval, zip -TT, gcc -wrapper, npx -c),
// sqlite3's real grammar, python -m with a module not known to read data, and values handed to
// a shell through env or "$1" that the shell evaluates (arithmetic, names, command position).
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
using playbook::Encoding;
using playbook::fed_value_use;

namespace {

std::string shown(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        out += "[" + a + "] ";
    }
    return out;
}

/// The index of the element holding X.
size_t x_at(const std::vector<std::string>& argv) {
    for (size_t i = 0; i < argv.size(); ++i) {
        if (argv[i].find('X') != std::string::npos) {
            return i;
        }
    }
    return 0;
}

const std::vector<std::vector<std::string>> k_front{
    {}, {"timeout", "5"}, {"site-wrapper", "--limit=5", "--"}, {"sudo", "-u", "app"}};

std::vector<std::string> pipe_problems(const std::string& element, const std::string& value) {
    playbook::Substituter s(std::map<std::string, std::string>{{"v", value}});
    std::vector<std::string> uses, problems;
    s.apply(element, Encoding::argv, uses, problems);
    return problems;
}

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("brk26: every element that runs as code in the found forms is not data") {
        const std::vector<std::vector<std::string>> code{
            // 01: every shell by name, any path, versioned.
            {"rbash", "-c", "X"},
            {"/usr/bin/rbash", "-c", "X"},
            {"ksh93", "-c", "X"},
            {"yash", "-c", "X"},
            {"pdksh", "-c", "X"},
            {"fish", "-c", "X"},
            {"fish", "--command=X"},
            {"fish", "-C", "X", "script.fish"},
            {"tcsh", "-c", "X"},
            {"csh", "-fc", "X"},
            {"zsh-5.9", "-c", "X"},
            {"bash5.2", "-c", "X"},
            {"busybox", "hush", "-c", "X"},
            // 03: a module to load is code.
            {"node", "--import", "X", "app.js"},
            {"node", "--import=X", "app.js"},
            {"node", "--loader", "X", "app.js"},
            {"node", "--experimental-loader=X", "app.js"},
            {"node", "-r", "X", "app.js"},
            {"node", "--require", "X", "app.js"},
            {"node", "--imp=X", "app.js"},
            // 04: scp/sftp start ssh with -o and -F.
            {"scp", "-o", "X", "a", "h:b"},
            {"scp", "-oX", "a", "h:b"},
            {"sftp", "-o", "X", "h"},
            {"scp", "-F", "X", "a", "h:b"},
            {"scp", "-S", "X", "a", "h:b"},
            {"sftp", "-D", "X"},
            // 05: make, zip, gcc, npx/npm.
            {"make", "--eval=X"},
            {"make", "--ev=X"},
            {"make", "-E", "X"},
            {"make", "-sEX"},
            {"make", "install", "PREFIX=X"},
            {"zip", "-T", "-TT", "X", "a.zip", "f"},
            {"zip", "--unzip-command", "X", "a.zip", "f"},
            {"gcc", "-wrapper", "X", "a.c"},
            {"gcc", "-fplugin=X", "a.c"},
            {"cc", "-B", "X", "a.c"},
            {"clang", "-fpass-plugin=X", "a.c"},
            {"x86_64-linux-gnu-gcc", "-wrapper", "X", "a.c"},
            {"npx", "--yes", "-c", "X"},
            {"npm", "exec", "--offline", "--call=X"},
            {"npx", "X"},
            // 07: sqlite3: everything after the database, and -cmd.
            {"sqlite3", "-separator", ",", "db", "X"},
            {"sqlite3", "-init", "f.sql", "db", "X"},
            {"sqlite3", "-newline", "n", "db", "X"},
            {"sqlite3", "db", "select 1", "X"},
            {"sqlite3", "db", "-cmd", "X"},
            {"sqlite3", "-cmd", "select 1", "db", "-cmd", "X"},
            // 08: python -m with a module not known to read data.
            {"python3", "-m", "timeit", "X"},
            {"python3", "-m", "timeit", "-s", "X", "pass"},
            {"python3", "-m", "pdb", "-c", "X", "s.py"},
            {"python3", "-m", "X"},
            {"python3", "-mX"},
            // 09: git's options that take a command.
            {"git", "grep", "-OX", "pattern"},
            {"git", "grep", "--open-files-in-pager=X", "pattern"},
            {"git", "send-email", "--sendmail-cmd", "X"},
            {"git", "send-email", "--to-cmd=X"},
            {"git", "bisect", "run", "X"},
            {"git", "daemon", "--access-hook=X"},
            {"git", "instaweb", "--httpd=X"},
            {"git", "config", "-f", "cfg", "core.sshCommand", "X"},
            {"git", "fetch", "--upload-p=X"},
            // 10: abbreviated long options, tar's old form.
            {"tar", "--checkpoint=1", "--checkpoint-act=exec=X", "-cf", "o.tar", "f"},
            {"tar", "--use-compress-prog=X", "-cf", "o.tar", "f"},
            {"tar", "--to-comm", "X", "-xf", "o.tar"},
            {"tar", "cIf", "X", "o.tar", "f"},
            {"tar", "cfI", "o.tar", "X", "f"},
            {"rsync", "--rs=X", "a", "b"},
            {"sed", "--expr", "X", "f"},
            {"gawk", "--sou", "X", "f"},
            {"psql", "--comm=X", "db"},
            // Any program: an option whose name says it takes a command.
            {"site-tool", "--eval", "X"},
            {"site-tool", "--post-hook=X"},
            {"site-tool", "--pre-command", "X"},
        };
        size_t cases = 0;
        for (const auto& front : k_front) {
            for (const auto& form : code) {
                std::vector<std::string> argv = front;
                argv.insert(argv.end(), form.begin(), form.end());
                CAPTURE(shown(argv));
                CHECK(argument_roles(argv).role.at(x_at(argv)) != ArgRole::data);
                ++cases;
            }
        }
        CHECK(cases == k_front.size() * code.size());
    }

    TEST_CASE("brk26: data stays data next to the new code forms") {
        const std::vector<std::vector<std::string>> data{
            {"sqlite3", "X"},
            {"sqlite3", "-separator", ",", "X"},
            {"sqlite3", "-readonly", "X"},
            {"python3", "-m", "http.server", "X"},
            {"python3", "-m", "json.tool", "X"},
            {"scp", "-P", "22", "X", "h:b"},
            {"make", "-C", "X", "install"},
            {"tar", "--checkpoint=10", "-cf", "o.tar", "X"},
            {"tar", "czf", "o.tar", "X"},
            {"tar", "-cf", "X", "f"},
            {"node", "--input-type=module", "app.js", "X"},
            {"git", "format-patch", "--to=X", "HEAD~1"},
            {"git", "grep", "-O", "X"},
            {"gcc", "-o", "X", "a.c"},
            {"zip", "-r", "X", "f"},
            {"npm", "install", "--prefix", "X"},
            {"rbash", "-c", "echo \"$1\"", "sh", "X"},
        };
        for (const auto& argv : data) {
            CAPTURE(shown(argv));
            CHECK(argument_roles(argv).role.at(x_at(argv)) == ArgRole::data);
        }
    }

    TEST_CASE("brk26: a value that makes an argument begin with a pipe or bang is refused") {
        const std::vector<std::string> values{"|touch PWNED", "!touch PWNED", "  |touch PWNED",
                                              "\t!touch PWNED"};
        const std::vector<std::string> starts{"{{v}}",    "-o{{v}}",  "--output={{v}}",
                                              "-xo{{v}}", "of={{v}}", "{{v}}.log"};
        for (const auto& value : values) {
            for (const auto& element : starts) {
                CAPTURE(element);
                CAPTURE(value);
                const auto p = pipe_problems(element, value);
                REQUIRE(p.size() == 1);
                CHECK(p[0].find("the value of {{v}} begins with '") == 0);
            }
            // After a fixed prefix it is a file name.
            for (const std::string element : {"./{{v}}", "/srv/out/{{v}}", "--x=a{{v}}"}) {
                CAPTURE(element);
                CHECK(pipe_problems(element, value).empty());
            }
        }
        // perl's two-argument open runs a name that ends with '|'.
        CHECK(pipe_problems("{{v}}", "touch PWNED |").size() == 1);
        CHECK(pipe_problems("out/{{v}}", "touch PWNED|").size() == 1);
        CHECK(pipe_problems("{{v}}.log", "touch PWNED|").empty());
        CHECK(pipe_problems("{{v}}", "a|b").empty());
        CHECK(pipe_problems("{{v}}", "release-7").empty());
    }

    TEST_CASE("brk26: a value handed through env or $1 is refused where the shell evaluates it") {
        const std::vector<std::string> env{"N"};
        const std::vector<std::string> refused_env{
            "[[ \"$N\" -gt 0 ]]",
            "[[ $N -eq 1 ]] && echo y",
            "(( N + 1 ))",
            "echo $(( N + 1 ))",
            "echo $(( $N ))",
            "echo $[ $N ]",
            "let x=$N",
            "declare -i n=\"$N\"",
            "local -n r=$N",
            "typeset -i x=$N",
            "echo \"${a[$N]}\"",
            "a[$N]=1",
            "echo \"${v:$N:2}\"",
            "printf -v \"$N\" %s x",
            "read -r \"$N\"",
            "[[ -v $N ]]",
            "[ -v \"$N\" ]",
            "unset \"$N\"",
            "echo \"${!N}\"",
            "$N",
            "\"$N\" arg",
            "${N}",
            "/opt/bin/$N",
            "exec \"$N\"",
            "timeout 5 \"$N\"",
            "x=1 $N",
            "eval \"$N\"",
            "builtin eval \"$N\"",
            "trap \"$N\" EXIT",
            "source \"$N\"",
            "e=eval; $e \"$N\"",
            "bash -c '(( $N ))'",
            "sh -c 'echo ok; $N'",
            "source /dev/fd/3 3<<<\"$N\"",
            "x=$N; (( x > 1 ))",
            "local y=\"$N\"; z=$y; echo $(( z ))",
            "export W=${N}; read -r \"$W\"",
        };
        const std::vector<std::string> refused_positional{"\"$1\"",
                                                          "set -e; $@",
                                                          "(( \"$1\" > 3 ))",
                                                          "read -r \"$1\"",
                                                          "printf -v \"$1\" x",
                                                          "exec \"$@\"",
                                                          "\"$0\" -c \"$1\"",
                                                          "${SHELL:-sh} -c \"$1\"",
                                                          "[[ -v $2 ]]",
                                                          "for x in \"$@\"; do (( x > 0 )); done",
                                                          "n=$1; [[ $n -gt 2 ]]"};
        const std::vector<std::string> accepted{
            "[ \"$N\" -gt 0 ]",
            "test \"$N\" -gt 0",
            "echo \"$N\"",
            "printf '%s\\n' \"$N\" \"$1\"",
            "cp \"$N\" /tmp/x",
            "local x=\"$N\"",
            "export X=\"$N\"",
            "case $N in *[!0-9]*) exit 2;; esac; [ \"$N\" -gt 0 ]",
            "\"$N\"/bin/tool",
            "command -v \"$N\"",
            "[[ \"$N\" == x ]]",
            "(( M + 1 ))",
            "echo \"${N:-default}\"",
            "tool --name \"$1\" -- \"$@\"",
            "printf '\\033[2J'; printf '%s' \"$(printf %s \"$N\" | tr A-Z a-z)\"",
            "grep x[0-9] \"$N\""};
        for (const auto& s : refused_env) {
            CAPTURE(s);
            CHECK(!fed_value_use(s, env, false).empty());
            CHECK(fed_value_use(s, {}, false).empty());
        }
        for (const auto& s : refused_positional) {
            CAPTURE(s);
            CHECK(!fed_value_use(s, {}, true).empty());
            CHECK(fed_value_use(s, {}, false).empty());
        }
        for (const auto& s : accepted) {
            CAPTURE(s);
            CHECK(fed_value_use(s, env, true) == "");
        }
    }

    TEST_CASE("brk26: the loader refuses a fed value the shell evaluates — located") {
        test::TempDir dir;
        auto load = [&](const std::string& body) {
            std::map<std::string, std::string> env{{"VV", "x[$(touch PWNED)]"}};
            playbook::LoadOptions options;
            options.environment = &env;
            const auto p = dir.write("pb.toml", "[vars]\nv = { env = \"VV\" }\n[[step]]\n"
                                                "id = \"s\"\naction = \"exec\"\n" +
                                                    body + "\n");
            std::vector<util::Diagnostic> out;
            try {
                playbook::load(p, options);
            } catch (const util::InvalidInput& e) {
                out = e.diagnostics();
            }
            return out;
        };
        auto d = load("argv = [\"bash\", \"-c\", '[[ \"$N\" -gt 0 ]]']\nenv = { N = \"{{v}}\" }");
        REQUIRE(d.size() == 1);
        CHECK(d[0].where.line == 6);
        CHECK(d[0].problem.find("env.N ({{v}})") != std::string::npos);
        CHECK(d[0].hint.find("[ \"$N\" -gt 0 ]") != std::string::npos);
        d = load("argv = [\"sh\", \"-c\", '\"$1\"', \"sh\", \"{{v}}\"]");
        REQUIRE(!d.empty());
        CHECK(d[0].where.line == 6);
        CHECK(std::any_of(d.begin(), d.end(), [](const util::Diagnostic& x) {
            return x.problem.find("$1 = {{v}}") != std::string::npos;
        }));
        d = load("argv = \"(( N > 1 ))\"\nshell = true\nenv = { N = \"{{v}}\" }");
        REQUIRE(d.size() == 1);
        // The safe form loads.
        CHECK(
            load("argv = [\"bash\", \"-c\", '[ \"$N\" -gt 0 ]']\nenv = { N = \"{{v}}\" }").empty());
        CHECK(load("argv = [\"sh\", \"-c\", 'echo \"$1\"', \"sh\", \"{{v}}\"]").empty());
        // A name that begins with a pipe, as psql -o or strace -o read it.
        std::map<std::string, std::string> env{{"VV", "|touch PWNED"}};
        playbook::LoadOptions options;
        options.environment = &env;
        const auto p = dir.write("pipe.toml", "[vars]\nv = { env = \"VV\" }\n[[step]]\nid = \"s\"\n"
                                              "action = \"exec\"\nargv = [\"strace\", \"-o\", "
                                              "\"{{v}}\", \"true\"]\n");
        CHECK_THROWS_AS(playbook::load(p, options), util::InvalidInput);
    }

    TEST_CASE("brk26: generated — context x spelling x route against a reference model") {
        // The model: a fed value is refused exactly in the contexts bash evaluates again.
        struct Context {
            std::string text; // X: the expansion
            bool evaluates;
        };
        const std::vector<Context> contexts{{"(( X + 1 ))", true},
                                            {"echo $(( X * 2 ))", true},
                                            {"[[ X -gt 0 ]]", true},
                                            {"let y=X", true},
                                            {"declare -i y=X", true},
                                            {"echo ${a[X]}", true},
                                            {"a[X]=1", true},
                                            {"printf -v X %s 1", true},
                                            {"read -r X", true},
                                            {"[[ -v X ]]", true},
                                            {"unset X", true},
                                            {"X", true},
                                            {"exec X", true},
                                            {"X arg", true},
                                            {"nohup X", true},
                                            {"echo X", false},
                                            {"[ X -gt 0 ]", false},
                                            {"cp X /tmp/y", false},
                                            {"case X in a) ;; esac", false},
                                            {"local y=X", false},
                                            {"printf '%s' X", false},
                                            {"echo X > out", false},
                                            {"test X = y", false},
                                            {"[[ X == y ]]", false}};
        const std::vector<std::string> env_spellings{"$N", "\"$N\"", "${N}", "\"${N}\""};
        const std::vector<std::string> arg_spellings{"$1", "\"$1\"", "${1}", "\"$@\""};
        size_t cases = 0;
        auto with = [](std::string text, const std::string& x) {
            for (size_t at = text.find('X'); at != std::string::npos; at = text.find('X', at)) {
                text.replace(at, 1, x);
                at += x.size();
            }
            return text;
        };
        for (const auto& c : contexts) {
            for (const auto& x : env_spellings) {
                const std::string script = "set -e; " + with(c.text, x);
                CAPTURE(script);
                CHECK(fed_value_use(script, {"N"}, false).empty() == !c.evaluates);
                CHECK(fed_value_use(script, {}, false).empty()); // no value handed over
                ++cases;
            }
            for (const auto& x : arg_spellings) {
                const std::string script = with(c.text, x) + "; echo done";
                CAPTURE(script);
                CHECK(fed_value_use(script, {}, true).empty() == !c.evaluates);
                CHECK(fed_value_use(script, {}, false).empty()); // no argument holds a value
                ++cases;
            }
        }
        CHECK(cases == contexts.size() * 8);
    }

    TEST_CASE("brk26: generated — every prefix of a code long option is that option") {
        // getopt_long: any prefix of `--to-command` (past what another option takes whole)
        // names it; joined and separate values.
        const std::vector<std::pair<std::string, std::vector<std::string>>> programs{
            {"tar",
             {"to-command", "checkpoint-action", "use-compress-program", "info-script",
              "new-volume-script", "rsh-command"}},
            {"rsync", {"rsync-path"}},
            {"make", {"eval"}},
            {"zip", {"unzip-command"}},
            {"sed", {"expression"}},
            {"psql", {"command"}}};
        size_t cases = 0;
        for (const auto& [program, options] : programs) {
            for (const auto& option : options) {
                for (size_t n = 2; n <= option.size(); ++n) {
                    const std::string prefix = "--" + option.substr(0, n);
                    if (prefix == "--checkpoint" || prefix == "--to") {
                        continue; // options of their own
                    }
                    const std::vector<std::string> joined{program, prefix + "=X", "f"};
                    const std::vector<std::string> separate{program, prefix, "X", "f"};
                    CAPTURE(shown(joined));
                    CHECK(argument_roles(joined).role[1] != ArgRole::data);
                    CHECK(argument_roles(separate).role[2] != ArgRole::data);
                    ++cases;
                }
            }
        }
        CHECK(cases > 100);
        // The whole option that is a prefix of a code one stays itself.
        CHECK(argument_roles({"tar", "--checkpoint=10", "-cf", "o.tar", "X"}).role[4] ==
              ArgRole::data);
    }
}
