// SPDX-License-Identifier: MIT
// Break-it round 23 (findings 10-16): no value in shell text, and the option grammar of
// programs that run code followed (or, where unsure, the stricter reading). Generated
// combinations of wrapper x shell x option grammar x position, and every repro input.
#include "playbook/loader.hpp"
#include "playbook/variables.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

using namespace rollback;
using playbook::ArgRole;
using playbook::argument_roles;
namespace fs = std::filesystem;

namespace {

std::string shown(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        out += "[" + a + "] ";
    }
    return out;
}

const std::vector<std::vector<std::string>> k_wrappers{
    {},
    {"timeout", "5"},
    {"prlimit", "--nofile=100"},
    {"env", "-i", "A=1"},
    {"sudo", "-u", "app"},
    {"find", ".", "-exec"},
    {"site-wrapper", "--x=1", "--"},
};

// The diagnostics of loading a one-step exec playbook whose step holds `body` (TOML lines).
std::vector<util::Diagnostic> diagnostics_of(const std::string& body) {
    test::TempDir dir;
    std::map<std::string, std::string> env;
    playbook::LoadOptions options;
    options.environment = &env;
    fs::path p = dir.write("pb.toml", "[vars]\nv = \"x\"\n[[step]]\nid = \"s\"\naction = "
                                      "\"exec\"\n" +
                                          body + "\n");
    try {
        playbook::load(p, options);
    } catch (const util::InvalidInput& e) {
        return e.diagnostics();
    }
    return {};
}

// `text` as a TOML basic string; `plain`: written without an escape (so a diagnostic can point
// at the column of a character inside it).
std::string toml_string(const std::string& text, bool& plain) {
    std::string out = "\"";
    plain = true;
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            plain = false;
        }
        out += c;
    }
    return out + "\"";
}

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("shell text: the command string is found through every option grammar") {
        // Round 23/15: options after -c, -o NAME at the end of a letter group, -- and -.
        const std::vector<std::string> shells{"sh", "bash", "/bin/dash", "zsh", "ksh"};
        const std::vector<std::vector<std::string>> grammars{
            {"-c"},
            {"-ec"},
            {"-c", "-x"},
            {"-c", "-e", "-u"},
            {"-ce", "-o", "pipefail"},
            {"-eo", "errexit", "-c"},
            {"-e", "-o", "errexit", "-c"},
            {"-o", "errexit", "-c", "+x"},
            {"-c", "--"},
            {"-c", "-"},
            {"--norc", "-c", "-x", "--"},
            {"-cx", "-O", "extglob"},
        };
        size_t cases = 0;
        for (const auto& wrapper : k_wrappers) {
            for (const auto& shell : shells) {
                for (const auto& grammar : grammars) {
                    std::vector<std::string> argv = wrapper;
                    const size_t first = argv.size() + 1;
                    argv.push_back(shell);
                    argv.insert(argv.end(), grammar.begin(), grammar.end());
                    const size_t script = argv.size();
                    argv.insert(argv.end(), {"echo X", "sh", "DATA"});
                    CAPTURE(shown(argv));
                    const auto roles = argument_roles(argv);
                    CHECK(roles.role[script] == ArgRole::shell);
                    CHECK(roles.role[script + 1] == ArgRole::data);
                    CHECK(roles.role[script + 2] == ArgRole::data);
                    for (size_t i = first; i < script; ++i) {
                        CHECK(roles.role[i] != ArgRole::data); // the shell's own options
                    }
                    ++cases;
                }
            }
        }
        CHECK(cases == k_wrappers.size() * 5 * 12);
        // Without -c the first operand is a script file: data, like its arguments.
        CHECK(argument_roles({"bash", "-x", "script.sh", "X"}).role[2] == ArgRole::data);
        CHECK(argument_roles({"bash", "-x", "script.sh", "X"}).role[3] == ArgRole::data);
    }

    TEST_CASE("code: each program's option grammar decides which element is code") {
        struct Form {
            std::vector<std::string> args; // after the program's name; X marks the element
            ArgRole role;
        };
        const std::map<std::string, std::vector<Form>> programs{
            {"node",
             {{{"-pe", "X"}, ArgRole::code},
              {{"-ep", "X"}, ArgRole::code},
              {{"-p", "X"}, ArgRole::code},
              {{"--eval", "X"}, ArgRole::code},
              {{"--print=X"}, ArgRole::code},
              {{"-r", "mod", "-e", "X"}, ArgRole::code},
              {{"-e", "code", "X"}, ArgRole::data},
              {{"script.js", "X"}, ArgRole::data},
              {{"X", "arg"}, ArgRole::data}}},
            {"gdb",
             {{{"-batch", "-ex", "X"}, ArgRole::code},
              {{"-batch", "--ex", "X"}, ArgRole::code},
              {{"-ex=X"}, ArgRole::code},
              {{"--eval-command", "X"}, ArgRole::code},
              {{"--eval-command=X"}, ArgRole::code},
              {{"-eval", "X"}, ArgRole::code},
              {{"-iex", "X"}, ArgRole::code},
              {{"--init-eval-command=X"}, ArgRole::code},
              {{"-q", "prog", "-ex", "X"}, ArgRole::code},
              {{"-x", "X"}, ArgRole::code}, // brk41/02: a command file, the program
              {{"--command=X"}, ArgRole::code},
              {{"-p", "X"}, ArgRole::data},
              {{"--args", "prog", "-ex", "X"}, ArgRole::data},
              {{"-q", "X"}, ArgRole::data}}},
            {"vim",
             {{{"-es", "-c", "X"}, ArgRole::code},
              {{"--cmd", "X"}, ArgRole::code},
              {{"+X"}, ArgRole::code},
              {{"file", "+X"}, ArgRole::code},
              {{"file", "-c", "X"}, ArgRole::code},
              {{"--remote-send", "X"}, ArgRole::code},
              {{"-S", "X"}, ArgRole::data},
              {{"-es", "X"}, ArgRole::data},
              {{"--", "+X"}, ArgRole::data}}},
            {"env",
             {{{"-S", "X"}, ArgRole::code},
              {{"-iS", "X"}, ArgRole::code},
              {{"-vS", "X"}, ArgRole::code},
              {{"-0iS", "X"}, ArgRole::code},
              {{"-u", "NAME", "-S", "X"}, ArgRole::code},
              {{"-u", "NAME", "-SX"}, ArgRole::code},
              {{"--unset", "NAME", "--split-string", "X"}, ArgRole::code},
              {{"-C", "/", "-S", "X"}, ArgRole::code},
              {{"-S", "sh -c", "X"}, ArgRole::code}, // joins the split command line
              {{"-u", "X", "true"}, ArgRole::data},
              {{"A=X", "true"}, ArgRole::data},
              {{"-i", "prog", "X"}, ArgRole::data}}},
            {"sed",
             {{{"X", "file"}, ArgRole::code},
              {{"-l", "5", "X", "file"}, ArgRole::code},
              {{"--line-length", "5", "X", "file"}, ArgRole::code},
              {{"--line-length=5", "X", "file"}, ArgRole::code},
              {{"-n", "-E", "X"}, ArgRole::code},
              {{"-i.bak", "X", "file"}, ArgRole::code},
              {{"-ne", "X"}, ArgRole::code},
              {{"--expression", "X"}, ArgRole::code},
              {{"p", "file", "-e", "X"}, ArgRole::code},
              {{"-e", "p", "X"}, ArgRole::data},
              {{"-f", "prog.sed", "X"}, ArgRole::data},
              {{"-n", "p", "X"}, ArgRole::data}}},
            {"mawk",
             {{{"X", "file"}, ArgRole::code},
              {{"-W", "interactive", "X", "file"}, ArgRole::code},
              {{"-Winteractive", "X"}, ArgRole::code},
              {{"-W", "X", "prog"}, ArgRole::code},
              {{"-F", ":", "-v", "a=1", "X"}, ArgRole::code},
              {{"-v", "a=X", "prog"}, ArgRole::data},
              {{"-f", "prog.awk", "X"}, ArgRole::data},
              {{"prog", "X"}, ArgRole::data}}},
            {"gawk",
             {{{"-e", "X", "file"}, ArgRole::code},
              {{"--source=X"}, ArgRole::code},
              {{"-e", "prog", "X"}, ArgRole::data}}},
            {"perl",
             {{{"-le", "X"}, ArgRole::code},
              {{"-l0e", "X"}, ArgRole::code},
              {{"-ne", "X"}, ArgRole::code},
              {{"-MPOSIX", "-e", "X"}, ArgRole::code},
              {{"-M", "X", "script.pl"}, ArgRole::code},
              {{"-I", "X", "script.pl"}, ArgRole::code}, // brk30/02: where modules load from
              {{"script.pl", "X"}, ArgRole::data}}},
            {"python3",
             {{{"-Sc", "X"}, ArgRole::code},
              {{"-W", "ignore", "-c", "X"}, ArgRole::code},
              {{"-c", "code", "-c", "X"}, ArgRole::data}, // sys.argv
              {{"-m", "json.tool", "-c", "X"}, ArgRole::data},
              {{"-m", "mod", "-c", "X"}, ArgRole::code}, // a module not known to read data
              {{"tool.py", "-c", "X"}, ArgRole::data}}},
            {"jq",
             {{{"-r", "--arg", "n", "v", "X"}, ArgRole::code},
              {{"-n", "--arg", "n", "X", "."}, ArgRole::data},
              {{"-f", "prog.jq", "X"}, ArgRole::data}}},
            {"psql",
             {{{"db", "-c", "X"}, ArgRole::code},
              {{"-X", "db", "--command", "X"}, ArgRole::code},
              {{"-v", "x=X", "-f", "a.sql"}, ArgRole::data}}},
        };
        size_t cases = 0;
        for (const auto& wrapper : k_wrappers) {
            for (const auto& [program, forms] : programs) {
                for (const auto& form : forms) {
                    std::vector<std::string> argv = wrapper;
                    argv.push_back(program);
                    size_t at = 0;
                    for (const auto& a : form.args) {
                        if (a.find('X') != std::string::npos) {
                            at = argv.size();
                        }
                        argv.push_back(a);
                    }
                    CAPTURE(shown(argv));
                    const auto roles = argument_roles(argv);
                    if (form.role == ArgRole::data) {
                        CHECK(roles.role[at] == ArgRole::data);
                    } else {
                        CHECK(roles.role[at] != ArgRole::data);
                    }
                    ++cases;
                }
            }
        }
        CHECK(cases > 500);
    }

    TEST_CASE("code: an option word of a program that runs code is not data") {
        for (const std::vector<std::string>& argv :
             std::vector<std::vector<std::string>>{{"python3", "-X", "-c", "code"},
                                                   {"perl", "-X", "script.pl"},
                                                   {"node", "--X", "script.js"},
                                                   {"sed", "--X", "p"},
                                                   {"gdb", "-X", "prog"},
                                                   {"vim", "-X", "file"},
                                                   {"env", "-X", "true"},
                                                   {"bash", "-X", "-c", "true"}}) {
            CAPTURE(shown(argv));
            CHECK(argument_roles(argv).role[1] != ArgRole::data);
        }
    }

    TEST_CASE("shell text: every round 23 input is a located error with the env hint") {
        // Findings 10, 11, 12 and 16: the command string of bash -c.
        const std::vector<std::string> scripts{
            "if [ -v {{v}} ]; then echo set; fi",
            "test -v {{v}}; echo done",
            "sleep 0 & wait -n -p {{v}}; echo done",
            "declare -n r={{v}}; echo $r",
            "f() { local -n r={{v}}; echo $r; }; f",
            "typeset -n r={{v}}; echo $r",
            "echo $[ 1 + {{v}} ]",
            "x={{v}}; test -v \"$x\"; echo done",
            "echo `echo {{v}}`",
            "x=`printf %s {{v}}`; echo \"$x\"",
            "echo \"$(echo {{v}})\"",
            "cat <<< \"a {{v}}\"",
            "cat <<<\"{{v}}\"",
            "echo \"${x:-\"{{v}}\"}\"",
            "echo \"${x-'{{v}}'}\"",
            "cat <<< {{v}}",
            "echo \"a {{v}}\"",
            "cat <<< '{{v}}'",
            "echo $'{{v}}'",
            "trap \"{{v}}\" EXIT",
            "trap {{v}} EXIT",
            "trap -- {{v}} EXIT",
            "trap {{v}} 0",
            "echo {{v}} | python3",
            "echo {{v}} | awk '{system($0)}'",
            "echo {{v}} | awk '{print | \"sh\"}'",
            "echo {{v}} | sed e",
            "echo {{v}} | perl -ne 'system $_'",
            "printf '%s\\n' {{v}} | while read -r c; do $c; done",
            "$(echo {{v}})",
            "x={{v}}; $x",
            "node -pe {{v}}",
        };
        for (const auto& script : scripts) {
            CAPTURE(script);
            bool plain = true;
            const std::string quoted = toml_string(script, plain);
            const std::string prefix = "argv = [\"bash\", \"-c\", ";
            const auto d = diagnostics_of(prefix + quoted + "]");
            REQUIRE(d.size() == 1);
            CHECK(d[0].where.line == 6);
            // At the reference itself, or (a string written with escapes) at the string.
            CHECK(d[0].where.column ==
                  static_cast<int>(prefix.size() + 1 + (plain ? script.find("{{v}}") + 1 : 0)));
            CHECK(d[0].problem.find("{{v}} in shell text") == 0);
            CHECK(d[0].hint.find("env = { V = \"{{v}}\" } and \"$V\"") != std::string::npos);
            CHECK(d[0].hint.find("sh -c '... \"$1\"' sh \"{{v}}\"") != std::string::npos);
            // The same script as `shell = true` and as a probe string.
            const auto as_shell = diagnostics_of("shell = true\nargv = " + quoted);
            REQUIRE(as_shell.size() == 1);
            CHECK(as_shell[0].where.line == 7);
            CHECK(as_shell[0].where.column ==
                  static_cast<int>(8 + (plain ? script.find("{{v}}") + 1 : 0)));
            const auto as_probe = diagnostics_of("argv = [\"true\"]\nprobe = " + quoted);
            REQUIRE(as_probe.size() == 1);
            CHECK(as_probe[0].problem.find("{{v}} in shell text") == 0);
        }
        // Finding 15: the command string after options that follow -c.
        for (const char* argv : {R"(["bash", "-c", "-x", "echo {{v}}"])",
                                 R"(["bash", "-ce", "-o", "pipefail", "echo {{v}}"])",
                                 R"(["sh", "-eo", "errexit", "-c", "echo {{v}}"])",
                                 R"(["sh", "-e", "-o", "errexit", "-c", "echo {{v}}"])"}) {
            CAPTURE(argv);
            const auto d = diagnostics_of(std::string("argv = ") + argv);
            REQUIRE(d.size() == 1);
            CHECK(d[0].problem.find("{{v}} in shell text") == 0);
        }
        // Findings 13 and 14: code, refused as code.
        for (const char* argv :
             {R"(["node", "-pe", "{{v}}"])", R"(["gdb", "-batch", "-ex", "{{v}}"])",
              R"(["gdb", "-batch", "-ex={{v}}"])",
              R"(["gdb", "-batch", "--eval-command", "{{v}}"])",
              R"(["vim", "-es", "-c", "{{v}}", "-c", "q!"])",
              R"(["vi", "-es", "--cmd", "{{v}}", "-c", "q!"])", R"(["ex", "-s", "+{{v}}", "+q!"])",
              R"(["env", "-iS", "{{v}}"])", R"(["env", "-vS", "{{v}}"])",
              R"(["env", "-u", "X", "-S{{v}}"])",
              R"(["sed", "--line-length", "5", "{{v}}", "in.txt"])",
              R"(["mawk", "-W", "interactive", "{{v}}", "/dev/null"])"}) {
            CAPTURE(argv);
            const auto d = diagnostics_of(std::string("argv = ") + argv);
            REQUIRE(d.size() == 1);
            CHECK(d[0].problem.find("{{v}} inside ") != std::string::npos);
            CHECK(d[0].problem.find(" code:") != std::string::npos);
        }
    }

    TEST_CASE("shell text: no value is an exception — playbook_dir neither") {
        const auto d = diagnostics_of("argv = [\"sh\", \"-c\", \"{{playbook_dir}}/bin/tool\"]");
        REQUIRE(d.size() == 1);
        CHECK(d[0].problem.find("{{playbook_dir}} in shell text") == 0);
        // As a program or an argument after the command string it is data.
        CHECK(diagnostics_of("argv = [\"{{playbook_dir}}/bin/tool\", \"{{v}}\"]").empty());
        CHECK(diagnostics_of("argv = [\"sh\", \"-c\", '\"$1\"/bin/tool', \"sh\", "
                             "\"{{playbook_dir}}\"]")
                  .empty());
        CHECK(diagnostics_of("argv = [\"sh\", \"-c\", '\"$D\"/bin/tool']\n"
                             "env = { D = \"{{playbook_dir}}\" }")
                  .empty());
    }
}

namespace {

struct Route {
    std::string script;
    bool refused;
};

// fed_value_use with the value as "$1" (`positional`) or as the environment variable N.
void check_routes(const std::vector<Route>& routes, bool positional) {
    const std::vector<std::string> names =
        positional ? std::vector<std::string>{} : std::vector<std::string>{"N"};
    for (const Route& r : routes) {
        INFO(r.script);
        CHECK(!playbook::fed_value_use(r.script, names, positional).empty() == r.refused);
    }
}

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("shell text: break-it 37/07 a value after a wrapper's options is its program") {
        // The wrapper grammar of argv arrays (program_position.cpp) read in shell text too.
        check_routes({{"flock /tmp/l \"$1\"", true},
                      {"flock -w 5 /tmp/l \"$1\"", true},
                      {"flock /tmp/l echo \"$1\"", false},
                      {"chroot / \"$1\"", true},
                      {"chroot --userspec=app / \"$1\"", true},
                      {"chroot / echo \"$1\"", false},
                      {"xargs -a /tmp/list \"$1\"", true},
                      {"xargs -a /tmp/list echo \"$1\"", false},
                      {"runuser -u root -- \"$1\"", true},
                      {"runuser -u root -- echo \"$1\"", false},
                      {"sudo -u app \"$1\"", true},
                      {"sudo -u app echo \"$1\"", false},
                      {"timeout 5 sudo -u app \"$1\"", true},
                      {"exec -a worker \"$1\"", true},
                      {"exec -a worker /bin/echo \"$1\"", false},
                      {"exec -c \"$1\"", true},
                      {"jobs -x \"$1\"", true},
                      {"jobs -l; echo \"$1\"", false},
                      {"noglob \"$1\"", true},
                      {"nocorrect \"$1\"", true},
                      {"- \"$1\"", true},
                      {"noglob echo \"$1\"", false},
                      {"su root -s \"$1\" -c true", true},
                      {"su root --shell=\"$1\" -c true", true},
                      {"runuser -s \"$1\" -u root true", true},
                      {"su root -s /bin/sh -c 'echo \"$0\"' \"$1\"", false}},
                     true);
        check_routes({{"sudo -u app \"$N\"", true}, {"sudo -u app echo \"$N\"", false}}, false);
    }

    TEST_CASE("argv: su and runuser -s name the program that runs") {
        for (const std::string argv :
             {"[\"su\", \"root\", \"-s\", \"{{v}}\", \"-c\", \"true\"]",
              "[\"su\", \"root\", \"-s{{v}}\"]",
              "[\"runuser\", \"-s\", \"{{v}}\", \"-u\", \"root\", \"x\"]"}) {
            INFO(argv);
            const auto d = diagnostics_of("argv = " + argv);
            REQUIRE(d.size() == 1);
            CHECK(d[0].problem.find("is the program to run") != std::string::npos);
        }
        for (const std::string argv : {"[\"su\", \"root\", \"-s\", \"/bin/sh\", \"-c\", \"true\"]",
                                       "[\"runuser\", \"-u\", \"root\", \"echo\", \"{{v}}\"]"}) {
            INFO(argv);
            CHECK(diagnostics_of("argv = " + argv).empty());
        }
    }
}

TEST_SUITE("playbook") {
    TEST_CASE("shell text: break-it 37/04 a program read from standard input is code") {
        const std::vector<Route> routes{
            {"printf '%s\\n' \"$1\" | awk -f /dev/stdin", true},
            {"printf '%s\\n' \"$1\" | awk -f -", true},
            {"printf '%s\\n' \"$1\" | gawk --file=/dev/fd/0", true},
            {"awk -f <(printf '%s' \"$1\") /etc/hostname", true},
            {"printf '%s\\n' \"$1\" | sed -f /dev/stdin /etc/hostname", true},
            {"printf '%s\\n' \"$1\" | sed -f- /etc/hostname", true},
            {"printf '%s\\n' \"$1\" | jq -n -f /dev/stdin", true},
            {"printf '%s\\n' \"$1\" | make -f -", true},
            {"printf '%s\\n' \"$1\" | gdb -batch -x /dev/stdin", true},
            {"printf '%s\\n' \"$1\" | gdb -q", true},
            {"printf '%s\\n' \"$1\" | vim -s /dev/stdin f", true},
            {"printf '%s\\n' \"$1\" | ed -s /etc/hostname", true},
            {"printf '%s\\n' \"$1\" | ex /etc/hostname", true},
            {"printf '%s\\n' \"$1\" | dc", true},
            {"printf '%s\\n' \"$1\" | m4", true},
            {"printf '%s\\n' \"$1\" | su", true},
            {"printf '%s\\n' \"$1\" | su app", true},
            {"printf '%s\\n' \"$1\" | runuser -u app", true},
            {"printf '%s\\n' \"$1\" | sudo -s", true},
            {"printf '%s\\n' \"$1\" | sudo -u app -i", true},
            {"printf '%s\\n' \"$1\" | doas -s", true},
            // Harmless siblings: the program comes from the command line or a fixed file.
            {"printf '%s\\n' \"$1\" | awk '{print $1}'", false},
            {"printf '%s\\n' \"$1\" | awk -f /opt/prog.awk", false},
            {"printf '%s\\n' \"$1\" | sed 's/a/b/'", false},
            {"printf '%s\\n' \"$1\" | sed -f /opt/edit.sed", false},
            {"printf '%s\\n' \"$1\" | jq -R .", false},
            {"printf '%s\\n' \"$1\" | make -f Makefile check", false},
            {"printf '%s\\n' \"$1\" | gdb -batch -x /opt/cmds.gdb prog", false},
            {"printf '%s\\n' \"$1\" | dc -e '2 3 + p'", false},
            {"printf '%s\\n' \"$1\" | m4 /opt/defs.m4", false},
            {"printf '%s\\n' \"$1\" | su app -c 'cat > /tmp/x'", false},
            {"printf '%s\\n' \"$1\" | runuser -u app -- cat", false},
            {"printf '%s\\n' \"$1\" | sudo -u app tee /tmp/x", false},
        };
        for (const Route& r : routes) {
            INFO(r.script);
            CHECK(playbook::stdin_code_reader(r.script).empty() != r.refused);
            // Through the loader, the value as "$1" of bash -c.
            bool plain = false;
            const auto d =
                diagnostics_of("argv = [\"bash\", \"-c\", " + toml_string(r.script, plain) +
                               ", \"rollback\", \"{{v}}\"]");
            CHECK(d.empty() != r.refused);
        }
    }
}

TEST_SUITE("playbook") {
    TEST_CASE("shell text: break-it 37/03 re-evaluation and copies the analysis follows") {
        check_routes({{"declare -i n; n=\"$1\"", true},
                      {"typeset -i n; n=\"$1\"", true},
                      {"declare -gi n; n=\"$1\"", true},
                      {"f() { local -i n; n=$1; }; f \"$1\"", true},
                      {"integer n; n=\"$1\"", true},
                      {"declare -i total=0; total+=\"$1\"", true},
                      {"r=\"$1\"; declare -i n=r", true},
                      {"history -s \"$1\"; fc -s", true},
                      {"printf -v BASH_ENV '%s' \"$1\"; export BASH_ENV; bash -c true", true},
                      {": \"${BASH_ENV:=$1}\"; export BASH_ENV", true},
                      {"declare -n ref=BASH_ENV; ref=\"$1\"", true},
                      {"major=$(echo \"$1\" | cut -d. -f1); if (( major >= 2 )); then :; fi", true},
                      {"major=`echo \"$1\"`; (( major > 1 ))", true},
                      {"printf -v n '%s' \"$1\"; (( n > 1 ))", true},
                      {": \"${n:=$1}\"; (( n > 1 ))", true},
                      {": \"${n=$1}\"; (( n > 1 ))", true},
                      {"for n; do (( n > 1 )); done", true},
                      {"select n; do (( n > 1 )); done", true},
                      // Harmless siblings: the same copies used as words, attributes on others.
                      {"declare -i n; n=5; echo \"$1\"", false},
                      {"declare -i total=0; total+=1; echo \"$1\" \"$total\"", false},
                      {"r=\"$1\"; declare -i n=5; echo \"$r\"", false},
                      {"history -c; echo \"$1\"", false},
                      {"printf -v msg 'release %s' \"$1\"; echo \"$msg\"", false},
                      {"major=$(echo \"$1\" | cut -d. -f1); echo \"$major\"", false},
                      {"major=$(date +%s); (( major > 1 )); echo \"$1\"", false},
                      {": \"${n:=$1}\"; echo \"$n\"", false},
                      {"for n; do echo \"$n\"; done", false},
                      {"declare -n ref=other; ref=5; echo \"$1\"", false}},
                     true);
        check_routes({{"x=\"$N\"; y=x; (( y > 1 ))", true},
                      {"check() { local v=$1; (( v > 1 )); }; check \"$N\"", true},
                      {"x=\"$N\"; y=x; echo \"$y\" \"$x\"", false},
                      {"check() { local v=$1; echo \"$v\"; }; check \"$N\"", false}},
                     false);
    }

    TEST_CASE("shell text: long chains of copies are followed in time linear in the text") {
        // Break-it round 37: a chain a1=$1; a2=$a1; ... cost text x chain x names (2,000 links:
        // 64 s of validate). Written in order it is one pass; written backwards (a function's
        // body before its use) each link is a pass, and past 32 passes every variable the
        // script assigns counts as fed (sound).
        for (int n : {40, 2000}) {
            CAPTURE(n);
            std::string forward = "a0=\"$1\"; ";
            std::vector<std::string> links;
            for (int i = 1; i < n; ++i) {
                links.push_back("a" + std::to_string(i) + "=$a" + std::to_string(i - 1));
            }
            for (const auto& l : links) {
                forward += l + "; ";
            }
            std::string backward = "f() { ";
            for (auto it = links.rbegin(); it != links.rend(); ++it) {
                backward += *it + "; ";
            }
            backward += "}; a0=\"$1\"; f; ";
            const std::string last = "a" + std::to_string(n - 1);
            check_routes({{forward + "(( " + last + " > 1 ))", true},
                          {forward + "echo \"$" + last + "\"", false},
                          {backward + "(( " + last + " > 1 ))", true},
                          {backward + "echo \"$" + last + "\"", false}},
                         true);
        }
    }

    TEST_CASE("shell text: variables read from a fed value are copies too") {
        // Break-it round 37: `read n <<< "$1"` and `mapfile` were not followed.
        check_routes(
            {{"read n <<< \"$1\"; (( n > 1 ))", true},
             {"read -r a b <<< \"$1\"; (( b > 1 ))", true},
             {"read <<< \"$1\"; (( REPLY > 1 ))", true},
             {"read -a parts <<< \"$1\"; (( parts[0] > 1 ))", true},
             {"IFS=. read -r major minor <<< \"$1\"; if (( major >= 2 )); then :; fi", true},
             {"printf '%s' \"$1\" | { read n; (( n > 1 )); }", true},
             {"mapfile -t lines <<< \"$1\"; (( lines[0] > 1 ))", true},
             {"readarray lines <<< \"$1\"; declare -i k; k=lines", true},
             {"mapfile <<< \"$1\"; (( MAPFILE[0] > 1 ))", true},
             {"read -p 'ok? ' -t 5 n <<< \"$1\"; declare -i m; m=n", true},
             // Harmless siblings: the same reads used as words.
             {"read n <<< \"$1\"; echo \"$n\"", false},
             {"IFS=. read -r major minor <<< \"$1\"; echo \"$major\"", false},
             {"mapfile -t lines <<< \"$1\"; printf '%s\\n' \"${lines[@]}\"", false},
             {"read -p 'ok? ' n <<< \"$1\"; echo \"$n\"", false}},
            true);
        check_routes(
            {{"read n <<< \"$N\"; (( n > 1 ))", true}, {"read n <<< \"$N\"; echo \"$n\"", false}},
            false);
    }
}
