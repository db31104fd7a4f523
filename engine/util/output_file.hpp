// SPDX-License-Identifier: MIT
#pragma once

// The one rule for a file a person names for a command's output (`-o FILE`): what may be
// replaced there, and what never is. The file is written atomically (a temp file renamed over
// it), so whatever sits at FILE is replaced, not written to: a device, a FIFO or a symbolic link
// there would be replaced for the whole machine (as root, /dev/null), a directory of the
// engine's own records would lose one, an unrelated file would be gone.

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::util {

/// What write_output_file may replace at its path.
struct OutputRule {
    /// What is written, for messages: "the page", "the journal".
    std::string what;
    /// What an existing file must be to be replaced, for messages: "an HTML page (an earlier
    /// report)".
    std::string kind;
    /// Whether an existing non-empty regular file holds `kind`; given its first bytes (up to
    /// k_output_head_bytes). An empty file is always replaceable.
    std::function<bool(std::string_view head)> replaceable;
    /// Directories nothing is written into (their files are records: the state directory),
    /// each with why, for the message: "the state directory /x (journals, ...)".
    std::vector<std::pair<std::filesystem::path, std::string>> protected_dirs;
};

/// How much of an existing file OutputRule::replaceable sees.
inline constexpr size_t k_output_head_bytes = 64 * 1024;

/// Writes `content` to `path` by the rule: refuses (util::Error, exit 2, nothing written) a path
/// inside one of `rule.protected_dirs` (symlinks and `..` resolved), an existing path that is not
/// a regular file (a directory, a symbolic link, a FIFO, a device, a socket), an existing
/// non-empty file that `rule.replaceable` refuses, and a file that cannot be written; else
/// writes it atomically (write_file_atomic). The hints say to use `-o -` for standard output.
void write_output_file(const std::filesystem::path& path, std::string_view content,
                       const OutputRule& rule);

} // namespace rollback::util
