// SPDX-License-Identifier: MIT
#pragma once

// What the `sql` and `sql_assert` steps do to a database: statements in one transaction, an
// assertion in a read-only one, and whether the database can be reached at all.

#include "db/preflight_line.hpp"
#include "db/sessions.hpp"
#include "db/sql_check.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace rollback::db {

/// One statement and the values bound to its $1, $2, ...
struct Statement {
    std::string sql;
    std::vector<std::string> params;
};

struct StatementsOutcome {
    bool ok = false;
    /// "2 statement(s) committed, 5 row(s) affected" or "statement 2 failed, transaction rolled
    /// back: ..." (masked)
    std::string summary;
    std::int64_t rows_affected = 0;
};

/// Runs `statements` on `dsn` in one transaction, committed only when every one succeeds, in a
/// session named and fenced by `session`: its fence is checked right before the COMMIT. Never
/// throws for the statements' own failure; a refused fence is db::Fenced (rolled back).
StatementsOutcome run_statements(const std::string& dsn, const std::vector<Statement>& statements,
                                 const StepSession& session = {});

struct AssertionOutcome {
    enum class Verdict { holds, fails, error };
    Verdict verdict = Verdict::error;
    std::string text; ///< fails: the difference; error: why it could not be checked (masked)
};

/// Runs `query` with `params` bound on `dsn` in a read-only transaction (an assertion never
/// changes the database it checks) and compares the result with `expect`, in a session named
/// `session_name` ("": "rollback"). Never throws.
AssertionOutcome check_assertion(const std::string& dsn, const std::string& query,
                                 const std::vector<std::string>& params,
                                 const SqlExpectation& expect,
                                 const std::string& session_name = {});

/// "database reachable (<masked dsn>)": connects and runs SELECT 1.
PreflightLine check_reachable(const std::string& dsn);

} // namespace rollback::db
