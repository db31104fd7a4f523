// SPDX-License-Identifier: MIT
#pragma once

// Releases in the Capistrano/Deployer layout: <deploy_root>/releases/<version>/ and a `current`
// symlink. The releases rolled back from ("marked bad") are kept by state::BadReleases. The
// `release_switch` action (release_switch.cpp) is built on these.

#include "state/store.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace rollback::actions {

/// One deploy root's layout as a release_switch step describes it.
struct ReleaseLayout {
    std::filesystem::path deploy_root; ///< absolute
    std::filesystem::path history;     ///< deploy history file; empty = deploys.log if present
    std::string complete_marker;       ///< file a complete release contains; empty = non-empty dir
    std::vector<std::string> config_files; ///< relative to deploy_root
};

/// The name of the release `current` points to. Throws util::Error (exit 1) when `current` is
/// missing, not a symlink, dangling, or points outside <deploy_root>/releases/.
std::string current_release(const std::filesystem::path& deploy_root);

/// Whether `name` can name a directory in releases/: not empty, not "." or "..", no '/', no NUL,
/// no control character. What `to` must be, and every name read back (history file, state).
bool is_release_name(std::string_view name);

/// Releases in deploy order, oldest first, and where the order came from: "history FILE"
/// (one line per deploy, "TIME VERSION"; the last field is the version; a redeployed version
/// appears again) or "directory mtime". Throws util::Error when a given history file is unreadable
/// or one of its lines names no release (is_release_name), naming FILE:LINE.
struct ReleaseOrder {
    std::vector<std::string> releases;
    std::string source;
};
ReleaseOrder release_order(const ReleaseLayout& layout);

/// Empty when <deploy_root>/releases/<release> exists and is complete (has the marker file, or
/// is a non-empty directory without one) and holds every config snapshot; else what is wrong.
std::string release_problem(const ReleaseLayout& layout, const std::string& release);

/// <release>/.rollback-config/<relative>: where a release keeps its snapshot of a config file.
std::filesystem::path config_snapshot(const ReleaseLayout& layout, const std::string& release,
                                      const std::string& relative);

/// Points `current` at releases/<release> atomically: a new symlink under a temporary name,
/// rename(2) over `current`, fsync of deploy_root. A reader never sees `current` missing.
/// Keeps the existing link's style (relative or absolute). Throws util::Error (exit 1).
void switch_current(const std::filesystem::path& deploy_root, const std::string& release);

} // namespace rollback::actions

namespace rollback::actions {

/// A layout as the switch's planning reads it: the engine's own files (local_reader) or a
/// host's, read through the step's runner (remote_reader). `current` and `order` throw
/// util::Error (exit 1) as current_release and release_order do.
struct LayoutReader {
    std::function<std::string()> root_problem; ///< "" when deploy_root is a directory
    std::function<std::string()> current;
    std::function<ReleaseOrder()> order;
    std::function<std::string(const std::string& release)> release_problem;
};
LayoutReader local_reader(const ReleaseLayout& layout);

struct Context;
struct Result;

/// Reads `layout` on the step's host once, with one program (a fixed sh script; the paths are
/// its arguments): `current`, the releases with their modification times and completeness, the
/// history file. Problems reaching the host are `root_problem`.
LayoutReader remote_reader(const Context& ctx, const ReleaseLayout& layout);

/// On the step's host: restores the config files from release `to`'s snapshots (each through a
/// temporary file renamed over the live one, which keeps its mode; a config file that is a
/// symlink is followed) and points `current` at releases/<to> with a new link renamed over it
/// (`mv -T`), keeping the old link's style; on a failure the config files are put back. Fills
/// r.summary and r.output_tail on failure; returns whether it switched.
bool remote_switch(const Context& ctx, const ReleaseLayout& layout, const std::string& to,
                   Result& r);

} // namespace rollback::actions
