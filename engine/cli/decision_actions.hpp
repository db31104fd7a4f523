// SPDX-License-Identifier: MIT
#pragma once

// What a decision does besides its record, for the monitor and `rollback approve`: telling the
// [decision] hooks, and approval requests (mode = "confirm") kept in
// `<state_dir>/approvals/<decision_id>.json` until a person approves or they expire.

#include "actions/action.hpp"
#include "config/config.hpp"
#include "decision/record.hpp"
#include "exec/runner.hpp"
#include "playbook/model.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rollback::cli {

/// The trigger a decision gives a run: its cause, that condition's severity, its reason.
actions::Trigger trigger_of(const decision::DecisionRecord& r, const std::string& decision_id,
                            std::string kind);

/// Runs every `[decision] hooks` entry with a "decision" event (hooks/README.md): status is the
/// action, plus decision_id, summary, and `approve` (the command) for approval requests. A hook
/// that fails is logged and returned as a message; it never stops the monitor.
std::vector<std::string> tell_hooks(const config::Config& cfg, const playbook::Playbook& pb,
                                    exec::ProcessRunner& runner,
                                    const std::filesystem::path& state_dir,
                                    const decision::DecisionRecord& r,
                                    const std::string& decision_id);

/// Every evaluation, "no action" included, as one line of
/// `<state_dir>/decisions/ticks-YYYY-MM-DD.jsonl` (UTC day): {version, kind: "tick", time, action,
/// executed, record (the full record's id when it was written, else ""), conditions: [{name,
/// verdict, observed}]}. Files older than `keep_days` are removed when a new day starts.
void append_tick(const std::filesystem::path& state_dir, const decision::DecisionRecord& r,
                 const std::string& written_id, int keep_days = 14);

struct ApprovalRequest {
    std::string decision_id;
    util::SystemTime requested_at;
    util::SystemTime expires_at;
    std::string condition, severity, reason;
    std::string state = "pending"; ///< pending | approved
    std::string approved_by;
    std::optional<util::SystemTime> approved_at;
    std::string run_id; ///< the run the approval started
};

std::filesystem::path approval_path(const std::filesystem::path& state_dir,
                                    const std::string& decision_id);
void write_approval(const std::filesystem::path& state_dir, const ApprovalRequest& a);
/// nullopt when there is no request for `decision_id`; util::Error when the file is malformed.
std::optional<ApprovalRequest> read_approval(const std::filesystem::path& state_dir,
                                             const std::string& decision_id);
/// Every request, oldest first.
std::vector<ApprovalRequest> list_approvals(const std::filesystem::path& state_dir);

} // namespace rollback::cli
