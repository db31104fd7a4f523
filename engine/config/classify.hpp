// SPDX-License-Identifier: MIT
#pragma once

// Telling a rollback.toml from a playbook by a parse made once (playbook/parsed_file.hpp), so that
// `validate` loads the playbook from that same parse.

namespace rollback::playbook {
struct ParsedFile;
}

namespace rollback::config {

/// config::looks_like_config(path) (config/config.hpp) over a file already read and parsed:
/// false when it did not parse.
bool looks_like_config(const playbook::ParsedFile& parsed);

} // namespace rollback::config
