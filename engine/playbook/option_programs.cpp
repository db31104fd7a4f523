// SPDX-License-Identifier: MIT
// Programs whose options name a program or take code (tar --to-command, rsync -e, make --eval,
// zip -TT, scp -o ProxyCommand=, gcc -wrapper): the option values that are code, in every
// spelling the program accepts — letter groups, joined values, abbreviated long options, tar's
// old bundled form (docs/playbook.md, "argv arrays").
#include "playbook/script_syntax.hpp"

#include <algorithm>

namespace rollback::playbook::detail {

namespace {

bool is_short_group(const std::string& a) {
    return a.size() >= 2 && a[0] == '-' && a[1] != '-';
}

/// The value of the letter at a[k]: the rest of the group (the element) or the next element.
void letter_value(const std::string& a, size_t k, size_t& i, ScriptArg& out) {
    out.options.push_back(k + 1 < a.size() ? i : ++i);
}

/// In a letter group: the first letter that takes a value; code letters' values are marked.
void short_group(const std::string& a, size_t& i, std::string_view with_value,
                 std::string_view code, ScriptArg& out) {
    for (size_t k = 1; k < a.size(); ++k) {
        if (code.find(a[k]) != std::string_view::npos) {
            letter_value(a, k, i, out);
            return;
        }
        if (with_value.find(a[k]) != std::string_view::npos) {
            i += k + 1 < a.size() ? 0 : 1;
            return;
        }
    }
}

bool tar_like(const std::vector<std::string>& argv, size_t j, bool rsync, ScriptArg& out) {
    static const std::vector<std::string_view> rsync_long{"--rsh", "--rsync-path"};
    static const std::vector<std::string_view> tar_long{
        "--to-command",        "--checkpoint-action", "--use-compress-program", "--info-script",
        "--new-volume-script", "--rsh-command",       "--rmt-command"};
    size_t i = j + 1;
    if (!rsync && i < argv.size() && !argv[i].empty() && argv[i][0] != '-') {
        // tar's old form: the first word is option letters, their values the next elements
        // in order (`tar cIf PROG out.tar FILES`).
        const std::string& letters = argv[i];
        size_t value = i + 1;
        for (char c : letters) {
            if (std::string_view("bCfFgHIKLNTVX").find(c) == std::string_view::npos) {
                continue;
            }
            if (c == 'I' || c == 'F') {
                out.options.push_back(value);
            }
            ++value;
        }
        i = value;
    }
    for (; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        const auto& names = rsync ? rsync_long : tar_long;
        if (std::any_of(names.begin(), names.end(),
                        [&](std::string_view n) { return long_code_option(argv, i, n, out); })) {
            continue;
        }
        if (is_short_group(a)) {
            short_group(a, i, rsync ? "BfTM" : "bCfgHKLNTVX", rsync ? "e" : "IF", out);
        }
    }
    return true;
}

/// make: --eval/-E is makefile text, and so is the value of every `VAR=VALUE` operand (a
/// recursively expanded variable: `$(shell ...)` in it runs where the makefile uses it); the
/// makefile itself (-f/--file/--makefile) is the program (break-it 41/02).
bool make_syntax(const std::vector<std::string>& argv, size_t j, ScriptArg& out) {
    for (size_t i = j + 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (long_code_option(argv, i, "--eval", out) || long_code_option(argv, i, "--file", out) ||
            long_code_option(argv, i, "--makefile", out)) {
            continue;
        }
        if (a.starts_with("--")) {
            static const std::vector<std::string_view> with_value{
                "--directory", "--include-dir", "--old-file", "--assume-old",
                "--new-file",  "--assume-new",  "--what-if"};
            i += std::find(with_value.begin(), with_value.end(), a) != with_value.end() ? 1 : 0;
        } else if (is_short_group(a)) {
            short_group(a, i, "CIoW", "Ef", out);
        } else if (a.find('=') != std::string::npos) {
            out.options.push_back(i);
        }
    }
    return true;
}

/// zip -TT CMD / --unzip-command CMD: the command that tests the archive, run by a shell.
bool zip_syntax(const std::vector<std::string>& argv, size_t j, ScriptArg& out) {
    for (size_t i = j + 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (long_code_option(argv, i, "--unzip-command", out)) {
            continue;
        }
        if (is_short_group(a) && a.find("TT") != std::string::npos) {
            out.options.push_back(a.ends_with("TT") ? ++i : i);
        }
    }
    return true;
}

/// scp/sftp start ssh with their -o options and -F file; -S names the ssh program, -D the
/// sftp server program, sftp -s the subsystem or server.
bool scp_syntax(const std::vector<std::string>& argv, size_t j, bool sftp, ScriptArg& out) {
    for (size_t i = j + 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (is_short_group(a)) {
            short_group(a, i, sftp ? "BbcDFiJlPRSsX" : "cDFiJlPSX", sftp ? "oFSDs" : "oFSD", out);
        }
    }
    return true;
}

/// npx -c CMD, npm exec -c/--call CMD (run by sh -c), and the package npx or npm exec runs.
bool npm_syntax(const std::vector<std::string>& argv, size_t j, bool npx, ScriptArg& out) {
    bool exec = npx;
    for (size_t i = j + 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (long_code_option(argv, i, "--call", out) ||
            long_code_option(argv, i, "--package", out)) {
            continue;
        }
        if (is_short_group(a)) {
            short_group(a, i, "", "cp", out);
        } else if (!a.starts_with("-") && exec) {
            out.options.push_back(i); // the package to run: code
            exec = false;
        } else if (a == "exec" || a == "x") {
            exec = true;
        }
    }
    return true;
}

bool is_compiler(std::string_view prog) {
    return prog == "cc" || prog == "c++" || prog.starts_with("gcc") || prog.starts_with("g++") ||
           prog.starts_with("clang") || prog.ends_with("-gcc") || prog.ends_with("-g++") ||
           prog.find("-gcc-") != std::string_view::npos ||
           prog.find("-g++-") != std::string_view::npos;
}

/// gcc/clang: -wrapper runs the compiler's subprocesses under a program (`sh,-c,CMD`),
/// -fplugin/-fpass-plugin load code, -B and -specs choose the programs it runs.
bool compiler_syntax(const std::vector<std::string>& argv, size_t j, ScriptArg& out) {
    for (size_t i = j + 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "-wrapper" || a == "-B" || a == "-specs" || a == "--specs" || a == "-Xclang" ||
            a == "-load" || a == "-fplugin" || a == "-Xlinker") {
            out.options.push_back(++i);
        } else if (a.starts_with("-fplugin") || a.starts_with("-fpass-plugin") ||
                   a.starts_with("-B") || a.starts_with("-specs=") || a.starts_with("--specs=") ||
                   a.starts_with("-Wl,") || a.starts_with("-wrapper")) {
            out.options.push_back(i);
        }
    }
    return true;
}

} // namespace

bool long_code_option(const std::vector<std::string>& argv, size_t& i, std::string_view name,
                      ScriptArg& out) {
    const std::string& a = argv[i];
    if (!a.starts_with("--") || a.size() < 4) {
        return false;
    }
    const size_t eq = a.find('=');
    const std::string_view key = std::string_view(a).substr(0, eq);
    // Options of these programs that are a prefix of a code option, taken whole.
    static const std::vector<std::string_view> others{"--checkpoint", "--to", "--cc", "--header",
                                                      "--exec-path"};
    if (key != name &&
        (!name.starts_with(key) || std::find(others.begin(), others.end(), key) != others.end())) {
        return false;
    }
    out.options.push_back(eq == std::string::npos ? ++i : i);
    return true;
}

/// java: what the JVM loads as code — an agent (-javaagent:, -agentpath:, -agentlib:), the
/// class path and module path (-cp, -classpath, --class-path, -p, --module-path), a boot class
/// path, -XX: settings (OnError= and OnOutOfMemoryError= run commands), the jar (-jar) or the
/// main class it runs. The arguments after the main class or jar are data.
bool java_syntax(const std::vector<std::string>& argv, size_t j, ScriptArg& out) {
    static const std::vector<std::string_view> path_next{
        "-cp",  "-classpath", "--class-path", "-p", "--module-path", "--upgrade-module-path",
        "-jar", "-m",         "--module"};
    static const std::vector<std::string_view> joined{
        "-javaagent:", "-agentpath:",   "-agentlib:",     "-Xbootclasspath",
        "-XX:",        "--class-path=", "--module-path=", "--module="};
    for (size_t i = j + 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (std::find(path_next.begin(), path_next.end(), a) != path_next.end()) {
            out.options.push_back(i);
            out.options.push_back(i + 1);
            if (a == "-jar" || a == "-m" || a == "--module") {
                return true; // the program; its arguments follow
            }
            ++i;
        } else if (std::any_of(joined.begin(), joined.end(),
                               [&](std::string_view p) { return a.starts_with(p); })) {
            out.options.push_back(i);
        } else if (!a.starts_with("-")) {
            out.options.push_back(i); // the main class
            return true;
        }
    }
    return true;
}

bool option_program_arguments(const std::vector<std::string>& argv, size_t j, std::string_view prog,
                              ScriptArg& out) {
    if (prog == "java") {
        out = {0, false, "java"};
        return java_syntax(argv, j, out);
    }
    out = {0, false, std::string(prog)};
    if (prog == "rsync" || prog == "tar" || prog == "gtar" || prog == "bsdtar") {
        return tar_like(argv, j, prog == "rsync", out);
    }
    if (prog == "make" || prog == "gmake" || prog == "remake") {
        return make_syntax(argv, j, out);
    }
    if (prog == "zip") {
        return zip_syntax(argv, j, out);
    }
    if (prog == "scp" || prog == "sftp") {
        return scp_syntax(argv, j, prog == "sftp", out);
    }
    if (prog == "npx" || prog == "npm" || prog == "pnpx") {
        return npm_syntax(argv, j, prog != "npm", out);
    }
    if (is_compiler(prog)) {
        return compiler_syntax(argv, j, out);
    }
    return false;
}

} // namespace rollback::playbook::detail
