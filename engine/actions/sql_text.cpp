// SPDX-License-Identifier: MIT
#include "actions/sql_text.hpp"

#include "playbook/sql_transaction_control.hpp"
#include "util/strings.hpp"

namespace rollback::actions {

void refuse_transaction_control(StepParams& p, std::string_view key, const std::string& sql,
                                const std::string& entry, bool reads_only) {
    auto control = playbook::find_transaction_control(sql);
    if (!control) {
        return;
    }
    std::string which = entry.empty() ? util::quoted(std::string(key)) : entry;
    if (control->statement > 1) {
        which += " (its statement " + std::to_string(control->statement) + ")";
    }
    if (reads_only) {
        p.error(key,
                which + " is " + control->words +
                    ": it would end the read-only transaction the query runs in",
                "an assertion reads: write the query alone, without transaction control");
        return;
    }
    p.error(key,
            which + " is " + control->words +
                ": it would end the step's transaction, which the engine commits itself after "
                "checking that it still holds the run lock",
            "remove it: a sql step's statements commit together or not at all; for separate "
            "transactions write separate steps");
}

} // namespace rollback::actions
