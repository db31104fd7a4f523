// SPDX-License-Identifier: MIT
#pragma once

// The `sql` source: one query returning one number per observation (a data-corruption check,
// a count of stuck orders).

#include "decision/sample.hpp"
#include "util/duration.hpp"

#include <string>

namespace rollback::sources {

/// Connects to `dsn` and runs `query` in a read-only transaction with statement_timeout =
/// `timeout` (also the connect timeout, libpq's minimum of 2 s applying). One row of one column
/// holding a finite number → a value sample. Zero rows, more than one row or column, NULL, a value
/// that is not a number, an SQL error, the statement timeout, a DSN that does not parse → error
/// (the check is broken). The server cannot be reached or refuses the login, the connection drops
/// → unavailable (no data). Details never show the DSN's password.
decision::Sample run_sql_query(const std::string& dsn, const std::string& query,
                               util::Millis timeout, decision::SystemTime now);

} // namespace rollback::sources
