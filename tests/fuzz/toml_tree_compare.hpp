// SPDX-License-Identifier: MIT
#pragma once

// tree::parse_plain (playbook/toml_tree.hpp) held against toml++: for a document it reads, the
// tree it gives must be the one toml++'s parse gives (copied by tree::copy_of), key for key,
// value for value, place for place; a document toml++ refuses it must give up on.

#include <string>
#include <string_view>

namespace rollback::fuzz {

struct TomlTreeComparison {
    bool plain = false;     ///< parse_plain read the document (else it gave up: nothing to hold)
    std::string difference; ///< "" when the two agree, else the first difference found
};

TomlTreeComparison compare_toml_tree(std::string_view text);

} // namespace rollback::fuzz
