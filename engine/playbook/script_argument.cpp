// SPDX-License-Identifier: MIT
// Which argument of a command line is a script an interpreter runs (sh -c, su -c, python -c,
// ...): the one a {{variable}} must be quoted in as a shell word, or refused.
#include "playbook/script_syntax.hpp"
#include "playbook/variables.hpp"

#include <algorithm>
#include <cctype>

namespace rollback::playbook {

namespace detail {

std::string_view basename_of(std::string_view prog) {
    if (size_t slash = prog.rfind('/'); slash != std::string_view::npos) {
        prog = prog.substr(slash + 1);
    }
    return prog;
}

bool is_shell(std::string_view prog) {
    static const std::vector<std::string_view> shells{"sh",  "bash", "dash", "ksh",
                                                      "zsh", "ash",  "mksh", "posh"};
    return std::find(shells.begin(), shells.end(), prog) != shells.end();
}

bool is_interpreter(std::string_view prog) {
    static const std::vector<std::string_view> names{"perl", "ruby",  "node", "nodejs",    "php",
                                                     "lua",  "tclsh", "pwsh", "powershell"};
    return prog.starts_with("python") || prog.starts_with("pypy") || prog.starts_with("perl5") ||
           prog.starts_with("lua5") || std::find(names.begin(), names.end(), prog) != names.end();
}

size_t shell_script_after(const std::vector<std::string>& argv, size_t j) {
    for (size_t i = j + 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "-o" || a == "+o" || a == "-O" || a == "+O" || a == "--rcfile" ||
            a == "--init-file") {
            ++i; // the option's argument
            continue;
        }
        if (a.starts_with("--")) {
            if (a == "--") {
                return 0; // operands follow: a script file, not -c
            }
            continue; // --norc, --noprofile, --posix, --login, ...
        }
        if (a.size() < 2 || (a[0] != '-' && a[0] != '+')) {
            return 0; // the first operand: a script file
        }
        if (a[0] == '-' && a.find('c') != std::string::npos &&
            std::all_of(a.begin() + 1, a.end(),
                        [](char c) { return std::isalpha(static_cast<unsigned char>(c)); })) {
            size_t k = i + 1;
            if (k < argv.size() && argv[k] == "--") {
                ++k;
            }
            return k < argv.size() ? k : 0;
        }
    }
    return 0;
}

namespace {

/// The code letters of an interpreter's short options (`-c`, `-e`, ...), which may stand in a
/// letter group (`-Sc`, `-le`, `-ne`): the code is the rest of that argument, or the next one.
std::string_view code_letters(std::string_view prog) {
    if (prog.starts_with("python") || prog.starts_with("pypy") || prog == "lua" ||
        prog.starts_with("lua5")) {
        return prog.starts_with("lua") ? "e" : "c";
    }
    if (prog == "perl" || prog.starts_with("perl5")) {
        return "eE";
    }
    if (prog == "ruby") {
        return "e";
    }
    if (prog == "node" || prog == "nodejs") {
        return "ep";
    }
    if (prog == "php") {
        return "rB";
    }
    if (prog == "psql") {
        return "c";
    }
    if (prog == "mysql" || prog == "mariadb") {
        return "e";
    }
    return "";
}

} // namespace

size_t interpreter_code(const std::vector<std::string>& argv, size_t j, std::string_view prog) {
    static const std::vector<std::string_view> long_code{
        "--eval", "--print", "--command", "--execute", "-Command", "-cmd", "--expression"};
    const std::string_view letters = code_letters(prog);
    // psql and mysql take options after their operands; a language's first operand is its
    // script file, whose arguments are data.
    const bool options_anywhere = prog == "psql" || prog == "mysql" || prog == "mariadb";
    for (size_t i = j + 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (!options_anywhere && !a.starts_with("-")) {
            return 0;
        }
        if (a == "-m") {
            return 0; // python -m MODULE
        }
        const bool python = letters == "c" && prog != "psql";
        const bool node = prog == "node" || prog == "nodejs";
        if ((python && (a == "-W" || a == "-X")) ||
            (!python && !node && (a == "-I" || a == "-M")) ||
            (node && (a == "-r" || a == "--require"))) {
            ++i; // the option's value
            continue;
        }
        for (std::string_view l : long_code) {
            if (a == l) {
                return i + 1 < argv.size() ? i + 1 : 0;
            }
            if (a.starts_with(std::string(l) + "=")) {
                return i;
            }
        }
        if (a.size() >= 2 && a[0] == '-' && a[1] != '-') {
            for (size_t k = 1; k < a.size(); ++k) {
                if (letters.find(a[k]) != std::string_view::npos) {
                    if (k + 1 < a.size()) {
                        return i; // -cCODE
                    }
                    return i + 1 < argv.size() ? i + 1 : 0;
                }
                if (!std::isalpha(static_cast<unsigned char>(a[k]))) {
                    break;
                }
            }
        }
    }
    return 0;
}

namespace {

/// The program text of awk, sed or jq: the -e/--expression script (sed), else the first
/// operand, unless a program file (-f) is given.
size_t program_operand(const std::vector<std::string>& argv, size_t j, std::string_view prog) {
    const bool awk = prog == "awk" || prog == "gawk" || prog == "mawk" || prog == "nawk" ||
                     prog == "busybox-awk";
    const bool sed = prog == "sed" || prog == "gsed";
    for (size_t i = j + 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "--") {
            return i + 1 < argv.size() ? i + 1 : 0;
        }
        if (a == "-f" || a.starts_with("--file") || a.starts_with("--from-file") ||
            (a.starts_with("-f") && !sed) ||
            (sed && a.starts_with("-") && !a.starts_with("--") &&
             a.find('f') != std::string::npos)) {
            return 0; // the program is a file
        }
        if (sed && (a == "-e" || a == "--expression")) {
            return i + 1 < argv.size() ? i + 1 : 0;
        }
        if (sed && (a.starts_with("--expression=") || (a.starts_with("-e") && a.size() > 2))) {
            return i;
        }
        if (!a.starts_with("-") || a == "-") {
            return i;
        }
        // Options that take the next argument as a value (data, not the program).
        static const std::vector<std::string_view> with_value{
            "-F",       "-v",    "--assign",  "--field-separator", "-l",
            "-i",       "--arg", "--argjson", "--slurpfile",       "--rawfile",
            "--indent", "-L",    "--args",    "--jsonargs"};
        for (std::string_view w : with_value) {
            if (a == w && (awk || prog == "jq" || (w == "-l" && sed))) {
                i += (a == "--arg" || a == "--argjson" || a == "--slurpfile" || a == "--rawfile")
                         ? 2
                         : 1;
                break;
            }
        }
    }
    return 0;
}

} // namespace

bool is_wrapper(std::string_view prog) {
    static const std::vector<std::string_view> names{
        "env",         "timeout",        "nice",         "ionice",    "nohup",
        "setsid",      "stdbuf",         "chroot",       "flock",     "sudo",
        "doas",        "runuser",        "su",           "xargs",     "exec",
        "command",     "time",           "taskset",      "chrt",      "unshare",
        "nsenter",     "script",         "strace",       "ltrace",    "caffeinate",
        "systemd-run", "firejail",       "watch",        "prlimit",   "setpriv",
        "setarch",     "numactl",        "cgexec",       "chpst",     "setuidgid",
        "gosu",        "su-exec",        "unbuffer",     "faketime",  "fakeroot",
        "bwrap",       "valgrind",       "catchsegv",    "xvfb-run",  "dbus-run-session",
        "ssh-agent",   "pkexec",         "tini",         "dumb-init", "trickle",
        "torsocks",    "proxychains",    "proxychains4", "cpulimit",  "chronic",
        "ifne",        "systemd-nspawn", "systemd-cat",  "find"};
    return std::find(names.begin(), names.end(), prog) != names.end();
}

} // namespace detail

using namespace detail;

ScriptArg script_argument(const std::vector<std::string>& argv) {
    for (size_t j = 0; j < argv.size(); ++j) {
        std::string_view prog = basename_of(argv[j]);
        if (j > 0 && !is_wrapper(basename_of(argv[0])) && basename_of(argv[0]) != "busybox") {
            return {}; // only a wrapper's arguments can name the program that runs
        }
        if (prog == "busybox" && j + 1 < argv.size()) {
            ++j;
            prog = basename_of(argv[j]);
        }
        if (ScriptArg own; program_code_arguments(argv, j, prog, own)) {
            return own;
        }
        if (is_shell(prog)) {
            if (size_t k = shell_script_after(argv, j); k != 0) {
                return {k, true, std::string(prog)};
            }
            return {};
        }
        if (prog == "su" || prog == "runuser" || prog == "flock" || prog == "script") {
            // Their -c/--command string is run by a shell.
            for (size_t i = j + 1; i < argv.size(); ++i) {
                if ((argv[i] == "-c" || argv[i] == "--command") && i + 1 < argv.size()) {
                    return {i + 1, true, std::string(prog)};
                }
                if (argv[i].starts_with("--command=")) {
                    return {i, true, std::string(prog)};
                }
                if (argv[i].size() > 2 && argv[i][0] == '-' && argv[i][1] != '-' &&
                    argv[i].back() == 'c' && prog == "script") {
                    return {i + 1 < argv.size() ? i + 1 : 0, true, std::string(prog)};
                }
            }
            continue; // flock FILE PROGRAM ARGS, su USER: what follows may be a program
        }
        if (prog == "env") {
            // env -S/--split-string: the string is split into a command line again.
            for (size_t i = j + 1; i < argv.size(); ++i) {
                const std::string& a = argv[i];
                if ((a == "-S" || a == "--split-string") && i + 1 < argv.size()) {
                    return {i + 1, false, "env -S"};
                }
                if ((a.starts_with("-S") && a.size() > 2) || a.starts_with("--split-string=")) {
                    return {i, false, "env -S"};
                }
                if (!a.starts_with("-") && a.find('=') == std::string::npos) {
                    break;
                }
            }
            continue;
        }
        if (prog == "awk" || prog == "gawk" || prog == "mawk" || prog == "nawk" || prog == "sed" ||
            prog == "gsed" || prog == "jq") {
            if (size_t k = program_operand(argv, j, prog); k != 0) {
                return {k, false, std::string(prog)};
            }
            return {};
        }
        if (prog == "sqlite3") {
            // sqlite3 [OPTIONS] DATABASE [SQL]; -cmd SQL
            size_t operands = 0;
            for (size_t i = j + 1; i < argv.size(); ++i) {
                if (argv[i] == "-cmd" && i + 1 < argv.size()) {
                    return {i + 1, false, "sqlite3"};
                }
                if (!argv[i].starts_with("-") && ++operands == 2) {
                    return {i, false, "sqlite3"};
                }
            }
            return {};
        }
        if (is_interpreter(prog) || !code_letters(prog).empty()) {
            if (size_t k = interpreter_code(argv, j, prog); k != 0) {
                return {k, false, std::string(prog)};
            }
            return {}; // a script file (or a database): its arguments are data
        }
    }
    return {};
}

size_t shell_command_index(const std::vector<std::string>& argv) {
    const ScriptArg s = script_argument(argv);
    return s.shell ? s.index : 0;
}

} // namespace rollback::playbook
