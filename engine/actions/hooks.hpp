// SPDX-License-Identifier: MIT
#pragma once

// Calling hooks (hooks/README.md is the contract): an executable in the playbook's hooks
// directory, one JSON event on stdin, ROLLBACK_* variables, a timeout, output captured.

#include "actions/action.hpp"

#include <boost/json/object.hpp>
#include <string>

namespace rollback::actions {

inline constexpr util::Millis k_hook_timeout{std::chrono::seconds(30)};

/// The exit code by which a hook says it did nothing (hooks/README.md), e.g. `notify` with no
/// destination configured: recorded as "nothing_sent" with the hook's reason, never as success.
inline constexpr int k_hook_nothing_sent = 3;

/// The hook's own word on what happened: the last non-empty line of its output (stderr comes
/// last), at most 300 bytes; "" when it printed nothing.
std::string hook_reason(const Result& r);

/// The event every hook receives: {event, run_id, playbook, step, status, reason, trigger, time}
/// plus `extra`'s fields. Secrets are masked when it is serialized for stdin.
boost::json::object hook_event(const Context& ctx, std::string_view event, std::string_view status,
                               const boost::json::object& extra = {});

/// Runs hook `name` with `event` on stdin. The child's failure is in the Result, never thrown.
Result run_hook(const Context& ctx, const std::string& name, const boost::json::object& event,
                util::Millis timeout = k_hook_timeout);

} // namespace rollback::actions
