// SPDX-License-Identifier: MIT
// Programs that run an argument as code by a syntax of their own (watch, ssh, git -c, ...), the
// roles of every element of an argv array, and shell scripts that run what they read as code.
#include "playbook/script_syntax.hpp"

#include <algorithm>
#include <cctype>

namespace rollback::playbook {

namespace detail {

std::string_view command_option(std::string_view a) {
    if (a.size() < 4 || a[0] != '-') {
        return {};
    }
    std::string_view name = a.substr(0, a.find('='));
    const size_t dashes = name.find_first_not_of('-');
    if (dashes == std::string_view::npos) {
        return {}; // "----", "---=x": dashes only, no option name
    }
    const std::string_view bare = name.substr(dashes);
    static const std::vector<std::string_view> whole{"eval", "exec", "execute",    "command",
                                                     "call", "cmd",  "entrypoint", "shell"};
    static const std::vector<std::string_view> ends{"-command", "-cmd",     "-hook", "-eval",
                                                    "-exec",    "-program", "-shell"};
    const bool hit = std::find(whole.begin(), whole.end(), bare) != whole.end() ||
                     std::any_of(ends.begin(), ends.end(),
                                 [&](std::string_view e) { return bare.ends_with(e); });
    return hit ? name : std::string_view();
}

namespace {

bool is_short_group(const std::string& a) {
    return a.size() >= 2 && a[0] == '-' && a[1] != '-';
}

/// watch [options] COMMAND...: the words are joined and run by `sh -c` unless -x/--exec.
bool watch_syntax(const std::vector<std::string>& argv, size_t j, ScriptArg& out) {
    size_t i = j + 1;
    for (; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a == "-x" || a == "--exec") {
            return false; // argv mode: a wrapper like timeout
        }
        if (a == "-n" || a == "--interval" || a == "-q" || a == "--equexit") {
            ++i;
            continue;
        }
        if (a.starts_with("--")) {
            continue;
        }
        if (!is_short_group(a)) {
            break;
        }
        if (a.find('x') != std::string::npos && a.find('n') == std::string::npos) {
            return false;
        }
        if (a.back() == 'n' || a.back() == 'q') {
            ++i;
        }
    }
    if (i >= argv.size()) {
        return false;
    }
    out = {i, false, "watch (through sh -c)"};
    out.to_end = true;
    return true;
}

/// ssh [options] DESTINATION [COMMAND...]: the command words are joined and run by the remote
/// user's shell; `-o` values may be commands (ProxyCommand, LocalCommand, KnownHostsCommand).
bool ssh_syntax(const std::vector<std::string>& argv, size_t j, ScriptArg& out) {
    static const std::string_view with_value = "BbcDEeFIiJLlmOoPpQRSWw";
    out = {0, false, "ssh (the remote shell)"};
    size_t i = j + 1;
    for (; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (!is_short_group(a)) {
            break;
        }
        for (size_t k = 1; k < a.size(); ++k) {
            if (with_value.find(a[k]) == std::string_view::npos) {
                continue;
            }
            const bool joined = k + 1 < a.size();
            if (!joined) {
                ++i;
            }
            if (a[k] == 'o' || a[k] == 'F') {
                out.options.push_back(i); // an option, or a config file's ProxyCommand
            }
            break;
        }
    }
    if (i + 1 < argv.size()) {
        out.index = i + 1;
        out.to_end = true;
    }
    return true;
}

/// A git configuration key known to be data (docs/playbook.md): a value may be its value. Every
/// other key may name a command git runs (core.pager, merge.NAME.driver, gpg.ssh.
/// defaultKeyCommand, uploadpack.packObjectsHook, remote.NAME.vcs, ...): default-deny, as the
/// list of command keys grows with every git release (break-it 45 F2).
bool git_data_key(std::string name) {
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static const std::vector<std::string_view> data{
        "user.name",       "user.email",         "author.name",  "author.email", "committer.name",
        "committer.email", "init.defaultbranch", "push.default", "pull.rebase",  "core.autocrlf"};
    return std::find(data.begin(), data.end(), name) != data.end();
}

constexpr std::string_view k_not_data =
    "not a key known to be data, user.name or user.email: git may run its value as a command";

/// `-c KEY=VALUE`: data only for a data key (a reference in KEY chooses the key).
bool git_data_assignment(const std::string& a) {
    const size_t eq = a.find('=');
    return eq != std::string::npos && git_data_key(a.substr(0, eq));
}

/// `git config [OPTIONS] [set|get|unset|...] NAME [VALUE [PATTERN]]` (the old --add,
/// --replace-all, --get, --rename-section modes too): the NAME set (a value would choose the
/// key) and the VALUE of every key that is not known data are code.
void git_config_operands(const std::vector<std::string>& argv, size_t i, ScriptArg& out) {
    static const std::vector<std::string_view> reading{"get",
                                                       "unset",
                                                       "list",
                                                       "remove-section",
                                                       "edit",
                                                       "--get",
                                                       "--get-all",
                                                       "--get-regexp",
                                                       "--get-urlmatch",
                                                       "--unset",
                                                       "--unset-all",
                                                       "--remove-section",
                                                       "--list",
                                                       "-l",
                                                       "--edit",
                                                       "-e",
                                                       "--get-color",
                                                       "--get-colorbool"};
    static const std::vector<std::string_view> with_value{
        "-f", "--file", "--blob", "--type", "--default", "--comment", "--value", "-t"};
    auto in = [](const std::vector<std::string_view>& v, std::string_view a) {
        return std::find(v.begin(), v.end(), a) != v.end();
    };
    bool setting = true;
    bool rename = false;
    bool options = true;
    std::vector<size_t> operands;
    for (size_t k = i + 1; k < argv.size(); ++k) {
        const std::string& a = argv[k];
        if (options && a == "--") {
            options = false;
        } else if (options && a.size() > 1 && a[0] == '-') {
            setting = setting && !in(reading, a);
            rename = rename || a == "--rename-section";
            k += in(with_value, a) ? 1 : 0;
        } else if (operands.empty() && k == i + 1 &&
                   (a == "set" || a == "rename-section" || in(reading, a))) {
            setting = a == "set";
            rename = a == "rename-section";
        } else {
            operands.push_back(k);
        }
    }
    if (operands.empty() || (!setting && !rename)) {
        return;
    }
    out.options.push_back(operands[0]);
    if (operands.size() > 1 && (rename || !git_data_key(argv[operands[0]]))) {
        out.options.push_back(operands[1]);
        out.program = "git config " + argv[operands[0]] + " (" + std::string(k_not_data) + ")";
    }
}

/// git: configuration given on the command line (`-c alias.x=!cmd`, `core.pager`, ...), the
/// programs of clone/fetch/push (`--upload-pack`), `rebase -x`, `submodule foreach`,
/// `filter-branch --*-filter`, `difftool -x`, and `git config NAME VALUE` for a command name.
bool git_syntax(const std::vector<std::string>& argv, size_t j, ScriptArg& out) {
    out = {0, false, "git"};
    size_t i = j + 1;
    for (; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "-c") {
            if (++i < argv.size() && !git_data_assignment(argv[i])) {
                out.options.push_back(i);
                out.program = "git -c " + argv[i].substr(0, argv[i].find('=')) + " (" +
                              std::string(k_not_data) + ")";
            }
        } else if (a == "--config-env") {
            out.options.push_back(++i);
        } else if (a.starts_with("--config-env=") || a.starts_with("--exec-path=")) {
            out.options.push_back(i);
        } else if (a == "-C" || a == "--git-dir" || a == "--work-tree") {
            // The repository a value would choose runs its own configuration (core.fsmonitor,
            // core.pager, hooks), as GIT_DIR would.
            out.options.push_back(++i);
        } else if (a.starts_with("--git-dir=") || a.starts_with("--work-tree=")) {
            out.options.push_back(i);
        } else if (a == "--namespace") {
            ++i;
        } else if (!a.starts_with("-")) {
            break;
        }
    }
    if (i >= argv.size()) {
        return true;
    }
    const std::string sub = argv[i];
    if (sub == "config") {
        git_config_operands(argv, i, out);
        return true;
    }
    for (size_t k = i + 1; k < argv.size(); ++k) {
        const std::string& b = argv[k];
        // Options that take a command (abbreviated too: git takes a unique prefix).
        static const std::vector<std::string_view> commands{
            "--upload-pack", "--receive-pack",       "--exec",        "--extcmd",
            "--config",      "--sendmail-cmd",       "--smtp-server", "--to-cmd",
            "--cc-cmd",      "--header-cmd",         "--access-hook", "--httpd",
            "--browser",     "--open-files-in-pager"};
        if (std::any_of(commands.begin(), commands.end(), [&](std::string_view name) {
                return long_code_option(argv, k, name, out);
            })) {
            continue;
        }
        if (sub == "grep" && is_short_group(b) && b.find('O') != std::string::npos &&
            !b.ends_with("O")) {
            out.options.push_back(k); // -O[PAGER], joined: the pager runs through a shell
            continue;
        }
        if (sub == "bisect" && b == "run") {
            out.index = k + 1 < argv.size() ? k + 1 : 0;
            out.to_end = true;
            break;
        }
        if ((b == "-u" && (sub == "clone" || sub == "fetch" || sub == "ls-remote")) ||
            (b == "-c" && sub == "clone") ||
            (b == "-x" && (sub == "rebase" || sub == "difftool")) ||
            ((b == "-d" || b == "-b") && sub == "instaweb") ||
            (sub == "filter-branch" && b.starts_with("--") && b.ends_with("-filter"))) {
            out.options.push_back(++k);
        } else if (sub == "submodule" && b == "foreach") {
            out.index = k + 1 < argv.size() ? k + 1 : 0;
            out.to_end = true;
            break;
        }
    }
    return true;
}

} // namespace

bool program_code_arguments(const std::vector<std::string>& argv, size_t j, std::string_view prog,
                            ScriptArg& out) {
    if (prog == "watch") {
        return watch_syntax(argv, j, out);
    }
    if (prog == "ssh" || prog == "autossh") {
        return ssh_syntax(argv, j, out);
    }
    if (prog == "git") {
        return git_syntax(argv, j, out);
    }
    if (option_program_arguments(argv, j, prog, out)) {
        return true;
    }
    if (prog == "tmux" || prog == "screen" || prog == "parallel" || prog == "sem") {
        // Commands given as strings (new-session, send-keys, -X stuff, parallel's template)
        // are run by a shell or typed into one.
        out = {j + 1 < argv.size() ? j + 1 : 0, false, std::string(prog)};
        out.to_end = true;
        return true;
    }
    if (prog == "sg") {
        // sg [-] GROUP [-c] COMMAND: COMMAND is run by /bin/sh -c.
        size_t i = j + 1;
        if (i < argv.size() && argv[i] == "-") {
            ++i;
        }
        ++i;
        if (i < argv.size() && argv[i] == "-c") {
            ++i;
        }
        out = {i < argv.size() ? i : 0, true, "sg"};
        return true;
    }
    return false;
}

} // namespace detail

using namespace detail;

ArgRoles argument_roles(const std::vector<std::string>& argv) {
    ArgRoles r;
    r.role.assign(argv.size(), ArgRole::data);
    r.program.assign(argv.size(), "");
    auto mark = [&](size_t i, ArgRole role, const std::string& program) {
        if (i < argv.size() && role > r.role[i]) {
            r.role[i] = role;
            r.program[i] = program;
        }
    };
    // Every element taken as a program, wherever it stands: what it runs among the elements
    // after it (indices are into argv itself).
    for (size_t j = 0; j < argv.size(); ++j) {
        bool stops = false;
        const ScriptArg s = own_arguments(argv, j, stops);
        if (s.index != 0) {
            mark(s.index, s.shell ? ArgRole::shell : ArgRole::code, s.program);
            for (size_t k = s.index + 1; s.to_end && k < argv.size(); ++k) {
                mark(k, ArgRole::code, s.program);
            }
        }
        for (size_t k : s.options) {
            mark(k, ArgRole::code, s.program);
        }
    }
    // find's actions that run a program (-exec, -execdir, -ok, -okdir): the program is code,
    // what follows up to `;` or `+` its arguments (break-it 45 F3).
    for (size_t j = 0; j < argv.size(); ++j) {
        if (basename_of(argv[j]) != "find") {
            continue;
        }
        for (size_t k = j + 1; k + 1 < argv.size(); ++k) {
            const std::string& a = argv[k];
            if (a == "-exec" || a == "-execdir" || a == "-ok" || a == "-okdir") {
                mark(k + 1, ArgRole::code, "find " + a);
            }
        }
    }
    // On any program, known or not: a long option whose name says it takes a command
    // (--eval, --exec, --command, --call, --*-cmd, --*-hook, --entrypoint, --shell).
    for (size_t i = 0; i < argv.size(); ++i) {
        if (const std::string_view name = command_option(argv[i]); !name.empty()) {
            mark(argv[i].find('=') == std::string::npos ? i + 1 : i, ArgRole::code,
                 std::string(basename_of(argv[0])) + " " + std::string(name));
        }
    }
    return r;
}

namespace detail {

namespace {

/// The first operand after the options of the program at words[j] (options with a value
/// skipped as `skip_value` says), or the end.
size_t first_operand(const std::vector<std::string>& words, size_t j, std::string_view with_value,
                     bool& saw_s) {
    for (size_t i = j + 1; i < words.size(); ++i) {
        const std::string& a = words[i];
        if (a == "--") {
            return i + 1;
        }
        if (a == "-" || a == "<(" || a.size() < 2 || (a[0] != '-' && a[0] != '+')) {
            return i;
        }
        if (a[1] != '-' && a.find('s') != std::string::npos) {
            saw_s = true;
        }
        if (a.size() == 2 && with_value.find(a[1]) != std::string_view::npos) {
            ++i;
        } else if (a == "--rcfile" || a == "--init-file") {
            ++i;
        }
    }
    return words.size();
}

/// What the program at words[j] runs as code from its input, or empty.
std::string reads_code(const std::vector<std::string>& words, size_t j) {
    const std::string prog(basename_of(words[j]));
    const auto operand_reads = [&](std::string_view with_value) {
        bool saw_s = false;
        const size_t k = first_operand(words, j, with_value, saw_s);
        return saw_s || k >= words.size() || is_stdin_path(words[k]);
    };
    if (prog == "eval") {
        return "eval";
    }
    if (std::string p = program_from_stdin(words, j, prog); !p.empty()) {
        return p;
    }
    if (prog == "trap" && j + 1 < words.size() && words[j + 1].find('$') != std::string::npos) {
        return "trap running an expanded variable";
    }
    if ((prog == "source" || prog == ".") && j + 1 < words.size() && is_stdin_path(words[j + 1])) {
        return prog + " " + words[j + 1];
    }
    if (is_shell(prog)) {
        return shell_script_after(words, j) == 0 && operand_reads("oO") ? prog : "";
    }
    if (is_interpreter(prog)) {
        if (interpreter_code(words, j, prog) != 0 ||
            std::find(words.begin() + static_cast<long>(j), words.end(), "-m") != words.end()) {
            return "";
        }
        bool saw_s = false;
        const size_t k = first_operand(words, j, "WXIMr", saw_s);
        return k >= words.size() || is_stdin_path(words[k]) ? prog : "";
    }
    if (prog == "psql" || prog == "mysql" || prog == "mariadb" || prog == "sqlite3") {
        for (size_t i = j + 1; i < words.size(); ++i) {
            const std::string& a = words[i];
            if (a == "-c" || a == "-e" || a == "-f" || a.starts_with("--command") ||
                a.starts_with("--execute") || a.starts_with("--file")) {
                return "";
            }
        }
        if (prog == "sqlite3") {
            // SQL after the database: not reading its input (a -cmd runs, then it reads).
            bool stops = false;
            const ScriptArg sql = own_arguments(words, j, stops);
            for (size_t k : sql.options) {
                if (k < words.size() && !words[k].starts_with("-") && words[k - 1] != "-cmd" &&
                    words[k - 1] != "--cmd") {
                    return "";
                }
            }
        }
        return prog + " (SQL)";
    }
    if (prog == "at" || prog == "batch") {
        return std::find(words.begin() + static_cast<long>(j), words.end(), "-f") == words.end()
                   ? prog
                   : "";
    }
    if (prog == "crontab" && j + 1 < words.size() && words.back() == "-") {
        return prog;
    }
    if (prog == "ssh" || prog == "autossh") {
        ScriptArg s;
        ssh_syntax(words, j, s);
        if (s.index == 0) {
            return prog + " (the remote shell)";
        }
        const std::string remote = reads_code(words, s.index);
        return remote.empty() ? "" : prog + " ... " + remote;
    }
    if (prog == "xargs") {
        const std::vector<std::string> rest(words.begin() + static_cast<long>(j), words.end());
        const ArgRoles roles = argument_roles(rest);
        for (size_t i = 0; i < roles.role.size(); ++i) {
            if (roles.role[i] != ArgRole::data) {
                return "xargs running " + roles.program[i];
            }
        }
    }
    return "";
}

} // namespace

} // namespace detail

std::string stdin_code_reader(std::string_view script) {
    for (const auto& words : detail::simple_commands(script)) {
        size_t j = 0;
        static const std::vector<std::string_view> keywords{
            "{", "}", "!", "if", "then", "else", "elif", "do", "while", "until", "time"};
        while (j < words.size() &&
               ((words[j].find('=') != std::string::npos && words[j].find('=') != 0 &&
                 !words[j].starts_with("-")) ||
                std::find(keywords.begin(), keywords.end(), words[j]) != keywords.end())) {
            ++j; // NAME=value and keywords before the command
        }
        if (j >= words.size()) {
            continue;
        }
        // The program, or after a wrapper (sudo -u app bash, timeout 5 sh) any later word.
        static const std::vector<std::string_view> runners{"busybox", "docker",     "podman",
                                                           "kubectl", "lxc-attach", "machinectl"};
        const std::string_view prog = detail::basename_of(words[j]);
        // (An expansion that is only the directory of a fixed program, `"$D"/bin/tool`, is not.)
        const std::string& w = words[j];
        const size_t last = w.rfind('$');
        size_t after = last == std::string::npos ? last : last + 1;
        if (after < w.size() && w[after] == '{') {
            after = w.find('}', after);
        }
        if (last != std::string::npos &&
            (after >= w.size() || w.find('/', after) == std::string::npos)) {
            // `"$0" -c "$1"`, `${SHELL:-sh} -c`, `$e "$1"` with e=eval: any program may run.
            return "a command named by an expansion (" + words[j] + ")";
        }
        const bool wrapped = detail::is_wrapper(prog) || prog == "builtin" ||
                             std::find(runners.begin(), runners.end(), prog) != runners.end();
        // A shell's or interpreter's code built from an expansion (`sh -c "$x"`,
        // `python3 -c "$1"`, `su app -c "$CMD"`): whatever the variable holds runs.
        const std::vector<std::string> command(words.begin() + static_cast<long>(j), words.end());
        const ArgRoles roles = argument_roles(command);
        for (size_t i = 0; i < roles.role.size(); ++i) {
            if (roles.role[i] != ArgRole::data && command[i].find('$') != std::string::npos) {
                return roles.program[i] + " running an expanded variable as code";
            }
        }
        for (size_t k = j; k < (wrapped ? words.size() : j + 1); ++k) {
            if (std::string p = detail::reads_code(words, k); !p.empty()) {
                return p;
            }
        }
    }
    return "";
}

} // namespace rollback::playbook
