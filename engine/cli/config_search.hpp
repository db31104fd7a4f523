// SPDX-License-Identifier: MIT
#pragma once

// Which rollback.toml a command reads when it is not named with -c (docs/config.md "Which
// configuration a command reads"): the search, and the trust a file it finds must earn.

#include "cli/options.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace rollback::cli {

struct FoundConfig {
    std::filesystem::path file; ///< canonical (symlinks resolved)
    /// How the search found it, for messages: "-c", "beside the playbook", "one directory above
    /// the playbook", "above the playbook, naming it as its [decision] playbook", "the current
    /// directory".
    std::string how;
    /// Reached through a directory symlink (`-c current/rollback.toml`, `-p
    /// current/playbooks/x.toml`): a state beside it moves when the link changes.
    bool through_link = false;
};

/// The configuration by the documented search, first match wins: `-c FILE` (util::Error, exit
/// 2, when it does not exist); else, when `playbook` is not empty, `rollback.toml` in the
/// playbook's directory or the one above it; else the nearest `rollback.toml` further up the
/// playbook's ancestors (to the root) whose `[decision] playbook` is this playbook (canonical
/// paths); else `./rollback.toml`. A file found by the search (not named with -c) must be
/// trusted (require_trusted_config); the ancestors' files in world-writable directories are
/// never read. nullopt when there is none.
std::optional<FoundConfig> locate_config(const CommonOptions& common,
                                         const std::filesystem::path& playbook);

/// locate_config's file (canonical), nullopt when there is none.
std::optional<std::filesystem::path> find_config(const CommonOptions& common,
                                                 const std::filesystem::path& playbook);

/// Whether `written` (a path as the user wrote it) reaches its file through a symbolic link to
/// a directory: its directory, made absolute with `..` taken lexically, is not the kernel's.
bool reached_through_link(const std::filesystem::path& written);

/// The rule git's safe.directory and OpenSSH's StrictModes apply, for a `rollback.toml` the
/// search found at `candidate`: it is used only when its directory (and, through a symlink, the
/// directory of the file it names) is not world-writable (sticky /tmp included), and the file
/// belongs to this user or root and is not writable by group or others. Otherwise util::Error
/// (exit 2) naming the file, what is wrong and its owner, with the hint (`-c FILE` to use it
/// deliberately, or `--state-dir DIR`).
void require_trusted_config(const std::filesystem::path& candidate);

} // namespace rollback::cli
