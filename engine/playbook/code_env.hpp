// SPDX-License-Identifier: MIT
#pragma once

// Environment variables whose value a program runs as code or loads code from: the code role of
// the environment. A value passed through one of them is not data, so a {{reference}} in it is
// refused by the loader (docs/security.md, "Environment names that are code").

#include <string>
#include <string_view>

namespace rollback::playbook {

/// Whether a program evaluates the variable `name` as code, runs it as a command, or loads code
/// from the files or directories it names (BASH_ENV, GIT_SSH_COMMAND, LD_PRELOAD, PATH,
/// MAKEFLAGS, TAR_OPTIONS, ...): code_env_reason is not empty.
bool is_code_env_name(std::string_view name);

/// Why a program runs or loads code from the variable `name` (a phrase for a diagnostic), or
/// empty when the name is data. Exact names (case-sensitive), families by prefix (LD_, GIT_,
/// PYTHON, NODE_, LUA_, XDG_, ...) and the conventions of a name's last word (FLAGS, OPTIONS,
/// OPT, RSH, INIT, RC, EDITOR, PAGER, COMMAND, CMD, HOOK, HOME, CONFIG, ...), both read without
/// case; a few names of those families are data (GIT_AUTHOR_NAME, NODE_ENV).
std::string code_env_reason(std::string_view name);

/// Whether `text` holds a `{{...}}` reference (a variable, {{playbook_dir}}, {{host.NAME}}).
bool has_reference(std::string_view text);

/// An argv element written as `NAME=...{{ref}}...` (also after `--setenv=`, `--env=`, `-E`:
/// systemd-run, docker) with NAME a code name (is_code_env_name): that NAME, else empty. env,
/// sudo, systemd-run, a site's wrapper would give the program the value there.
std::string code_env_assignment(std::string_view element);

/// Whether a reference in `element` decides the program it names: the text after the last
/// reference holds no `/` (`{{v}}`, `/opt/{{v}}`, `{{v}}.sh`; not `{{playbook_dir}}/bin/tool`).
bool value_names_program(std::string_view element);

} // namespace rollback::playbook
