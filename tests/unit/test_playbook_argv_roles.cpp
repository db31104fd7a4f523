// SPDX-License-Identifier: MIT
// Break-it 21, findings 03 and 06: a {{value}} never reaches a shell the validator does not
// see — whatever wrapper stands in front (generated: wrapper x shell x option form x
// position), whatever program runs an argument by its own syntax (watch, ssh, git -c), whatever
// script pipes data into a shell — and a secret never stands in a child's command line.
#include "playbook/loader.hpp"
#include "playbook/variables.hpp"

#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <map>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace rollback;
using playbook::ArgRole;
using playbook::argument_roles;
using playbook::Encoding;
namespace fs = std::filesystem;

namespace {

std::string shown(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        out += "[" + a + "] ";
    }
    return out;
}

// Wrappers the validator knows and ones it does not (their options hold `=`, or they are a
// site's own): a shell or interpreter behind any of them is found all the same.
const std::vector<std::vector<std::string>> k_wrappers{
    {},
    {"timeout", "5"},
    {"prlimit", "--nofile=100"},
    {"setpriv", "--reuid=0"},
    {"find", ".", "-maxdepth", "0", "-exec"},
    {"find", ".", "-name", "sh", "-execdir"},
    {"nice", "-n", "5"},
    {"ionice", "-c3"},
    {"stdbuf", "-oL"},
    {"chroot", "/"},
    {"flock", "/tmp/lk"},
    {"nohup"},
    {"setsid", "-w"},
    {"unshare", "-r"},
    {"nsenter", "-t", "1", "-m"},
    {"busybox"},
    {"sudo", "-u", "app"},
    {"env", "A=1"},
    {"xargs", "-I{}"},
    {"watch", "-x"},
    {"site-wrapper", "--limit=5", "--"},
    {"timeout", "5", "prlimit", "--nofile=1", "setpriv", "--reuid=0"},
};

ArgRole role_of(const std::vector<std::string>& argv, size_t i) {
    return argument_roles(argv).role.at(i);
}

// Substitutes `value` for {{v}} in a shell string and returns the problems.
std::vector<std::string> shell_problems(const std::string& text, const std::string& value,
                                        std::string* out = nullptr) {
    playbook::Substituter s(std::map<std::string, std::string>{{"v", value}});
    std::vector<std::string> uses, problems;
    auto r = s.apply(text, Encoding::shell, uses, problems);
    if (out != nullptr) {
        *out = r.text;
    }
    return problems;
}

struct Loaded {
    std::vector<std::string> problems;
    playbook::Playbook pb;
};

// Loads a one-step exec playbook with `argv` (TOML) and [vars] v, s (secret).
Loaded load_argv(test::TempDir& dir, const std::string& argv, const std::string& extra = "") {
    std::map<std::string, std::string> env{{"SECRET_V", "Tk9CanarySecretVal42"}};
    playbook::LoadOptions options;
    options.environment = &env;
    fs::path p = dir.write("pb.toml", "[vars]\nv = \"x$(touch PWNED)y\"\n"
                                      "s = { env = \"SECRET_V\", secret = true }\n"
                                      "[[step]]\nid = \"e\"\naction = \"exec\"\nargv = " +
                                          argv + "\n" + extra);
    Loaded out;
    try {
        out.pb = playbook::load(p, options);
    } catch (const util::InvalidInput& e) {
        for (const auto& d : e.diagnostics()) {
            out.problems.push_back(d.problem);
        }
    }
    return out;
}

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("argv roles: a shell behind any wrapper at any position takes shell words") {
        const std::vector<std::string> shells{"sh", "bash", "dash", "/bin/sh", "zsh", "ksh"};
        const std::vector<std::vector<std::string>> forms{
            {"-c"}, {"-ec"}, {"-o", "pipefail", "-c"}, {"--norc", "-c"}, {"-c", "--"}};
        size_t cases = 0;
        for (const auto& wrapper : k_wrappers) {
            for (const auto& shell : shells) {
                for (const auto& form : forms) {
                    std::vector<std::string> argv = wrapper;
                    argv.push_back(shell);
                    argv.insert(argv.end(), form.begin(), form.end());
                    const size_t script = argv.size();
                    argv.insert(argv.end(), {"echo X", "sh", "DATA", ";"});
                    CAPTURE(shown(argv));
                    const auto roles = argument_roles(argv);
                    CHECK(roles.role[script] == ArgRole::shell);
                    CHECK(roles.role[script + 2] == ArgRole::data);
                    ++cases;
                }
            }
        }
        CHECK(cases == k_wrappers.size() * 30);
    }

    TEST_CASE("argv roles: interpreter code behind any wrapper is code") {
        const std::vector<std::vector<std::string>> programs{
            {"python3", "-c"}, {"python3", "-Sc"}, {"perl", "-e"}, {"perl", "-le"},
            {"ruby", "-e"},    {"node", "-e"},     {"php", "-r"},  {"awk"},
            {"sed", "-e"},     {"jq", "-n"},       {"env", "-S"},  {"psql", "-c"},
            {"watch", "-n1"},  {"ssh", "host"},    {"git", "-c"},  {"rsync", "-e"},
            {"tar", "-I"},     {"tmux", "new"},    {"su", "-c"},   {"runuser", "-c"}};
        for (const auto& wrapper : k_wrappers) {
            for (const auto& program : programs) {
                std::vector<std::string> argv = wrapper;
                argv.insert(argv.end(), program.begin(), program.end());
                const size_t code = argv.size();
                argv.push_back("print X");
                CAPTURE(shown(argv));
                CHECK(role_of(argv, code) != ArgRole::data);
            }
        }
    }

    TEST_CASE("argv roles: programs that run an argument by their own syntax") {
        struct Form {
            std::vector<std::string> argv;
            size_t at;
            ArgRole role;
        };
        const std::vector<Form> forms{
            {{"watch", "-n", "1", "-g", "echo X"}, 4, ArgRole::code},
            {{"watch", "-n1", "echo", "X"}, 3, ArgRole::code},
            {{"watch", "--interval=1", "X"}, 2, ArgRole::code},
            {{"watch", "-x", "echo", "X"}, 3, ArgRole::data},
            {{"ssh", "web1", "echo", "X"}, 3, ArgRole::code},
            {{"ssh", "-p", "22", "-l", "app", "web1", "X"}, 6, ArgRole::code},
            {{"ssh", "-o", "ProxyCommand=X", "web1"}, 2, ArgRole::code},
            {{"ssh", "-oProxyCommand=X", "web1"}, 1, ArgRole::code},
            {{"ssh", "-p", "22", "X"}, 3, ArgRole::data}, // the destination
            {{"ssh", "-oProxyCommand=x", "web1"}, 2, ArgRole::data},
            {{"git", "-c", "alias.z=!echo X", "z"}, 2, ArgRole::code},
            {{"git", "-c", "core.pager=X", "log"}, 2, ArgRole::code},
            {{"git", "--config-env=core.sshCommand=X", "fetch"}, 1, ArgRole::code},
            {{"git", "clone", "-u", "X", "repo"}, 3, ArgRole::code},
            {{"git", "fetch", "--upload-pack=X", "origin"}, 2, ArgRole::code},
            {{"git", "rebase", "-x", "X", "main"}, 3, ArgRole::code},
            {{"git", "submodule", "foreach", "echo", "X"}, 4, ArgRole::code},
            {{"git", "config", "alias.z", "X"}, 3, ArgRole::code},
            {{"git", "config", "core.sshCommand", "X"}, 3, ArgRole::code},
            {{"git", "config", "user.email", "X"}, 3, ArgRole::data},
            {{"git", "commit", "-m", "X"}, 3, ArgRole::data},
            {{"git", "-C", "X", "checkout", "main"}, 2, ArgRole::code}, // brk30/02: its config runs
            {{"git", "-C", "/srv/repo", "checkout", "X"}, 4, ArgRole::data},
            {{"rsync", "-e", "X", "a", "b:"}, 2, ArgRole::code},
            {{"rsync", "-avze", "X", "a", "b:"}, 2, ArgRole::code},
            {{"rsync", "--rsh=X", "a", "b:"}, 1, ArgRole::code},
            {{"rsync", "-av", "X", "b:"}, 2, ArgRole::data},
            {{"tar", "-xf", "a.tar", "--to-command=X"}, 3, ArgRole::code},
            {{"tar", "--checkpoint-action=exec=X", "-cf", "a.tar", "."}, 1, ArgRole::code},
            {{"tar", "-I", "X", "-cf", "a.tar", "."}, 2, ArgRole::code},
            {{"tar", "-cf", "a.tar", "X"}, 3, ArgRole::data},
            {{"tmux", "new-session", "-d", "X"}, 3, ArgRole::code},
            {{"sg", "app", "-c", "X"}, 3, ArgRole::shell},
            {{"su", "app", "-c", "X"}, 3, ArgRole::shell},
            {{"echo", "hello", "X"}, 2, ArgRole::data},
            {{"sh", "-c", "echo \"$1\"", "sh", "X"}, 4, ArgRole::data},
            {{"python3", "tool.py", "-c", "X"}, 3, ArgRole::data},
        };
        for (const auto& f : forms) {
            CAPTURE(shown(f.argv));
            CHECK(role_of(f.argv, f.at) == f.role);
        }
    }

    TEST_CASE("argv roles: every word of dashes and equals signs reads without an exception") {
        // fuzz_shell_text found `---------=x` (an option of dashes only) thrown out of
        // command_option as std::out_of_range: every word over {-, =, e} up to 7 long.
        const std::string alphabet = "-=e";
        std::vector<std::string> words{""};
        for (size_t len = 0; len < 7; ++len) {
            std::vector<std::string> longer;
            for (const auto& w : words) {
                for (char c : alphabet) {
                    longer.push_back(w + c);
                }
            }
            for (const auto& w : longer) {
                CAPTURE(w);
                CHECK_NOTHROW(argument_roles({"tool", w, "X"}));
            }
            words = std::move(longer);
        }
        CHECK(role_of({"tool", "----", "X"}, 2) == ArgRole::data);
        CHECK(role_of({"tool", "---=X"}, 1) == ArgRole::data);
        CHECK(role_of({"tool", "--exec", "X"}, 2) == ArgRole::code);
    }

    TEST_CASE("shell strings: a script that runs what it reads refuses every value") {
        const std::vector<std::string> producers{"printf %s {{v}}", "echo \"x {{v}}\"",
                                                 "cat <<< {{v}}"};
        const std::vector<std::string> readers{"sh",
                                               "bash",
                                               "bash -s",
                                               "sh -s -- a",
                                               "dash -",
                                               "bash /dev/stdin",
                                               "sh -o pipefail",
                                               "python3",
                                               "python3 -",
                                               "perl",
                                               "node",
                                               "ruby",
                                               "psql",
                                               "mysql",
                                               "sqlite3 db",
                                               "xargs sh -c 'echo'",
                                               "sudo sh",
                                               "timeout 5 bash",
                                               "env A=1 sh",
                                               "ssh host",
                                               "ssh host sh",
                                               "at now",
                                               "source /dev/stdin",
                                               ". /dev/stdin",
                                               "docker exec -i c sh",
                                               "prlimit --nofile=10 bash"};
        for (const auto& producer : producers) {
            for (const auto& reader : readers) {
                for (const char* sep : {" | ", " |& "}) {
                    const std::string text = producer + sep + reader;
                    CAPTURE(text);
                    CHECK(shell_problems(text, "x; touch PWNED").size() == 1);
                    CHECK_FALSE(
                        playbook::stdin_code_reader(util::replace_all(text, "{{v}}", "x")).empty());
                }
            }
        }
        for (const char* text :
             {"bash <<< {{v}}", "sh <<< \"x {{v}}\"", "source <(echo {{v}})", "bash <(echo {{v}})",
              ". <(printf %s {{v}})", "x={{v}}; eval \"$x\"", "eval \"$(echo {{v}})\"",
              "echo {{v}} > f; sh < f", "{ echo {{v}}; } | bash", "(echo {{v}}) | sh",
              "if true; then echo {{v}}; fi | sh", "x={{v}}; sh -c \"$x\"",
              "CMD={{v}} bash -c \"$CMD\"", "python3 -c \"$1\" {{v}}",
              "y={{v}}; su app -c \"echo $y\"", "z={{v}}; sudo -u app bash -lc \"$z\""}) {
            CAPTURE(text);
            CHECK(shell_problems(text, "x; touch PWNED").size() == 1);
            CHECK_FALSE(playbook::stdin_code_reader(util::replace_all(text, "{{v}}", "x")).empty());
        }
    }

    TEST_CASE(
        "shell strings: a script that pipes into a program reading data takes its arguments") {
        // The value as an argument after the command string ("$1"): a script that feeds it to a
        // program reading data is not a reader of code, and bash keeps the value data.
        test::TempDir dir;
        dir.write("reader.sh", "cat >/dev/null; echo read\n");
        for (const char* text :
             {"echo \"$1\" | grep -c x", "echo \"$1\" | sh reader.sh",
              "sh -c 'printf \"%s\" \"$1\"' sh \"$1\"", "printf %s \"$1\" | bash ./reader.sh",
              "ps -e | grep bash; echo \"$1\"", "echo \"$1\" | wc -c",
              "echo \"$1\" | tr a-z A-Z"}) {
            CAPTURE(text);
            CHECK(playbook::stdin_code_reader(text).empty());
            for (const char* value : {"$(touch PWNED)", "x; touch PWNED", "`touch PWNED`"}) {
                CAPTURE(value);
                fs::path script = dir.write("s.sh", text);
                std::string line = "cd '" + dir.path().string() + "' && bash '" + script.string() +
                                   "' '" + value + "' >/dev/null 2>&1";
                int rc = std::system(line.c_str());
                REQUIRE(WIFEXITED(rc));
                CHECK_FALSE(fs::exists(dir / "PWNED"));
            }
        }
    }

    TEST_CASE("loader: the break-it 21 argv forms are refused or passed as arguments — never run") {
        // Refused with a located error (exit 2 on the command line).
        for (const char* argv : {
                 R"(["watch", "-n", "1", "-g", "echo {{v}}"])",
                 R"(["bash", "-c", "watch -n1 -g \"echo {{v}}\""])",
                 R"(["sh", "-c", "find . -maxdepth 0 -exec sh -c \"echo {{v}}\" \\;"])",
                 R"(["git", "-c", "alias.z=!echo {{v}}", "z"])",
                 R"(["sh", "-c", "printf %s {{v}} | sh"])",
                 R"(["sh", "-c", "echo {{v}} | bash"])",
                 R"(["ssh", "web1", "echo", "{{v}}"])",
                 R"(["sh", "-c", "cat | sh", "sh", "{{v}}"])",
                 R"(["site-wrapper", "echo {{v}} > out"])",
                 R"(["site-wrapper", "x'{{v}}'"])",
                 R"(["site-wrapper", "{{v}};", "ls"])",
             }) {
            test::TempDir dir;
            CAPTURE(argv);
            auto r = load_argv(dir, argv);
            CHECK(r.problems.size() == 1);
        }
        int ran = 0;
        // In the command string of a shell behind any wrapper a reference is refused; as an
        // argument after it ("$1") the command really runs and the value stays data.
        for (
            const char* argv : {
                R"(["prlimit", "--nofile=100", "sh", "-c", "echo \"$1\" > out", "sh", "{{v}}"])",
                R"(["setpriv", "--inh-caps=-all", "sh", "-c", "echo \"$1\" > out", "sh", "{{v}}"])",
                R"(["find", ".", "-maxdepth", "0", "-exec", "sh", "-c", "echo \"$1\" > out", "sh", "{{v}}", ";"])",
                R"(["timeout", "5", "nice", "-n", "1", "bash", "-ec", "echo \"$1\" > out", "sh", "{{v}}"])",
                R"(["env", "A=1", "sh", "-c", "echo \"$1\" > out", "sh", "{{v}}"])",
            }) {
            test::TempDir dir;
            CAPTURE(argv);
            const std::string spliced = util::replace_all(
                util::replace_all(argv, ", \"sh\", \"{{v}}\"", ""), "\\\"$1\\\"", "{{v}}");
            CAPTURE(spliced);
            CHECK(load_argv(dir, spliced).problems.size() == 1);
            auto r = load_argv(dir, argv);
            REQUIRE(r.problems.empty());
            // Run the substituted argv as exec would (no shell of ours around it).
            pid_t pid = ::fork();
            REQUIRE(pid >= 0);
            if (pid == 0) {
                if (::chdir(dir.path().c_str()) != 0) {
                    ::_exit(127);
                }
                std::vector<char*> args;
                for (auto& a : r.pb.steps.at(0).argv) {
                    args.push_back(a.data());
                }
                args.push_back(nullptr);
                ::execvp(args[0], args.data());
                ::_exit(127);
            }
            int status = 0;
            ::waitpid(pid, &status, 0);
            CHECK_FALSE(fs::exists(dir / "PWNED"));
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                CHECK(util::read_file(dir / "out") == "x$(touch PWNED)y\n");
                ++ran;
            }
        }
        CHECK(ran >= 3); // prlimit and setpriv may be missing or refused; the others run
        // Plain text for a program stays accepted.
        for (const char* argv : {R"(["echo", "rolling back to {{v}} now"])",
                                 R"(["git", "commit", "-m", "rollback: {{v}}"])",
                                 R"(["curl", "-H", "X-Release: {{v}}", "http://x/"])",
                                 R"(["{{playbook_dir}}/bin/tool", "--name={{v}}"])"}) {
            test::TempDir dir;
            CAPTURE(argv);
            CHECK(load_argv(dir, argv).problems.empty());
        }
    }

    TEST_CASE("loader: a secret in a command line is refused and accepted in env") {
        for (const char* argv : {
                 R"(["sh", "-c", "sleep 2; echo ok", "sh", "{{s}}"])",
                 R"(["curl", "-H", "Authorization: Bearer {{s}}", "http://x/"])",
                 R"(["sh", "-c", "echo {{s}}"])",
                 R"(["tool", "--token={{s}}"])",
                 R"("echo {{s}}")",
             }) {
            test::TempDir dir;
            CAPTURE(argv);
            auto r = load_argv(dir, argv, std::string(argv)[0] == '"' ? "shell = true\n" : "");
            // (In shell text the reference is refused for that too: one problem each.)
            const std::string text(argv);
            const bool shell_text = text.find("echo {{s}}") != std::string::npos;
            REQUIRE(r.problems.size() == (shell_text ? 2U : 1U));
            CHECK(std::any_of(r.problems.begin(), r.problems.end(), [](const std::string& p) {
                return p.find("{{s}} is secret") != std::string::npos;
            }));
            for (const auto& p : r.problems) {
                CHECK(p.find("Tk9Canary") == std::string::npos);
            }
        }
        test::TempDir dir;
        auto r = load_argv(dir, R"(["sh", "-c", "echo ok"])", "probe = [\"test\", \"{{s}}\"]\n");
        CHECK(r.problems.size() == 1);
        r = load_argv(dir, R"(["sh", "-c", "test -n \"$TOKEN\""])",
                      "env = { TOKEN = \"{{s}}\" }\n");
        CHECK(r.problems.empty());
        util::clear_secrets();
    }
}
