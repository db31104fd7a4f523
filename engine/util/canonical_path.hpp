// SPDX-License-Identifier: MIT
#pragma once

#include <filesystem>

namespace rollback::util {

/// The identity of a file or directory the engine compares or locks by: absolute, `..` and
/// symlinks resolved as the kernel resolves them (std::filesystem::weakly_canonical: the part
/// that does not exist yet is normalized lexically), no trailing separator. Two spellings of one
/// directory (a symlink, `link/../x`, `x/`) give one path; one state, one lock.
std::filesystem::path canonical_path(const std::filesystem::path& p);

} // namespace rollback::util
