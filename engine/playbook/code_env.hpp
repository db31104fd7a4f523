// SPDX-License-Identifier: MIT
#pragma once

// Environment variables whose value a program runs as code or loads code from: the code role of
// the environment. A value passed through one of them is not data, so a {{reference}} in it is
// refused by the loader (docs/security.md, "Environment names that are code").

#include <string>
#include <string_view>

namespace rollback::playbook {

/// Whether a program evaluates the variable `name` as code, runs it as a command, or loads code
/// from the files or directories it names (BASH_ENV, GIT_SSH_COMMAND, LD_PRELOAD, PATH, ...).
/// Exact names and prefixes (LD_, DYLD_, BASH_FUNC_, GIT_CONFIG_); case-sensitive like the
/// environment itself.
bool is_code_env_name(std::string_view name);

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
