// SPDX-License-Identifier: MIT
#pragma once

// A TOML file read and parsed once, then handed on: `rollback validate` tells a rollback.toml from
// a playbook by it and loads the playbook from it; `rollback resume` loads the run's playbook
// twice from it (with the variables of now, then with the run's). The parse is a large part of
// loading a long playbook: done once, not per look.

#include "playbook/loader.hpp"

#include <filesystem>
#include <memory>

namespace rollback::playbook {

/// The file as named, and its parse: its tree (toml_tree.hpp) or the syntax error
/// (parsed_file_tree.hpp).
struct ParsedFile;

/// Reads `file` as every loader does (util::read_input_file, k_max_config_bytes: a FIFO, a device
/// or a directory is refused) and parses it (TomlReader::parse). Throws util::Error when it
/// cannot be read. A syntax error is kept, and thrown by load() as util::InvalidInput.
std::shared_ptr<const ParsedFile> parse_file(const std::filesystem::path& file);

/// load(file, options) of a file parse_file read: the same playbook, the same diagnostics.
/// The parsed tree is only read, so one ParsedFile can be loaded any number of times.
Playbook load(const ParsedFile& parsed, const LoadOptions& options);

} // namespace rollback::playbook
