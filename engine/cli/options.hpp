// SPDX-License-Identifier: MIT
#pragma once

// Options every command shares, and parsing with one-line errors (Boost.Program_options).

#include "cli/commands.hpp"

#include <boost/program_options.hpp>
#include <filesystem>
#include <functional>
#include <string>

namespace rollback::cli {

namespace po = boost::program_options;

struct CommonOptions {
    std::string config;    ///< -c/--config
    std::string state_dir; ///< --state-dir
    bool verbose = false;  ///< -v
    bool json = false;     ///< --json
};

/// The shared options a command uses (a bit set): it accepts and shows only those.
enum CommonOption : unsigned {
    use_config = 1U,    ///< -c/--config FILE
    use_state_dir = 2U, ///< --state-dir DIR
    use_verbose = 4U,   ///< -v/--verbose
    use_json = 8U,      ///< --json
    use_all = 15U,
};

/// Adds the shared options `which` names (CommonOption bits) and -h/--help to `desc`.
void add_common_options(po::options_description& desc, CommonOptions& common,
                        unsigned which = use_all);

/// True for the long names add_common_options may add (config, state-dir, verbose, json, help).
bool is_common_option(std::string_view long_name);

/// The longest `--reason` a command accepts (bytes).
inline constexpr size_t k_max_reason_bytes = 4096;

/// Parses `args` for `command`. Returns false when --help was given (the command's help printed:
/// usage, summary, arguments, its own options, the shared ones, exit codes, an example).
/// An unknown or malformed option throws util::Error (exit 2) with a one-line hint.
bool parse_options(std::string_view command, const Args& args, po::options_description& desc,
                   const po::positional_options_description& positional, po::variables_map& vm);

/// Receives a command's option description instead of parsing (cli/describe.cpp): while a sink is
/// set on this thread, parse_options hands it `desc` and `positional` and returns false, as for
/// --help, without printing. An empty function clears it.
using DescriptionSink =
    std::function<void(const po::options_description&, const po::positional_options_description&)>;
void set_description_sink(DescriptionSink sink);

/// Splits "a,b" lists given once or several times (--only a,b --only c).
std::vector<std::string> split_list(const std::vector<std::string>& values);

/// The person running the command: $SUDO_USER, else $USER, else the passwd name, else the uid.
std::string current_user();

/// Sets up logging to `<state_dir>/rollback.log` (stderr too with -v).
void start_logging(const std::filesystem::path& state_dir, bool verbose, std::string_view command);

} // namespace rollback::cli
