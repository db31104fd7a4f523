// SPDX-License-Identifier: MIT
#pragma once

// Internal to the PostgreSQL store: the schema's migrations and the lease and journal pieces
// (pg_schema.cpp, pg_lease.cpp) that PgStore hands out, and the helpers its files share.

#include "db/connection.hpp"
#include "state/pg_store.hpp"

#include <chrono>
#include <pqxx/connection_base>
#include <pqxx/field>
#include <pqxx/result>
#include <pqxx/transaction>

namespace rollback::state {

/// The exit code of a store operation that gave up waiting for the server: a read as a command
/// that only reads (docs/config.md: exit 1), a write as a state that cannot be written (exit 7).
inline constexpr util::ExitCode k_pg_read = util::ExitCode::run_failed;
inline constexpr util::ExitCode k_pg_write = util::ExitCode::state_unwritable;

/// db::connect, with every commit of the session durable before it is acknowledged
/// (`synchronous_commit = on`, whatever the server's default): a record the engine was told is
/// kept must survive a crash of the server, or a step could run twice. No statement of the
/// session waits on a silent peer (docs/config.md "Bounds"): a lock is waited for at most
/// `options.lease_ttl` (`lock_timeout`), and the server ends a transaction of this session left
/// idle for `options.lease_ttl` (`idle_in_transaction_session_timeout`: a holder paused inside a
/// transaction releases its row locks). The session's setup waits for the server as long as an
/// operation's attempt does (pg_retry.hpp). Throws db::ConnectError.
db::Connection connect_durable(const db::Dsn& dsn, const PgStoreOptions& options);

/// `dsn` with a bound on connecting (`connect_timeout=5`: a server or proxy that accepts the
/// connection and says nothing) and TCP keepalives on (an idle session whose peer is gone is
/// noticed in about 11 s instead of the kernel's two hours), unless it sets them itself.
db::Dsn bounded_dsn(const db::Dsn& dsn);

/// Opens the schema on `conn` for `options.access`: its version read without DDL (USAGE on the
/// schema and SELECT on schema_version suffice); at this build's version, nothing more. Else a
/// writer creates or migrates it (migrate_pg_schema; util::Error exit 1 when the role may not);
/// a reader refuses (util::Error exit 2: `rollback state init`). A newer version is refused
/// (exit 2). db::ConnectError when the server closes the session meanwhile.
SchemaMigration open_pg_schema(pqxx::connection_base& conn, const db::Dsn& dsn,
                               const PgStoreOptions& options);

/// "" when the leadership of `generation` is live now (its row locked FOR SHARE until `tx`
/// ends, so no takeover commits meanwhile); else why not ("this monitor no longer leads ...").
std::string leadership_lost(pqxx::work& tx, const std::string& s, std::uint64_t generation);

/// `SET LOCAL lock_timeout` for the statements of `tx` that take a lease row: an acquisition
/// never waits on a silent holder's transaction longer than this.
inline constexpr long long k_acquire_lock_timeout_ms = 1000;

/// `"<schema>".` for statements.
std::string schema_prefix(pqxx::connection_base& conn, const std::string& schema);

/// Creates or migrates `schema` on `conn` in one transaction (see init_pg_schema).
SchemaMigration migrate_pg_schema(pqxx::connection_base& conn, const std::string& schema);

/// A lease PgStore won on the lease row `row` ("run", "leader") of the schema `prefix`
/// (schema_prefix): renews itself every `options.heartbeat` from a thread of its own
/// connection, opened when first used.
std::unique_ptr<RunLease> make_pg_lease(const db::Dsn& dsn, const PgStoreOptions& options,
                                        std::string prefix, Holder holder, std::uint64_t generation,
                                        const std::string& row);

/// An appender of `run_id`'s journal in the schema `prefix`, fenced by `generation`: continues
/// after `next_seq` and the line hashed `last_hash`. Its connection is opened when first used.
std::unique_ptr<journal::Appender> make_pg_appender(const db::Dsn& dsn,
                                                    const PgStoreOptions& options,
                                                    std::string prefix, std::string run_id,
                                                    std::string where, std::uint64_t generation,
                                                    std::uint64_t next_seq, std::string last_hash);

/// The holder's document as the lease row keeps it, and back (nullopt for NULL).
/// Refuses (util::Error, exit 2) a text that is not a run id (journal::is_valid_run_id).
void check_run_id(const std::string& run_id);
/// A column's text, nullopt for SQL NULL.
std::optional<std::string> text_or_null(const pqxx::field& f);
/// The first column of every row, each followed by '\n' (a journal's lines).
std::string join_lines(const pqxx::result& r);

std::string holder_text(const Holder& h);
std::optional<Holder> holder_of_text(const std::optional<std::string>& text);

/// SQL: the lease row's expiry has not passed on the server's clock (the one clock of every host).
std::string live_sql();
/// SQL: the expiry of a lease renewed now for `ttl`, on the server's clock.
std::string ttl_sql(std::chrono::milliseconds ttl);

} // namespace rollback::state
