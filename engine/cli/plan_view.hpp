// SPDX-License-Identifier: MIT
#pragma once

#include "orchestrator/preflight.hpp"

#include <boost/json/object.hpp>
#include <string>

namespace rollback::cli {

/// The plan as a person reads it: steps in order with phase, action, resolved arguments,
/// timeout and retries; skipped steps with why; variables (secrets as ***); preflight results.
/// Secrets are masked.
std::string plan_text(const orchestrator::Plan& plan, const orchestrator::Preflight& pre,
                      bool color);

/// The same as one JSON object (type "plan").
boost::json::object plan_json(const orchestrator::Plan& plan, const orchestrator::Preflight& pre);

} // namespace rollback::cli
