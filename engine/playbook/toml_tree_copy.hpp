// SPDX-License-Identifier: MIT
#pragma once

// toml++'s tree copied into a tree::Document: what TomlReader::parse gives for a document
// tree::parse_plain leaves to toml++. Internal to playbook/ (and its tests).

#include "playbook/toml_tree.hpp"

#include <toml++/toml.h>

namespace rollback::playbook::tree {

/// Every table, array and value of `root`, with its place; strings and keys copied (the copy
/// does not need `root` afterwards). `text` is the document's text.
Document copy_of(const toml::table& root, std::shared_ptr<const std::string> text);

} // namespace rollback::playbook::tree
