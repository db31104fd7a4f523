// SPDX-License-Identifier: MIT
#pragma once

// `rollback help CMD` / `rollback CMD --help`: one command's help, built from the command table
// (usage, summary, exit codes, example) and the options the command hands to parse_options.

#include <boost/program_options.hpp>
#include <string>
#include <string_view>

namespace rollback::cli {

/// The help text of `command`, ready to print: usage line, summary, "arguments:" (the names bound
/// to positions, shown as positionals: DECISION_ID, FILE...), "options:" (the command's own),
/// "shared options:" (those of add_common_options the command uses), "exit codes:" (the codes the
/// table lists for it, with the README's meanings) and "example:". Lines are wrapped at 80 columns.
std::string command_help(std::string_view command,
                         const boost::program_options::options_description& desc,
                         const boost::program_options::positional_options_description& positional);

} // namespace rollback::cli
