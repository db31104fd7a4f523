// SPDX-License-Identifier: MIT
// Which argument of a command line is a script an interpreter runs (sh -c, su -c, python -c,
// ...): the one a {{variable}} must be quoted in as a shell word, or refused.
#include "playbook/variables.hpp"

#include <algorithm>
#include <cctype>

namespace rollback::playbook {

namespace {

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

/// The shell's -c command string after argv[j] (the shell), or 0.
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

} // namespace

ScriptArg script_argument(const std::vector<std::string>& argv) {
    for (size_t j = 0; j < argv.size(); ++j) {
        std::string_view prog = basename_of(argv[j]);
        if (prog == "busybox" && j + 1 < argv.size() && is_shell(argv[j + 1])) {
            ++j;
            prog = argv[j];
        }
        if (is_shell(prog)) {
            if (size_t k = shell_script_after(argv, j); k != 0) {
                return {k, true, std::string(prog)};
            }
            return {};
        }
        if (prog == "su") {
            for (size_t i = j + 1; i < argv.size(); ++i) {
                if ((argv[i] == "-c" || argv[i] == "--command") && i + 1 < argv.size()) {
                    return {i + 1, true, "su"};
                }
                if (argv[i].starts_with("--command=")) {
                    return {i, true, "su"};
                }
            }
            return {};
        }
        if (is_interpreter(prog)) {
            for (size_t i = j + 1; i < argv.size(); ++i) {
                const std::string& a = argv[i];
                if ((a == "-c" || a == "-e" || a == "-E" || a == "-r" || a == "--eval" ||
                     a == "-Command" || a == "-x") &&
                    i + 1 < argv.size()) {
                    return {i + 1, false, std::string(prog)};
                }
                if (!a.starts_with("-")) {
                    break; // a script file: its arguments are data
                }
            }
            return {};
        }
    }
    return {};
}

size_t shell_command_index(const std::vector<std::string>& argv) {
    const ScriptArg s = script_argument(argv);
    return s.shell ? s.index : 0;
}

} // namespace rollback::playbook
