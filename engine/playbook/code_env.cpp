// SPDX-License-Identifier: MIT
#include "playbook/code_env.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace rollback::playbook {
namespace {

struct Named {
    std::string_view name;
    std::string_view why;
};

// Names known by their program, with where their code role is documented (docs/security.md
// repeats the list). Exact and case-sensitive, like the environment itself.
constexpr std::string_view k_bash = "bash(1) expands, sources or evaluates it";
constexpr std::string_view k_search = "a program searches it for the code it runs or loads";
constexpr std::string_view k_runs = "a program runs it as a command";
constexpr std::string_view k_opts = "a program reads it as its command-line options";
constexpr std::string_view k_start = "a program runs the commands it holds or names at start";
constexpr std::array<Named, 43> k_names{{
    // bash(1) INVOCATION / PARAMETERS; POSIX sh (ENV for interactive shells); zsh(1) STARTUP
    {"BASH_ENV", k_bash},
    {"ENV", k_bash},
    {"PS1", k_bash},
    {"PS2", k_bash},
    {"PS3", k_bash},
    {"PS4", k_bash},
    {"PROMPT", k_bash},
    {"RPROMPT", k_bash},
    {"IFS", "it changes how the shell splits every unquoted expansion"},
    {"ZDOTDIR", "zsh(1) sources .zshenv and its other start files from that directory"},
    {"FPATH", k_search},
    // execvp(3), and the search paths of interpreters written as one word (CLASSPATH, ...)
    {"PATH", k_search},
    {"CLASSPATH", k_search},
    {"GCONV_PATH", "glibc iconv(3) loads modules from it"},
    {"OPENSSL_ENGINES", "OpenSSL loads engines from it"},
    {"OPENSSL_MODULES", "OpenSSL loads providers from it"},
    // the programs many tools start: editor, pager, browser; less(1) and its preprocessors
    {"VISUAL", k_runs},
    {"FCEDIT", k_runs},
    {"LESSEDIT", k_runs},
    {"LESS", "less(1) reads it as options, and +CMD runs less commands (!cmd runs a shell)"},
    {"LESSOPEN", "less(1) runs it through sh"},
    {"LESSCLOSE", "less(1) runs it through sh"},
    {"LESSKEY", "less(1) loads key bindings (shell escapes) from it"},
    {"LESSKEYIN", "less(1) loads key bindings (shell escapes) from it"},
    {"MORE", k_opts},
    // compressors read their options from the environment (gzip(1) GZIP, zip(1) ZIPOPT)
    {"GZIP", k_opts},
    {"BZIP", k_opts},
    {"BZIP2", k_opts},
    {"ZIP", k_opts},
    {"UNZIP", k_opts},
    {"ZIPINFO", k_opts},
    {"XZ_DEFAULTS", k_opts},
    // make(1): MAKEFILES are read as makefiles first ($(shell ...) runs)
    {"MAKEFILES", "make(1) reads the makefiles it names first"},
    // vim(1) and ex(1): the runtime files and rc loaded at start
    {"VIM", "vim(1) loads its runtime files (Vim script) from it"},
    {"VIMRUNTIME", "vim(1) loads its runtime files (Vim script) from it"},
    // R, KDE/GTK-style and generic start-up files
    {"R_PROFILE", k_start},
    {"R_PROFILE_USER", k_start},
    {"R_ENVIRON", k_start},
    {"R_ENVIRON_USER", k_start},
    {"R_LIBS", k_search},
    {"R_LIBS_USER", k_search},
    {"HOME", "programs read their configuration from it (~/.gitconfig, ~/.bashrc), and "
             "configuration runs commands (core.fsmonitor, aliases)"},
    {"SHELL", "programs run $SHELL as the shell"},
}};

// Names by family (a prefix): each program of the family reads options, start files or code
// from variables named so.
constexpr std::array<Named, 17> k_prefixes{{
    {"LD_", "the dynamic loader ld.so(8) loads code from it"},
    {"DYLD_", "the dynamic loader dyld(1) loads code from it"},
    {"BASH_FUNC_", "bash imports it as a function"},
    {"GIT_", "git(1) runs commands, reads configuration (GIT_CONFIG_*) and chooses the "
             "repository and its hooks (GIT_DIR) from GIT_* variables"},
    {"PYTHON", "python(1) reads start files, module paths and options from PYTHON* variables"},
    {"PERL5", "perlrun(1) reads options and module paths from PERL5* variables"},
    {"PERL", "perlrun(1) reads options and module paths from PERL* variables"},
    {"RUBY", "ruby(1) reads options and library paths from RUBY* variables"},
    {"NODE_", "node(1) reads options and module paths from NODE_* variables"},
    {"LUA_", "lua(1) runs LUA_INIT* and searches LUA_PATH* for modules"},
    {"NPM_CONFIG_", "npm reads its configuration (script-shell, node-options) from it"},
    {"GEM_", "RubyGems loads gems (code) from GEM_* directories"},
    {"BUNDLE_", "Bundler reads its configuration and Gemfile (Ruby) from BUNDLE_* variables"},
    {"DOTNET_", ".NET reads start-up hooks and options from DOTNET_* variables"},
    {"PHP", "php reads php.ini (auto_prepend_file) from PHP* variables"},
    {"TCL", "tclsh searches TCL* variables for the code it loads"},
    {"XDG_", "programs read their configuration (git, systemd, shells) from XDG directories"},
}};

// Names by the convention of their last word (upper-cased): what such a variable carries.
constexpr std::array<Named, 30> k_suffixes{{
    {"FLAGS", "a name ending in FLAGS carries a program's options (make reads MAKEFLAGS as "
              "command-line options: --eval runs code)"},
    {"OPTIONS", "a name ending in OPTIONS carries a program's options (TAR_OPTIONS: "
                "--checkpoint-action=exec runs code)"},
    {"OPTS", "a name ending in OPTS carries a program's options"},
    {"OPT", "a name ending in OPT carries a program's options (ZIPOPT: -TT runs a command)"},
    {"RSH", "a name ending in RSH names the remote shell a program runs (RSYNC_RSH, CVS_RSH)"},
    {"_SSH", "a name ending in _SSH names the ssh program a program runs"},
    {"INIT", "a name ending in INIT holds start-up code a program runs (LUA_INIT, EXINIT, "
             "VIMINIT)"},
    {"RC", "a name ending in RC names a start-up file a program runs commands from (PSQLRC, "
           "MYVIMRC)"},
    {"EDITOR", "a name ending in EDITOR names a program that is run as the editor"},
    {"PAGER", "a name ending in PAGER names a program that is run as the pager"},
    {"BROWSER", "a name ending in BROWSER names a program that is run as the browser"},
    {"ASKPASS", "a name ending in ASKPASS names a program that is run for a password"},
    {"COMMAND", "a name ending in COMMAND holds a command that is run"},
    {"CMD", "a name ending in CMD holds a command that is run"},
    {"HOOK", "a name ending in HOOK names a hook that is run"},
    {"HOOKS", "a name ending in HOOKS names hooks that are run"},
    {"PROG", "a name ending in PROG names a program that is run (RSYNC_CONNECT_PROG)"},
    {"PROGRAM", "a name ending in PROGRAM names a program that is run"},
    {"SHELL", "a name ending in SHELL names the shell a program runs commands with"},
    {"STARTUP", "a name ending in STARTUP names start-up code a program runs"},
    {"HOME", "a name ending in HOME names the directory a program loads its configuration or "
             "code from (JAVA_HOME, CURL_HOME, GNUPGHOME)"},
    {"CONFIG", "a name ending in CONFIG names a configuration a program reads, and "
               "configuration can run commands (KUBECONFIG's exec plugins)"},
    {"CONF", "a name ending in CONF names a configuration a program reads, and configuration "
             "can load code (OPENSSL_CONF's engines)"},
    {"CONFIG_FILE", "a name ending in CONFIG_FILE names a configuration a program reads"},
    {"CONFIG_DIR", "a name ending in CONFIG_DIR names where a program reads its configuration"},
    {"LIBPATH", "a name ending in LIBPATH is a search path code is loaded from"},
    {"LOADPATH", "a name ending in LOADPATH is a search path code is loaded from"},
    {"PLUGIN_PATH", "a name ending in PLUGIN_PATH is a search path plugins are loaded from"},
    {"MODULE_PATH", "a name ending in MODULE_PATH is a search path modules are loaded from"},
    {"PRELOAD", "a name ending in PRELOAD names code loaded into a program"},
}};

// Data by name although a rule above would take them: git's identity of a commit, node's
// deployment mode.
constexpr std::array<std::string_view, 7> k_data{
    "GIT_AUTHOR_NAME",     "GIT_AUTHOR_EMAIL",   "GIT_AUTHOR_DATE", "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_DATE", "NODE_ENV"};

std::string upper(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

} // namespace

std::string code_env_reason(std::string_view name) {
    if (name.empty() || std::find(k_data.begin(), k_data.end(), name) != k_data.end()) {
        return "";
    }
    for (const Named& n : k_names) {
        if (n.name == name) {
            return std::string(n.why);
        }
    }
    // Families and conventions are read without case: npm_config_*, lowercase proxies and
    // options of tools that accept either spelling.
    const std::string up = upper(name);
    for (const Named& p : k_prefixes) {
        if (up.starts_with(p.name) && up.size() > p.name.size()) {
            return std::string(p.why);
        }
    }
    for (const Named& s : k_suffixes) {
        if (up.ends_with(s.name) && !(s.name == "RC" && up.ends_with("SRC"))) {
            return std::string(s.why);
        }
    }
    // A search path written as one word (MANPATH, TCLLIBPATH, NLSPATH, LOCPATH): a
    // convention of the programs that load from it; BACKUP_PATH, DATA_PATH are a place.
    if (up.size() > 4 && up.ends_with("PATH") && up[up.size() - 5] != '_') {
        return std::string(k_search);
    }
    return "";
}

bool is_code_env_name(std::string_view name) {
    return !code_env_reason(name).empty();
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
