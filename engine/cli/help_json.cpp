// SPDX-License-Identifier: MIT
// `rollback help --json` and `rollback version --json`: the command table as data, from the same
// descriptions the man page and the completion scripts are generated from.
#include "cli/describe.hpp"
#include "util/exit_code.hpp"

#include <algorithm>

namespace rollback::cli {

namespace {

std::string_view meaning_of(int code) {
    const auto& docs = exit_code_docs();
    auto it = std::find_if(docs.begin(), docs.end(),
                           [code](const ExitCodeDoc& d) { return d.code == code; });
    return it == docs.end() ? std::string_view{} : it->meaning;
}

boost::json::array string_array(const std::vector<std::string>& words) {
    boost::json::array a;
    for (const auto& w : words) {
        a.emplace_back(w);
    }
    return a;
}

} // namespace

boost::json::object exit_code_json(int code) {
    return {{"code", code}, {"meaning", meaning_of(code)}};
}

boost::json::object command_json(const CommandDoc& doc) {
    const Command& c = *doc.command;
    boost::json::array options;
    for (const auto& o : doc.options) {
        options.push_back({{"long", o.long_name},
                           {"short", o.short_name},
                           {"value", o.value_name},
                           {"description", o.description}});
    }
    boost::json::array codes;
    for (auto code : c.exit_codes) {
        codes.push_back(exit_code_json(util::to_int(code)));
    }
    return {{"name", c.name},
            {"usage", c.usage},
            {"summary", c.summary},
            {"positionals", string_array(doc.positionals)},
            {"subcommands", string_array(doc.subcommands)},
            {"options", std::move(options)},
            {"exit_codes", std::move(codes)},
            {"example", "rollback " + std::string(c.example)}};
}

boost::json::object commands_json(const std::vector<CommandDoc>& docs) {
    boost::json::array commands;
    for (const auto& d : docs) {
        commands.push_back(command_json(d));
    }
    boost::json::array codes;
    for (const auto& d : exit_code_docs()) {
        codes.push_back(exit_code_json(d.code));
    }
    return {{"version", ROLLBACK_VERSION},
            {"commands", std::move(commands)},
            {"exit_codes", std::move(codes)}};
}

} // namespace rollback::cli
