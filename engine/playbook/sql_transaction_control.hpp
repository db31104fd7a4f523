// SPDX-License-Identifier: MIT
#pragma once

// A `sql` step's statements run in the engine's one transaction, which the engine commits only
// after checking that it still holds the run lock (docs/actions.md "Step sessions"). A statement
// that ends that transaction itself (COMMIT, ROLLBACK, ...) would commit outside that check and
// break "all or nothing"; this finds one, with PostgreSQL's lexer rules, at load.

#include <optional>
#include <string>
#include <string_view>

namespace rollback::playbook {

/// A statement of a SQL text that ends or starts a transaction.
struct TransactionControl {
    std::string words;    ///< as PostgreSQL reads it, upper case: "COMMIT", "PREPARE TRANSACTION"
    size_t statement = 0; ///< 1-based, among the `;`-separated statements of the text
    size_t offset = 0;    ///< byte offset of its first word in the text
};

/// The first statement of `sql` that is COMMIT, END, ROLLBACK (not ROLLBACK TO a savepoint),
/// ABORT, BEGIN, START TRANSACTION, PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED, in any case,
/// after any comments; nullopt when there is none. Strings, quoted identifiers, dollar quotes
/// and comments are never read as statements; the `;` inside a CREATE ... BEGIN ATOMIC ... END
/// body does not separate statements (as psql reads it).
std::optional<TransactionControl> find_transaction_control(std::string_view sql);

} // namespace rollback::playbook
