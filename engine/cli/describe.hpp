// SPDX-License-Identifier: MIT
#pragma once

// What each command of the table accepts, read from the command itself: the options_description
// and positional arguments it hands to parse_options. The completion scripts and the man page are
// generated from this, so they cannot drift from what the commands parse.

#include "cli/commands.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace rollback::cli {

struct OptionDoc {
    std::string long_name;   ///< "config" (no dashes)
    std::string short_name;  ///< "c", or empty
    std::string value_name;  ///< "FILE" when the option takes a value, else empty
    std::string description; ///< the help text
};

struct CommandDoc {
    const Command* command = nullptr;
    std::vector<OptionDoc> options;       ///< options given by name (not the positional ones)
    std::vector<std::string> positionals; ///< names bound to positions, in order
    std::vector<std::string> subcommands; ///< literal first words of the usage, e.g. list, verify
};

/// One entry per visible command of the table, in its order. Each command is run with `--help`
/// while parse_options records its description instead of printing it; help and version, which
/// parse no options, get an empty list.
std::vector<CommandDoc> describe_commands();

/// The literal words a usage line allows first: "backup [list|verify] --catalog DIR" gives list and
/// verify, "audit verify RUN_ID" gives verify; an upper-case name (RUN_ID) or an option gives none.
std::vector<std::string> usage_subcommands(std::string_view usage);

/// The documented exit codes (util::ExitCode), with their meaning as the README's table words it.
struct ExitCodeDoc {
    int code;
    std::string_view meaning;
};
const std::vector<ExitCodeDoc>& exit_code_docs();

// Generators (completion.cpp, man_page.cpp): the whole text, ready to write to a file.
std::string bash_completion(const std::vector<CommandDoc>& docs);
std::string zsh_completion(const std::vector<CommandDoc>& docs);
std::string man_page(const std::vector<CommandDoc>& docs);

// `rollback help --json` (help_json.cpp). A command is {name, usage, summary, positionals: [NAME],
// subcommands: [WORD], options: [{long, short, value, description}] (short and value "" when
// none), exit_codes: [{code, meaning}], example: "rollback ..."}; the table is {version,
// commands: [command], exit_codes: [{code, meaning}] (every documented code)}.
boost::json::object command_json(const CommandDoc& doc);
boost::json::object commands_json(const std::vector<CommandDoc>& docs);

} // namespace rollback::cli
