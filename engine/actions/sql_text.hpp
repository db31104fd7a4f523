// SPDX-License-Identifier: MIT
#pragma once

// Checks on the SQL text of a step, at load.

#include "actions/step_params.hpp"

#include <string>
#include <string_view>

namespace rollback::actions {

/// Records a located problem with `key` when `sql` holds a statement that ends or starts a
/// transaction (playbook::find_transaction_control): the statements of sql, sql_assert and the
/// asserts of pg_restore run in a transaction of the engine's, committed (or rolled back) by the
/// engine alone. `entry` names the text within `key` ("\"statements\" entry 2"), empty for the
/// key itself; `reads_only` for a read-only transaction (an assertion).
void refuse_transaction_control(StepParams& p, std::string_view key, const std::string& sql,
                                const std::string& entry, bool reads_only);

} // namespace rollback::actions
