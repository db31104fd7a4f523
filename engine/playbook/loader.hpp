// SPDX-License-Identifier: MIT
#pragma once

#include "playbook/model.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace rollback::playbook {

/// What the loader must know about an action kind it does not implement itself.
struct ActionSpec {
    std::string name;
    std::vector<std::string> keys;     ///< action-specific keys allowed beyond the common ones
    std::vector<std::string> required; ///< of those, the ones that must be present
    /// How a {{variable}} is written into each key that is not plain data, by key path: "sql",
    /// "url", "headers.*" (every member), "assert.sql" (a member of each table of an array).
    /// An array's elements take the array's encoding. "body" of an http step is decided from
    /// its Content-Type header (json, form) or its first character ({ or [: json).
    std::map<std::string, Encoding> encodings = {};
};

struct LoadOptions {
    std::vector<ActionSpec> actions;              ///< known action kinds (exec, wait, hook, ...)
    std::map<std::string, std::string> overrides; ///< --var NAME=VALUE, win over everything
    const std::map<std::string, std::string>* environment = nullptr; ///< nullptr = the process env
    /// `rollback validate`: an environment variable that is not set (and has no default) is a
    /// warning in Playbook::warnings instead of an error; the steps that use its variable are
    /// not checked further (their values are unknown here). Either way, each unset variable is
    /// reported once, at its [vars] entry, never again at its uses.
    bool unset_env_is_warning = false;
    /// Called for every step whose common keys loaded well, so that action-specific checks
    /// (types and values of Step::params) are reported in the same pass, in file order. It may
    /// keep what it parsed in Step::parsed (actions::parse_step does).
    std::function<std::vector<util::Diagnostic>(const Playbook&, Step&)> validate_step;
};

/// Loads, resolves and validates a playbook completely. Throws util::InvalidInput carrying every
/// diagnostic found in the file (syntax, unknown keys with "did you mean", types, missing keys,
/// duplicate ids, unknown or cyclic `needs`, undefined {{variables}}, missing hooks). Registers
/// secret variable values with util::register_secret before returning or throwing.
Playbook load(const std::filesystem::path& file, const LoadOptions& options);

/// The keys every step accepts, whatever its action.
const std::vector<std::string>& common_step_keys();

} // namespace rollback::playbook
