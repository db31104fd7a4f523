// SPDX-License-Identifier: MIT
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::util {

namespace fs = std::filesystem;

/// "<pid>.<random>": a temp name's suffix that two threads, two processes or a crashed earlier
/// attempt's leftover never share.
std::string temp_suffix();

/// How write_file_atomic sets the file's permission bits.
struct AtomicWriteOptions {
    /// The bits of a new file, masked by the umask as open(2) does.
    unsigned mode = 0644;
    /// Keep the bits of the file being replaced exactly (and, as root, its owner), or give a new
    /// file `mode` exactly, without the umask. The temp file stays private (0600) until then: a
    /// config file holding secrets is never readable by others, not even for a moment.
    bool keep_mode = false;
};

/// Writes `content` to `path` atomically: a temp file beside it (a name unique to this process
/// and call), fsync, rename, fsync of the directory. The one way the engine writes a whole file.
/// Throws util::Error (exit code 1) when any of these fails; `path` is then unchanged and the
/// temp file removed.
void write_file_atomic(const fs::path& path, std::string_view content,
                       const AtomicWriteOptions& options = {});

/// Appends `line` and a newline to `path` (created when missing). False when it cannot: the
/// caller decides whether that is an error or a warning.
bool append_line(const fs::path& path, std::string_view line);

/// The bound read_file applies to the engine's own state files (256 MiB).
inline constexpr size_t k_max_state_bytes = size_t{256} << 20;

/// The whole of a regular file of at most k_max_state_bytes; throws util::Error when it cannot
/// be read (exit 1), or (exit 2) when it is not a regular file (a FIFO, a device, a directory)
/// or is larger.
std::string read_file(const fs::path& path);

/// One record of a directory of records the engine keeps (rehearsals/, approvals/): where it is
/// and its whole text.
struct DirectoryFile {
    fs::path path;
    std::string text;
};

/// Every file of `dir` whose name ends in `extension` (".json"), each read with read_file, in name
/// order; a directory so named is no record and left out. An entry that cannot be read — a
/// dangling link, a FIFO, a file of another user, one past the bound — is skipped and its reason
/// ("cannot read FILE: Permission denied") appended to `skipped`: one bad file never hides the
/// others, nor fails their reader. A missing `dir` holds none; one that cannot be listed is one
/// reason in `skipped`. Never throws but std::bad_alloc.
std::vector<DirectoryFile> read_directory_files(const fs::path& dir, std::string_view extension,
                                                std::vector<std::string>& skipped);

/// The whole of an input file the user named (a playbook, a config, a recorded CSV): only a
/// regular file of at most `max_bytes` is read, so a directory, a FIFO, a device such as
/// /dev/zero or a runaway file is refused at once instead of hanging or filling memory. Throws
/// util::Error (exit code 2, `invalid`) naming the file and the problem.
std::string read_input_file(const fs::path& path, size_t max_bytes);

/// Throws util::Error (exit code 2) unless `path` names a regular file: a directory, a FIFO or a
/// device given as an input is refused before anything opens it.
void require_regular_file(const fs::path& path);

/// The bound read_input_file applies to playbooks and rollback.toml (16 MiB).
inline constexpr size_t k_max_config_bytes = size_t{16} << 20;

/// fsync of a directory, so a rename or a new file in it survives a crash. Errors are ignored
/// where the filesystem does not support it.
void fsync_directory(const fs::path& dir);

/// Marks `fd` close-on-exec, for a descriptor a library opened without it (spdlog's log file,
/// Asio's sockets): nothing the engine holds may reach a program it executes (the runner also
/// marks every descriptor in the child, exec/child_io.hpp; this is the engine's own hygiene). No
/// effect on a descriptor that is not open.
void close_on_exec(int fd);

/// True when `path` names a regular file the current user may execute.
bool is_executable_file(const fs::path& path);

/// Looks `program` up like execvp would: a name with a '/' as is, otherwise each PATH entry.
/// Returns an empty path when not found.
fs::path find_program(const std::string& program);

} // namespace rollback::util
