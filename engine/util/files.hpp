// SPDX-License-Identifier: MIT
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace rollback::util {

namespace fs = std::filesystem;

/// Writes `content` to `path` atomically: a temp file beside it, fsync, rename, fsync of the
/// directory. Throws util::Error (exit code 1) when any of these fails; `path` is then unchanged.
void write_file_atomic(const fs::path& path, std::string_view content);

/// Appends `line` and a newline to `path` (created when missing). False when it cannot: the
/// caller decides whether that is an error or a warning.
bool append_line(const fs::path& path, std::string_view line);

/// The whole file; throws util::Error when it cannot be read.
std::string read_file(const fs::path& path);

/// fsync of a directory, so a rename or a new file in it survives a crash. Errors are ignored
/// where the filesystem does not support it.
void fsync_directory(const fs::path& dir);

/// True when `path` names a regular file the current user may execute.
bool is_executable_file(const fs::path& path);

/// Looks `program` up like execvp would: a name with a '/' as is, otherwise each PATH entry.
/// Returns an empty path when not found.
fs::path find_program(const std::string& program);

} // namespace rollback::util
