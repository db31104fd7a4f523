// SPDX-License-Identifier: MIT
#pragma once

// What a ParsedFile holds (playbook/parsed_file.hpp): for the loaders that read its tree.

#include "playbook/parsed_file.hpp"
#include "playbook/toml_reader.hpp"

#include <filesystem>
#include <optional>
#include <vector>

namespace rollback::playbook {

struct ParsedFile {
    std::filesystem::path file;           ///< as the user named it: it starts every diagnostic
    std::optional<tree::Document> root;   ///< nullopt when the text does not parse: see `errors`
    std::vector<util::Diagnostic> errors; ///< the syntax or shape error, when there is one
};

} // namespace rollback::playbook
