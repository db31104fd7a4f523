// SPDX-License-Identifier: MIT
#pragma once

// load_playbook (actions/load.hpp) of a file already read and parsed (playbook/parsed_file.hpp):
// `resume` loads its playbook twice from one parse, `validate` loads a playbook from the parse
// that told it from a rollback.toml.

#include "playbook/model.hpp"

#include <map>
#include <string>

namespace rollback::playbook {
struct ParsedFile;
}

namespace rollback::actions {

/// load_playbook(parsed.file, ...) without reading or parsing the file again: the same playbook,
/// the same diagnostics. Throws util::InvalidInput (exit 2) with every diagnostic.
playbook::Playbook load_playbook(const playbook::ParsedFile& parsed,
                                 const std::map<std::string, std::string>& overrides = {},
                                 bool unset_env_is_warning = false);

} // namespace rollback::actions
