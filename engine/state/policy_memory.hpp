// SPDX-License-Identifier: MIT
#pragma once

// The monitor's incident-policy memory (decision::Evaluator::PolicyMemory: the cooldown, the
// recurrence watch after a rollback, and per condition its open incident, escalation cooldown,
// paged missing-data state and approval request), kept by the store (state::PolicyMemoryDocument;
// LocalStore: `<state_dir>/monitor-policy.json`, PgStore: the shared `documents` table) so that a
// monitor restarted (systemd Restart=on-failure after a crash, an upgrade) or reloaded — or
// another monitor sharing the state — acts at most once per incident and escalates at most once
// per cooldown, as one long-lived monitor would. Written atomically whenever it changes.

#include "decision/evaluator.hpp"
#include "state/store.hpp"

#include <filesystem>
#include <optional>

namespace rollback::state {

/// The memory `store` keeps, or nullopt when there is none. A malformed document is logged and
/// read as none only when it cannot be parsed at all; a time outside the clock's range likewise.
/// `blocked_by`, when given, gets the run whose lock excluded the decided run
/// (`decided_run.blocked_by`; "" when none: docs/config.md "A decided run that never started").
std::optional<decision::Evaluator::PolicyMemory>
load_policy_memory(const PolicyMemoryDocument& store, std::string* blocked_by = nullptr);

/// Keeps `memory`, with `blocked_by` (see load_policy_memory) in its decided run when not "".
/// Throws util::Error when it cannot be kept.
void save_policy_memory(PolicyMemoryDocument& store,
                        const decision::Evaluator::PolicyMemory& memory,
                        const std::string& blocked_by = "");

/// The memory kept in `state_dir`, or nullopt when there is none. A malformed file is logged and
/// read as none only when it cannot be parsed at all; a time outside the clock's range likewise.
std::optional<decision::Evaluator::PolicyMemory>
load_policy_memory(const std::filesystem::path& state_dir);

/// Writes `memory` atomically. Throws util::Error when the state directory cannot be written.
void save_policy_memory(const std::filesystem::path& state_dir,
                        const decision::Evaluator::PolicyMemory& memory);

} // namespace rollback::state
