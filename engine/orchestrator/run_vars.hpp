// SPDX-License-Identifier: MIT
#pragma once

// The variables a run resolved, kept in its run_started record, and what a resume does with them
// (docs/playbook.md, "Variables of a resumed run"): the run's values, not the resume's own.

#include "journal/records.hpp"
#include "playbook/model.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rollback::orchestrator {

/// The run's key for its secrets' fingerprints: `<artifacts>/vars.key` (32 random bytes, mode
/// 0600, never in the journal). Created when `create` and missing; nullopt when absent (or
/// unreadable) and not created. Throws util::Error when it cannot be created.
std::optional<std::string> run_vars_key(const std::filesystem::path& artifacts, bool create);

/// "hmac-sha256:HEX" of a secret variable's name and value under `key`.
std::string secret_fingerprint(const std::string& key, const std::string& name,
                               const std::string& value);

/// `pb`'s variables as run_started records them: a value in clear unless secret; a secret by
/// its origin and fingerprint (under `key`) only.
std::vector<journal::RunVar> recorded_vars(const playbook::Playbook& pb, const std::string& key);

/// What a resume does with the run's variables, comparing them with what it resolved itself
/// (`now`: the playbook loaded with the resume's --var, environment and .env).
struct VarsAtResume {
    /// Non-secret variables to load with the run's value (as --var NAME=VALUE): those the
    /// resume would have taken from a default (or found unset) while the run had a value.
    std::map<std::string, std::string> run_values;
    /// One line per variable whose value now, from an explicit source (--var, environment, .env,
    /// a changed playbook), is not the run's: "release: \"v1\" at the run (--var), \"v2\" now
    /// (env TARGET_RELEASE)"; a secret's says "differs", never a value.
    std::vector<std::string> differences;
    std::vector<std::string> changed; ///< the names of `differences`
    /// For a person: one line per variable taken from the run.
    std::vector<std::string> notes;
};

/// Compares the run's variables (`started.vars`; nothing when the record has none) with `now`'s.
/// `key`: the run's (run_vars_key); without it a secret cannot be compared and is a difference.
VarsAtResume vars_at_resume(const journal::RunStarted& started, const playbook::Playbook& now,
                            const std::optional<std::string>& key);

} // namespace rollback::orchestrator
