// SPDX-License-Identifier: MIT
#pragma once

// SQL assertions shared by `sql_assert` and the `assert = [...]` of `pg_restore`: a query and the
// result it must give.

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
class result;
} // namespace pqxx

namespace rollback::db {

struct SqlExpectation {
    std::optional<std::string>
        scalar; ///< one row, one column, compared as text ("t"/"f" for booleans)
    std::optional<std::int64_t> rows; ///< number of rows
};

/// The text a JSON `expect` value is compared as: strings as is, integers in decimal, booleans as
/// PostgreSQL prints them ("t"/"f"), floats via their shortest form. nullopt for other types.
std::optional<std::string> expectation_text(const boost::json::value& v);

/// Runs `sql` with `params` bound to $1, $2, ... (none: run as written) and checks `expect`.
/// Returns "" when it holds, else the problem
/// ("returned 3, expected 0" / "returned 2 rows, expected 1"); SQL errors are returned masked.
std::string check_sql(pqxx::transaction_base& tx, const std::string& sql,
                      const std::vector<std::string>& params, const SqlExpectation& expect);

/// Runs one statement in `tx`: with `params` bound to $1, $2, ... (the extended protocol, one
/// statement), or as written when there are none (the simple protocol: several statements may
/// be given in one text). A value is never spliced into the SQL text.
pqxx::result exec_sql(pqxx::transaction_base& tx, const std::string& sql,
                      const std::vector<std::string>& params);

/// An assertion of a restore step: a query, the values bound to its $1, $2, ... and the result
/// it must give.
struct SqlAssert {
    std::string sql;                 ///< with $1, $2, ... for the variables it used
    std::vector<std::string> params; ///< their values, bound
    SqlExpectation expect;
};

/// Runs `asserts` in `tx`; returns one line per failing assertion
/// ("assert \"SELECT ...\": returned 3, expected 0").
std::vector<std::string> run_asserts(pqxx::transaction_base& tx,
                                     const std::vector<SqlAssert>& asserts);

} // namespace rollback::db
