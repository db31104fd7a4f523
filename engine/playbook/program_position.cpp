// SPDX-License-Identifier: MIT
// Where an argv array names the program that runs: argv[0], and after each wrapper (env, sudo,
// timeout, nice, xargs, ...) the operand its options and fixed operands leave for the program.
// A value there would choose what runs (break-it 30/17), as `"$1"` in the command position of
// shell text would; env/sudo's NAME=VALUE operands before it set the program's environment.
#include "playbook/script_syntax.hpp"
#include "playbook/variables.hpp"

#include <algorithm>
#include <map>

namespace rollback::playbook {

namespace {

/// A wrapper's command line: the letters and long options that take a value (separate or
/// joined), the operands before the program (timeout's duration, chroot's directory), whether
/// NAME=VALUE operands set the program's environment first (env, sudo).
struct WrapperSyntax {
    std::string_view value_short;
    std::vector<std::string_view> value_long;
    int operands = 0;
    bool assignments = false;
};

/// su's and runuser's -s/--shell SHELL: an option whose value is the program that runs.
bool takes_program_option(std::string_view prog) {
    return prog == "su" || prog == "runuser";
}

const WrapperSyntax* wrapper_syntax(std::string_view prog) {
    static const std::map<std::string_view, WrapperSyntax> table{
        {"env", {"uCa", {"unset", "chdir", "argv0"}, 0, true}},
        {"sudo",
         {"ugChDpRrtTU",
          {"user", "group", "close-from", "chdir", "host", "prompt", "chroot", "role", "type",
           "command-timeout", "other-user"},
          0,
          true}},
        {"doas", {"uC", {}, 0, false}},
        {"timeout", {"sk", {"signal", "kill-after"}, 1, false}},
        {"nice", {"n", {"adjustment"}, 0, false}},
        {"ionice", {"cnpPu", {"class", "classdata", "pid", "pgid", "uid"}, 0, false}},
        {"stdbuf", {"ioe", {"input", "output", "error"}, 0, false}},
        {"chroot", {"", {"userspec", "groups"}, 1, false}},
        {"flock", {"wE", {"timeout", "wait", "conflict-exit-code"}, 1, false}},
        {"xargs",
         {"aEIdLnPs",
          {"arg-file", "eof", "replace", "delimiter", "max-lines", "max-args", "max-procs",
           "max-chars", "process-slot-var"},
          0,
          false}},
        {"taskset", {"", {}, 1, false}},
        {"chrt", {"TPD", {"sched-runtime", "sched-period", "sched-deadline"}, 1, false}},
        {"time", {"fo", {"format", "output"}, 0, false}},
        {"systemd-run",
         {"EpMHsu",
          {"setenv",
           "property",
           "unit",
           "machine",
           "host",
           "uid",
           "gid",
           "nice",
           "working-directory",
           "slice",
           "description",
           "service-type",
           "on-active",
           "on-boot",
           "on-startup",
           "on-unit-active",
           "on-unit-inactive",
           "on-calendar",
           "timer-property",
           "path-property",
           "socket-property"},
          0,
          false}},
        {"setpriv",
         {"",
          {"reuid", "regid", "ruid", "euid", "rgid", "egid", "groups", "inh-caps", "ambient-caps",
           "bounding-set", "securebits", "selinux-label", "apparmor-profile", "pdeathsig"},
          0,
          false}},
        {"prlimit", {"p", {"pid"}, 0, false}},
        {"unshare", {"SGRw", {"setuid", "setgid", "root", "wd"}, 0, false}},
        {"nsenter", {"tSG", {"target", "setuid", "setgid"}, 0, false}},
        {"strace", {"abeEIopPsSuXU", {"output", "signal", "trace", "user", "env"}, 0, false}},
        {"ltrace", {"aeEflnopsuxAD", {"output"}, 0, false}},
        {"runuser", {"ugGsc", {"user", "group", "supp-group", "shell", "command"}, 0, false}},
        {"su",
         {"gGscw",
          {"group", "supp-group", "shell", "command", "session-command", "whitelist-environment"},
          0,
          false}},
        // bash's exec builtin: `exec -a NAME PROG` (-c, -l take none).
        {"exec", {"a", {}, 0, false}},
        {"gosu", {"", {}, 1, false}},
        {"su-exec", {"", {}, 1, false}},
        {"setuidgid", {"", {}, 1, false}},
        {"chpst", {"ugUenlLbmdofpcr", {}, 0, false}},
        {"faketime", {"m", {}, 1, false}},
        {"numactl",
         {"CimNpPw",
          {"physcpubind", "interleave", "membind", "cpunodebind", "preferred",
           "weighted-interleave"},
          0,
          false}},
        {"cgexec", {"g", {}, 0, false}},
        {"cpulimit", {"lpe", {"limit", "pid", "exe"}, 0, false}},
        {"trickle", {"udwtlnP", {}, 0, false}},
        {"watch", {"nd", {"interval"}, 0, false}},
        {"proxychains", {"f", {}, 0, false}},
        {"proxychains4", {"f", {}, 0, false}},
        {"systemd-cat", {"tp", {"identifier", "priority", "stderr-priority"}, 0, false}},
        {"pkexec", {"", {"user"}, 0, false}},
        {"xvfb-run",
         {"nslfpe", {"server-num", "server-args", "xauth-protocol", "error-file"}, 0, false}},
    };
    auto it = table.find(prog);
    return it == table.end() ? nullptr : &it->second;
}

} // namespace

namespace detail {

size_t wrapped_program(const std::vector<std::string>& argv, size_t p,
                       std::vector<size_t>* option_programs, std::vector<size_t>* assignments) {
    static const WrapperSyntax generic{};
    const WrapperSyntax* w = wrapper_syntax(basename_of(argv[p]));
    const WrapperSyntax& syntax = w != nullptr ? *w : generic;
    const bool program_option = takes_program_option(basename_of(argv[p]));
    auto program_value = [&](size_t v) {
        if (option_programs != nullptr && v < argv.size()) {
            option_programs->push_back(v);
        }
    };
    int operands = syntax.operands;
    size_t i = p + 1;
    for (; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a.size() >= 2 && a[0] == '-' && a[1] == '-') {
            const size_t eq = a.find('=');
            const std::string_view name = std::string_view(a).substr(2, eq - 2);
            const bool is_program = program_option && name == "shell";
            if (eq == std::string::npos &&
                std::find(syntax.value_long.begin(), syntax.value_long.end(), name) !=
                    syntax.value_long.end()) {
                ++i;
                if (is_program) {
                    program_value(i);
                }
            } else if (is_program) {
                program_value(i); // --shell=PROG
            }
            continue;
        }
        if (a.size() >= 2 && a[0] == '-') {
            // A letter group: the first letter that takes a value takes the rest of the
            // group, or the next element.
            for (size_t k = 1; k < a.size(); ++k) {
                if (syntax.value_short.find(a[k]) != std::string_view::npos) {
                    const bool separate = k + 1 == a.size();
                    if (program_option && a[k] == 's') {
                        program_value(separate ? i + 1 : i);
                    }
                    i += separate ? 1 : 0;
                    break;
                }
            }
            continue;
        }
        if (syntax.assignments && a.find('=') != std::string::npos) {
            if (assignments != nullptr) {
                assignments->push_back(i);
            }
            continue;
        }
        if (operands > 0) {
            --operands;
            continue;
        }
        break;
    }
    if (basename_of(argv[p]) == "su") {
        // su permutes: `su USER -s SHELL` takes options after its operands too.
        for (size_t k = i; k < argv.size(); ++k) {
            const std::string& a = argv[k];
            if (a == "-c" || a == "--command" || a == "--session-command") {
                ++k; // a shell command string: the shell role, not a program
            } else if (a == "-s" || a == "--shell") {
                program_value(k + 1);
            } else if (a.starts_with("--shell=") || (a.starts_with("-s") && a.size() > 2)) {
                program_value(k);
            }
        }
    }
    return std::min(i, argv.size());
}

bool has_wrapper_syntax(std::string_view prog) {
    return wrapper_syntax(prog) != nullptr;
}

} // namespace detail

ProgramSlots program_slots(const std::vector<std::string>& argv) {
    ProgramSlots out;
    if (argv.empty()) {
        return out;
    }
    for (size_t p = 0; p < argv.size();) {
        out.programs.push_back(p);
        const std::string_view prog = detail::basename_of(argv[p]);
        if (prog == "busybox" && p + 1 < argv.size() && !argv[p + 1].starts_with("-")) {
            ++p; // busybox APPLET ARGS: the applet is the program
            continue;
        }
        if (prog == "find" || prog == "exec" || prog == "command" || !detail::is_wrapper(prog)) {
            break; // find -exec: the code role
        }
        const size_t i = detail::wrapped_program(argv, p, &out.programs, &out.assignments);
        if (prog == "su" || i >= argv.size() || i == p) {
            break; // su USER: the rest goes to a shell (its -s SHELL is a program)
        }
        p = i;
    }
    return out;
}

std::vector<ScriptFile> script_files(const std::vector<std::string>& argv) {
    // Where a program stands: the slots above, and after find's -exec/-execdir/-ok/-okdir
    // (with the wrappers after it: `find . -exec sudo -u app bash FILE {} ;`).
    std::vector<size_t> programs = program_slots(argv).programs;
    for (size_t i = 0; i + 1 < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "-exec" || a == "-execdir" || a == "-ok" || a == "-okdir") {
            const std::vector<std::string> rest(argv.begin() + static_cast<long>(i) + 1,
                                                argv.end());
            for (size_t p : program_slots(rest).programs) {
                programs.push_back(i + 1 + p);
            }
        }
    }
    std::vector<ScriptFile> out;
    for (size_t p : programs) {
        if (const size_t s = detail::script_operand(argv, p); s != 0) {
            out.push_back({s, p});
        }
    }
    return out;
}

} // namespace rollback::playbook
