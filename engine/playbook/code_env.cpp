// SPDX-License-Identifier: MIT
#include "playbook/code_env.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace rollback::playbook {
namespace {

// Each entry with where its code role is documented (docs/security.md repeats the list).
constexpr std::array<std::string_view, 54> k_names{
    // bash(1) INVOCATION / PARAMETERS; POSIX sh (ENV for interactive shells)
    "BASH_ENV", "ENV", "PS1", "PS2", "PS3", "PS4", "PROMPT_COMMAND", "SHELLOPTS", "BASHOPTS", "IFS",
    "SHELL",
    // execvp(3): which program a name runs
    "PATH",
    // glibc iconv(3) modules, OpenSSL config(5) engines
    "GCONV_PATH", "OPENSSL_CONF", "OPENSSL_ENGINES",
    // git(1) ENVIRONMENT VARIABLES
    "GIT_SSH_COMMAND", "GIT_SSH", "GIT_EDITOR", "GIT_SEQUENCE_EDITOR", "GIT_PAGER", "GIT_ASKPASS",
    "GIT_EXTERNAL_DIFF", "GIT_PROXY_COMMAND", "GIT_EXEC_PATH", "GIT_TEMPLATE_DIR", "GIT_DIR",
    "GIT_CONFIG",
    // ssh(1), and the programs many tools start: editor, pager, browser, less(1) preprocessors
    "SSH_ASKPASS", "EDITOR", "VISUAL", "PAGER", "MANPAGER", "LESSOPEN", "LESSCLOSE", "BROWSER",
    // psql(1): its start file runs \! commands; its editor and pager
    "PSQLRC", "PSQL_EDITOR", "PSQL_PAGER",
    // node(1), python(1), perlrun(1), ruby(1), the JDK's launcher
    "NODE_OPTIONS", "NODE_PATH", "PYTHONSTARTUP", "PYTHONPATH", "PYTHONHOME", "PYTHONWARNINGS",
    "PYTHONBREAKPOINT", "PERL5OPT", "PERL5LIB", "PERLLIB", "PERL5DB", "RUBYOPT", "RUBYLIB",
    "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS"};

// ld.so(8) (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT...), dyld(1), bash's exported functions
// (BASH_FUNC_name%%), git's GIT_CONFIG_PARAMETERS / GIT_CONFIG_KEY_n (core.sshCommand...).
constexpr std::array<std::string_view, 4> k_prefixes{"LD_", "DYLD_", "BASH_FUNC_", "GIT_CONFIG_"};

} // namespace

bool is_code_env_name(std::string_view name) {
    if (std::find(k_names.begin(), k_names.end(), name) != k_names.end()) {
        return true;
    }
    return std::any_of(k_prefixes.begin(), k_prefixes.end(),
                       [&](std::string_view p) { return name.substr(0, p.size()) == p; });
}

bool has_reference(std::string_view text) {
    const size_t open = text.find("{{");
    return open != std::string_view::npos && text.find("}}", open + 2) != std::string_view::npos;
}

std::string code_env_assignment(std::string_view element) {
    for (std::string_view prefix : {"--setenv=", "--env=", "-E"}) {
        if (element.starts_with(prefix)) {
            element.remove_prefix(prefix.size());
            break;
        }
    }
    const size_t eq = element.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        return "";
    }
    const std::string_view name = element.substr(0, eq);
    const bool ident = std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
    });
    return ident && is_code_env_name(name) && has_reference(element.substr(eq + 1))
               ? std::string(name)
               : "";
}

bool value_names_program(std::string_view element) {
    const size_t close = element.rfind("}}");
    return has_reference(element) && element.find('/', close + 2) == std::string_view::npos;
}

} // namespace rollback::playbook
