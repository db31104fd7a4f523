// SPDX-License-Identifier: MIT
// Which argument of a command line is a script an interpreter runs (sh -c, su -c, python -c,
// ...): where a {{variable}} is refused, whatever it holds.
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
    // Every shell by name: restricted (rbash, rksh), versioned (ksh93, bash5.2, zsh-5.9) and
    // the shells outside the Bourne family (csh, fish, rc, ...): each runs its -c string.
    static const std::vector<std::string_view> shells{
        "sh",    "bash", "dash",  "ksh",    "zsh",   "ash",   "mksh", "posh", "rbash",
        "rksh",  "rzsh", "pdksh", "oksh",   "loksh", "lksh",  "yash", "fish", "tcsh",
        "csh",   "rc",   "es",    "hush",   "msh",   "bosh",  "jsh",  "osh",  "ysh",
        "oil",   "nu",   "xonsh", "elvish", "ion",   "murex", "mrsh", "gash", "sash",
        "smrsh", "pfsh", "pfksh", "pfcsh",  "scsh",  "rush",  "nsh",  "ksh88"};
    // A version after the name (`ksh93`, `bash5.2`, `zsh-5.9`, `python`-like suffixes).
    const size_t end = prog.find_last_not_of("0123456789.-_");
    const std::string_view base = end == std::string_view::npos ? prog : prog.substr(0, end + 1);
    return std::find(shells.begin(), shells.end(), prog) != shells.end() ||
           std::find(shells.begin(), shells.end(), base) != shells.end();
}

bool is_interpreter(std::string_view prog) {
    static const std::vector<std::string_view> names{
        "perl", "ruby",       "node",    "nodejs", "php",   "lua", "tclsh", "wish",
        "pwsh", "powershell", "Rscript", "expect", "jimsh", "dc",  "m4"};
    // A version after the name (`ruby3.1`, `php8.2`, `tclsh8.6`, `node18`).
    const size_t end = prog.find_last_not_of("0123456789.-_");
    const std::string_view base = end == std::string_view::npos ? prog : prog.substr(0, end + 1);
    return prog.starts_with("python") || prog.starts_with("pypy") || prog.starts_with("perl5") ||
           prog.starts_with("lua5") || std::find(names.begin(), names.end(), prog) != names.end() ||
           std::find(names.begin(), names.end(), base) != names.end();
}

size_t shell_script_after(const std::vector<std::string>& argv, size_t j,
                          std::vector<size_t>* options) {
    bool command_string = false;
    const bool fish = basename_of(argv[j]).starts_with("fish");
    auto option = [&](size_t i) {
        if (options != nullptr && i < argv.size()) {
            options->push_back(i);
        }
    };
    for (size_t i = j + 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "--" || a == "-") {
            // The end of the options: the next element is the first operand.
            option(i);
            return command_string && i + 1 < argv.size() ? i + 1 : 0;
        }
        if (a.size() < 2 || (a[0] != '-' && a[0] != '+')) {
            // The first operand: the command string after -c (whatever options stood between,
            // `bash -c -x "..."`), else a script file.
            return command_string ? i : 0;
        }
        option(i);
        if (a.starts_with("--")) {
            if (a == "--command" || a == "--commands") {
                return i + 1 < argv.size() ? i + 1 : 0; // fish, nu: the command string
            }
            if (a.starts_with("--command=") || a.starts_with("--commands=")) {
                return i;
            }
            if (a == "--rcfile" || a == "--init-file" || a == "--init-command" ||
                a == "--execute") {
                option(++i); // a file, or code run first (fish -C): never data
            }
            continue; // --norc, --noprofile, --posix, --login, ...
        }
        for (size_t k = 1; k < a.size(); ++k) {
            if (a[k] == 'c' && a[0] == '-') {
                command_string = true;
            } else if (a[k] == 'C' && a[0] == '-' && k + 1 == a.size() && fish) {
                option(++i); // fish -C CODE (an init command); bash's -C is a flag
            } else if (a[k] == 'o' || a[k] == 'O') {
                option(++i); // -o NAME, also at the end of a group (`-eo pipefail`)
            }
        }
    }
    return 0;
}

size_t script_operand(const std::vector<std::string>& argv, size_t j) {
    const std::string_view prog = basename_of(argv[j]);
    if (is_interpreter(prog)) {
        CodeScan scan;
        return code_program(argv, j, prog, scan) ? scan.script : 0;
    }
    std::vector<size_t> options;
    if (!is_shell(prog) || shell_script_after(argv, j, &options) != 0) {
        return 0; // not a shell, or its -c string is the code
    }
    // shell_script_after listed every option word and option value before the first operand.
    for (size_t i = j + 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (std::find(options.begin(), options.end(), i) == options.end()) {
            return i;
        }
        if (a == "--" || a == "-") {
            return i + 1 < argv.size() ? i + 1 : 0; // no operand: standard input
        }
        if (a.size() >= 2 && a[0] == '-' && a[1] != '-' && a.find('s') != std::string::npos) {
            return 0; // -s: commands from standard input, the operands are its arguments
        }
    }
    return 0;
}

size_t interpreter_code(const std::vector<std::string>& argv, size_t j, std::string_view prog) {
    CodeScan scan;
    if (!code_program(argv, j, prog, scan) || !scan.code_given) {
        return 0;
    }
    return scan.code_value;
}

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

namespace detail {

ScriptArg own_arguments(const std::vector<std::string>& argv, size_t j, bool& stops) {
    std::string_view prog = basename_of(argv[j]);
    stops = false;
    if (ScriptArg own; program_code_arguments(argv, j, prog, own)) {
        stops = true;
        return own;
    }
    if (is_shell(prog)) {
        stops = true;
        ScriptArg out{0, true, std::string(prog)};
        out.index = shell_script_after(argv, j, &out.options);
        return out;
    }
    if (prog == "su" || prog == "runuser" || prog == "flock" || prog == "script") {
        // Their -c/--command string is run by a shell; options may follow operands
        // (`su app -c CMD`, `flock FILE -c CMD`), letter groups end with c (`-lc`, `-qc`) or
        // hold the command (`-cCMD`).
        for (size_t i = j + 1; i < argv.size(); ++i) {
            const std::string& a = argv[i];
            if (a == "--command" || a == "--session-command") {
                stops = true;
                return {i + 1 < argv.size() ? i + 1 : 0, true, std::string(prog)};
            }
            if (a.starts_with("--command=") || a.starts_with("--session-command=")) {
                stops = true;
                return {i, true, std::string(prog)};
            }
            if (a.size() >= 2 && a[0] == '-' && a[1] != '-') {
                const size_t c = a.find('c');
                if (c != std::string::npos) {
                    stops = true;
                    if (c + 1 < a.size()) {
                        return {i, true, std::string(prog)};
                    }
                    return {i + 1 < argv.size() ? i + 1 : 0, true, std::string(prog)};
                }
            }
        }
        return {}; // flock FILE PROGRAM ARGS, su USER: what follows may be a program
    }
    if (prog == "sqlite3" || prog == "sqlite") {
        // sqlite3 [OPTIONS] DATABASE [SQL...]: options may stand anywhere (-separator , DB),
        // every argument after the database is SQL or a dot-command (.shell runs a shell),
        // and so is each -cmd value. An option word itself is never data.
        static const std::vector<std::string_view> with_value{
            "cmd",  "init",   "newline", "nullvalue", "separator", "vfs",      "maxsize",
            "mmap", "escape", "A",       "heap",      "pagecache", "lookaside"};
        stops = true;
        ScriptArg out{0, false, std::string(prog)};
        bool database = false;
        for (size_t i = j + 1; i < argv.size(); ++i) {
            const std::string& a = argv[i];
            if (a.size() < 2 || a[0] != '-') {
                if (database) {
                    out.options.push_back(i);
                    out.index = out.index == 0 ? i : out.index;
                }
                database = true;
                continue;
            }
            out.options.push_back(i);
            std::string_view name(a);
            name.remove_prefix(a[1] == '-' ? 2 : 1);
            if (std::find(with_value.begin(), with_value.end(), name) == with_value.end()) {
                continue;
            }
            if (name == "cmd" && i + 1 < argv.size()) {
                out.options.push_back(i + 1);
                out.index = out.index == 0 ? i + 1 : out.index;
            }
            i += name == "pagecache" || name == "lookaside" ? 2 : 1;
        }
        return out;
    }
    if (CodeScan scan; code_program(argv, j, prog, scan)) {
        const std::string name = prog == "env" ? "env -S" : std::string(prog);
        ScriptArg out{scan.code_given ? scan.code_value : 0, false, name};
        out.options = scan.code;
        // env without -S runs the program that follows: a wrapper.
        stops = prog != "env" || scan.code_given;
        return out;
    }
    return {};
}

} // namespace detail

ScriptArg script_argument(const std::vector<std::string>& argv) {
    for (size_t j = 0; j < argv.size(); ++j) {
        std::string_view prog = basename_of(argv[j]);
        if (j > 0 && !is_wrapper(basename_of(argv[0])) && basename_of(argv[0]) != "busybox") {
            return {}; // only a wrapper's arguments can name the program that runs
        }
        if (prog == "busybox" && j + 1 < argv.size()) {
            ++j;
        }
        bool stops = false;
        ScriptArg own = own_arguments(argv, j, stops);
        if (stops) {
            return own;
        }
    }
    return {};
}

size_t shell_command_index(const std::vector<std::string>& argv) {
    const ScriptArg s = script_argument(argv);
    return s.shell ? s.index : 0;
}

} // namespace rollback::playbook
