// SPDX-License-Identifier: MIT
#include "config/config.hpp"

#include "playbook/parsed_file_tree.hpp"
#include "util/canonical_path.hpp"
#include "util/error.hpp"

namespace rollback::config {

std::optional<std::filesystem::path> decision_playbook_of(const std::filesystem::path& file) {
    // Read as every loader reads (bounded, a FIFO never waited on): a file that is not a
    // config, or a config of another target with a mistake in it, is simply not this
    // playbook's, never an error of the command that searched.
    std::shared_ptr<const playbook::ParsedFile> parsed;
    try {
        parsed = playbook::parse_file(file);
    } catch (const util::Error&) {
        return std::nullopt;
    }
    if (!parsed->root) {
        return std::nullopt;
    }
    const playbook::tree::Table* decision = parsed->root->root().get_table("decision");
    const playbook::tree::Node* named = decision != nullptr ? decision->get("playbook") : nullptr;
    if (named == nullptr || !named->is_string() || named->string().empty()) {
        return std::nullopt;
    }
    const std::filesystem::path p(std::string(named->string()));
    const auto base = util::canonical_path(file).parent_path();
    return util::canonical_path(p.is_absolute() ? p : base / p);
}

} // namespace rollback::config
