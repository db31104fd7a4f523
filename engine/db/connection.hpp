// SPDX-License-Identifier: MIT
#pragma once

// PostgreSQL connections for everything that talks to a database (db/ itself, the pg_restore, sql
// and sql_assert actions, the sql source): DSN handling (the password never reaches argv or output)
// and connecting with classified errors.

#include "util/error.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace pqxx {
class connection_base;
} // namespace pqxx

namespace rollback::db {

/// A parsed libpq connection string (URI or key=value). Parsing registers the password with
/// util::register_secret, so it is masked in every output from then on.
class Dsn {
  public:
    /// Throws util::Error (exit 2) when libpq cannot parse `text`; the message is masked.
    static Dsn parse(std::string_view text);

    /// The same server and credentials, another database.
    Dsn with_dbname(const std::string& dbname) const;
    /// The same DSN with parameter `key` set to `value`, unless the DSN sets `key` itself.
    Dsn with_default(const std::string& key, const std::string& value) const;
    /// The same DSN with parameter `key` set to `value`, whatever the DSN says.
    Dsn with_param(const std::string& key, const std::string& value) const;
    /// The `dbname` parameter, empty when the DSN leaves it to libpq defaults.
    std::string dbname() const;
    /// key=value form with every parameter, password included: for libpq only, never printed.
    std::string conninfo() const;
    /// key=value form without the password: for child processes' argv (`--dbname=`).
    std::string conninfo_without_password() const;
    /// Environment for pg_dump/pg_restore: PGPASSWORD when the DSN has one.
    std::map<std::string, std::string> child_env() const;
    /// For output: the DSN with the password replaced by "***".
    std::string masked() const;
    /// The `host` parameter (a directory for a Unix socket), empty when unset.
    std::string host() const;
    /// The parameter `key` as libpq read it, empty when unset.
    std::string param(const std::string& key) const;

  private:
    std::map<std::string, std::string> m_params;
};

/// Thrown when connecting fails: a util::Error (exit 1) whose message names the target (masked)
/// and the cause, with a hint for the usual causes (wrong password, server down, no such db).
class ConnectError : public util::Error {
  public:
    using util::Error::Error;
};

/// True when `what`, a connection failure's message, is one that retrying cannot cure: the
/// server refused the password (or none was given), or the role or the database does not exist.
/// A server that does not answer (down, restarting, unreachable) is false.
bool refused_for_good(const std::string& what);

/// Deletes through the concrete libpqxx type (connection_base has no virtual destructor).
struct ConnectionDeleter {
    void operator()(pqxx::connection_base* c) const;
};
using Connection = std::unique_ptr<pqxx::connection_base, ConnectionDeleter>;

/// An open connection with the session pinned to deterministic text output (UTC, ISO dates,
/// full float precision) so row checksums are comparable between databases and runs. The
/// session is named by the DSN's application_name from its first moment (the startup packet),
/// "rollback" when the DSN names none. `answer_within` (0: no bound) bounds the session's setup
/// after the connection (db::AnswerDeadline; connecting itself is bounded by the DSN's
/// connect_timeout). Throws ConnectError.
Connection connect(const Dsn& dsn, std::chrono::milliseconds answer_within = {});

/// True when `e` says the server went away rather than refused something: libpqxx's
/// broken_connection, or SQLSTATE class 57P (admin_shutdown, crash_shutdown,
/// cannot_connect_now: the session a fast shutdown or a restart ends).
bool server_went_away(const std::exception& e);

/// The ConnectError for a server that closed the connection (shutting down, restarting) while
/// its session was being set up, right after connecting: it did not answer, as if it had
/// refused the connection (refused_for_good() is false for it). `e`: libpqxx's
/// broken_connection.
ConnectError lost_while_connecting(const Dsn& dsn, const std::exception& e);

/// The message of a libpqxx/libpq exception, masked, trimmed of trailing newlines.
std::string db_error_text(const std::exception& e);

} // namespace rollback::db
