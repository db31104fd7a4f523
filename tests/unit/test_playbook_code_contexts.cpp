// SPDX-License-Identifier: MIT
// Values never become code: every interpreter form that runs an argument as code is found
// (script_argument), and in shell strings every context bash evaluates again is refused — or,
// where a value is accepted, bash runs the command with hostile values and nothing runs.
#include "playbook/variables.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <map>
#include <string>
#include <sys/wait.h>
#include <vector>

using namespace rollback;
using playbook::Encoding;
using playbook::script_argument;
namespace fs = std::filesystem;

namespace {

// Each runs `touch PWNED` wherever it is evaluated as shell, arithmetic, Python, awk or SQL.
const std::vector<std::string> k_hostile{
    "a[$(touch PWNED)]",
    "x[`touch PWNED`]",
    "x; touch PWNED",
    "x'); __import__('os').system('touch PWNED'); print('",
    "\"; system(\"touch PWNED\"); print \"",
    "$(touch PWNED)",
    "x' ; touch PWNED ; '",
    "1 + a[$(touch PWNED)]",
};

std::vector<std::string> problems_of(const std::string& text, const std::string& value,
                                     std::string* out = nullptr) {
    playbook::Substituter s(std::map<std::string, std::string>{{"v", value}});
    std::vector<std::string> uses, problems;
    auto r = s.apply(text, Encoding::shell, uses, problems);
    if (out != nullptr) {
        *out = r.text;
    }
    return problems;
}

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("code arguments are found in every interpreter and wrapper form") {
        struct Form {
            std::vector<std::string> argv;
            size_t code;
            bool shell;
        };
        const std::vector<Form> forms{
            {{"python3", "-Sc", "X"}, 2, false},
            {{"python3", "-I", "-Bc", "X"}, 3, false},
            {{"python3", "-cX"}, 1, false},
            {{"perl", "-le", "X"}, 2, false},
            {{"perl", "-nE", "X"}, 2, false},
            {{"ruby", "-we", "X"}, 2, false},
            {{"node", "--eval", "X"}, 2, false},
            {{"node", "-p", "X"}, 2, false},
            {{"php", "-r", "X"}, 2, false},
            {{"awk", "X"}, 1, false},
            {{"awk", "-F", ":", "-v", "a=1", "X", "file"}, 5, false},
            {{"gawk", "--", "X"}, 2, false},
            {{"sed", "-n", "X", "file"}, 2, false},
            {{"sed", "-e", "X"}, 2, false},
            {{"jq", "-r", "--arg", "n", "v", "X"}, 5, false},
            {{"psql", "postgresql://h/db", "-c", "X"}, 3, false},
            {{"psql", "--command=X"}, 1, false},
            {{"mysql", "-e", "X"}, 2, false},
            {{"sqlite3", "db.sqlite", "X"}, 2, false},
            {{"env", "-S", "X"}, 2, false},
            {{"env", "-SX"}, 1, false},
            {{"env", "--split-string=X"}, 1, false},
            {{"flock", "/tmp/lk", "-c", "X"}, 3, true},
            {{"script", "-qc", "X"}, 2, true},
            {{"script", "-q", "-c", "X", "/dev/null"}, 3, true},
            {{"runuser", "-u", "app", "-c", "X"}, 4, true},
            {{"xargs", "-I{}", "sh", "-c", "X"}, 4, true},
            {{"timeout", "5", "python3", "-Sc", "X"}, 4, false},
            {{"nice", "-n", "5", "awk", "X"}, 4, false},
            {{"sudo", "-u", "app", "bash", "-ec", "X"}, 5, true},
            {{"busybox", "awk", "X"}, 2, false},
            {{"doas", "sh", "-xc", "X"}, 3, true},
            {{"stdbuf", "-oL", "perl", "-e", "X"}, 4, false},
            {{"setsid", "nohup", "ionice", "-c3", "env", "A=1", "node", "-e", "X"}, 8, false},
        };
        for (const auto& f : forms) {
            std::string shown;
            for (const auto& a : f.argv) {
                shown += a + " ";
            }
            CAPTURE(shown);
            auto s = script_argument(f.argv);
            CHECK(s.index == f.code);
            CHECK(s.shell == f.shell);
        }
        // Data arguments stay data: a script file's arguments, a program that runs nothing.
        CHECK(script_argument({"python3", "tool.py", "-c", "x"}).index == 0);
        CHECK(script_argument({"awk", "-f", "prog.awk", "X"}).index == 0);
        CHECK(script_argument({"echo", "sh", "-c", "X"}).index == 0);
        CHECK(script_argument({"psql", "postgresql://h/db", "-v", "x=X", "-f", "a.sql"}).index ==
              0);
    }

    TEST_CASE("shell strings: contexts bash evaluates again are refused for every value") {
        const std::vector<std::string> refused{
            "trap 'echo {{v}}' EXIT; true",
            "trap \"echo {{v}}\" EXIT",
            "[[ 1 -eq {{v}} ]]; echo done",
            "[[ 1 -eq \"{{v}}\" ]] && echo y",
            "[[ -n x && 1 -lt '{{v}}' ]]",
            "let x={{v}}; echo done",
            "let \"x={{v}}\"",
            "declare -i n; n={{v}}; echo done",
            "typeset -i n; n='{{v}}'",
            "local -ai n={{v}}",
            "printf -v {{v}} %s 1; echo done",
            "read {{v}} < /dev/null",
            "unset {{v}}",
            "(( x = {{v}} ))",
            "((x={{v}}))",
            "for ((i=0; i<{{v}}; i++)); do :; done",
            "echo $(( {{v}} + 1 ))",
            "a[{{v}}]=1",
            "flock /tmp/lk -c 'echo {{v}}'",
            "script -qc \"echo {{v}}\" /dev/null",
            "python3 -Sc \"print('{{v}}')\"",
            "awk 'BEGIN { print \"{{v}}\" }'",
            "psql \"$DSN\" -c \"SELECT '{{v}}'\"",
            "env -S \"sh -c 'echo {{v}}'\"",
            "python3 -c {{v}}",
            "echo {{v}} | xargs -I{} sh -c 'echo {}'",
            "printf '%s' {{v}} | xargs -I X bash -c 'echo X'",
        };
        for (const auto& text : refused) {
            for (const auto& value : k_hostile) {
                CAPTURE(text);
                CAPTURE(value);
                CHECK(problems_of(text, value).size() == 1);
            }
        }
    }

    TEST_CASE("shell strings: the forms once accepted are refused — through env bash keeps data") {
        test::TempDir dir;
        // Accepted (as one quoted word) until round 23; now every reference in shell text is
        // refused, and the same script reading "$V" runs hostile values as data.
        const std::vector<std::string> once_accepted{
            "echo {{v}}",
            "printf '%s\\n' \"pre {{v}} post\"",
            "[ 1 -eq {{v}} ] 2>/dev/null; echo done",
            "test {{v}} = x; echo done",
            "x={{v}}; echo \"$x\"",
            "declare x={{v}}; echo \"$x\"",
            "printf -v out %s {{v}}; echo \"$out\"",
            "case {{v}} in x) echo x;; esac",
            "echo $(( 1 + 2 )) {{v}}",
            "[[ -n x ]] && echo {{v}}",
            "for i in {{v}}; do echo \"$i\"; done",
            "python3 -c 'import sys; print(sys.argv[1])' {{v}}",
            "awk -v x={{v}} 'BEGIN { print x }'",
        };
        for (const auto& text : once_accepted) {
            for (const auto& value : k_hostile) {
                CAPTURE(text);
                CAPTURE(value);
                CHECK(problems_of(text, value).size() == 1);
                const std::string cmd = util::replace_all(text, "{{v}}", "\"$V\"");
                REQUIRE(problems_of(cmd, value).empty());
                fs::path script = dir.write("s.sh", cmd);
                REQUIRE(::setenv("V", value.c_str(), 1) == 0);
                std::string line = "cd '" + dir.path().string() + "' && bash '" + script.string() +
                                   "' >/dev/null 2>&1";
                int rc = std::system(line.c_str());
                REQUIRE(WIFEXITED(rc));
                CHECK_FALSE(fs::exists(dir / "PWNED"));
                fs::remove(dir / "PWNED");
            }
        }
        ::unsetenv("V");
    }

    TEST_CASE("sql: E'' escape strings and dollar quoting are lexed") {
        playbook::Substituter s(std::map<std::string, std::string>{{"r", "x"}});
        for (const char* text : {"SELECT E'\\'' || {{r}}", "SELECT e'a\\\\' || {{r}}",
                                 "SELECT $$it's$$ || {{r}}", "SELECT $t$ ' $t$ || {{r}}"}) {
            CAPTURE(text);
            std::vector<std::string> uses, problems;
            auto out = s.apply(text, Encoding::sql, uses, problems);
            CHECK(problems.empty());
            CHECK(out.params == std::vector<std::string>{"x"});
        }
        for (const char* text : {"SELECT E'{{r}}'", "SELECT E'\\' {{r}}'"}) {
            CAPTURE(text);
            std::vector<std::string> uses, problems;
            s.apply(text, Encoding::sql, uses, problems);
            CHECK(problems.size() == 1);
        }
    }
}
