// SPDX-License-Identifier: MIT
// The PostgreSQL store's schema and its migrations (docs/config.md "Shared state in PostgreSQL").
// A migration is appended, never edited: version N is the first N entries of k_migrations.
#include "state/pg_schema.hpp"

#include "db/answer_deadline.hpp"
#include "state/pg_retry.hpp"

#include "journal/paths.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <pqxx/connection_base>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

namespace rollback::state {

namespace {

// `@` is replaced by the quoted schema name and a dot.
constexpr const char* k_migrations[] = {
    // 1: everything state::Store keeps.
    "CREATE TABLE @decisions (id text PRIMARY KEY, doc text NOT NULL);"
    "CREATE TABLE @ticks (day text NOT NULL, n bigserial, line text NOT NULL,"
    " PRIMARY KEY (day, n));"
    "CREATE TABLE @approvals (decision_id text PRIMARY KEY, doc text NOT NULL);"
    "CREATE TABLE @documents (name text PRIMARY KEY, doc text NOT NULL);"
    "CREATE TABLE @deploys (n bigserial PRIMARY KEY, line text NOT NULL);"
    "CREATE TABLE @lease (name text PRIMARY KEY, generation bigint NOT NULL,"
    " held boolean NOT NULL, holder text, acquired_at timestamptz, expires_at timestamptz);"
    "INSERT INTO @lease (name, generation, held) VALUES ('run', 0, false);"
    "CREATE TABLE @journal (run_id text NOT NULL, seq bigint NOT NULL,"
    " generation bigint NOT NULL, line text NOT NULL, PRIMARY KEY (run_id, seq));",
    // 2: the approval gates of runs; the monitors' leadership row.
    "CREATE TABLE @gates (run_id text NOT NULL, name text NOT NULL, doc text NOT NULL,"
    " PRIMARY KEY (run_id, name));"
    "INSERT INTO @lease (name, generation, held) VALUES ('leader', 0, false);",
};

[[noreturn]] void newer(const std::string& schema, int version) {
    throw util::Error("the shared state's schema " + schema + " has version " +
                          std::to_string(version) + "; this rollback knows version " +
                          std::to_string(pg_schema_version()) + " — use a newer rollback",
                      util::ExitCode::invalid);
}

std::string with_schema(std::string_view sql, const std::string& prefix) {
    std::string out;
    for (char c : sql) {
        if (c == '@') {
            out += prefix;
        } else {
            out += c;
        }
    }
    return out;
}

} // namespace

db::Connection connect_durable(const db::Dsn& dsn, const PgStoreOptions& options) {
    const ServerWait wait(options, "", util::ExitCode::run_failed);
    auto conn = db::connect(dsn, wait.answer_bound());
    const std::string ms = std::to_string(std::max<long long>(1, options.lease_ttl.count()));
    try {
        const db::AnswerDeadline bound(*conn, wait.answer_bound());
        pqxx::nontransaction nt(*conn);
        nt.exec("SET synchronous_commit = on");
        nt.exec("SET lock_timeout = " + ms);
        nt.exec("SET idle_in_transaction_session_timeout = " + ms);
        nt.commit();
    } catch (const std::exception& e) {
        if (db::server_went_away(e)) {
            throw db::lost_while_connecting(dsn, e);
        }
        throw;
    }
    return conn;
}

db::Dsn bounded_dsn(const db::Dsn& dsn) {
    return dsn.with_default("connect_timeout", "5")
        .with_default("keepalives", "1")
        .with_default("keepalives_idle", "5")
        .with_default("keepalives_interval", "2")
        .with_default("keepalives_count", "3");
}

int pg_schema_version() {
    return static_cast<int>(std::size(k_migrations));
}

std::string schema_prefix(pqxx::connection_base& conn, const std::string& schema) {
    try {
        return conn.quote_name(schema) + ".";
    } catch (const pqxx::broken_connection& e) {
        // Quoting asks the session's client encoding: none once the server closed it.
        throw db::ConnectError(
            "the PostgreSQL server closed the connection: " + db::db_error_text(e),
            util::ExitCode::run_failed, "is the server shutting down or restarting?");
    }
}

SchemaMigration migrate_pg_schema(pqxx::connection_base& conn, const std::string& schema) {
    const std::string s = schema_prefix(conn, schema);
    pqxx::work tx(conn);
    // Hosts starting together: one migrates, the others wait here and find it done.
    tx.exec("SET LOCAL lock_timeout = 0");
    tx.exec("SELECT pg_advisory_xact_lock(hashtext(" + tx.quote("rollback-schema:" + schema) +
            "))");
    // A schema that exists (one a DBA made for the role: CREATE SCHEMA ... AUTHORIZATION) is
    // not created again: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even then.
    if (!tx.exec_params("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
                        schema)[0][0]
             .as<bool>()) {
        tx.exec("CREATE SCHEMA " + conn.quote_name(schema));
    }
    tx.exec("CREATE TABLE IF NOT EXISTS " + s +
            "schema_version (version integer NOT NULL,"
            " migrated_at timestamptz NOT NULL DEFAULT now())");
    const auto r = tx.exec("SELECT coalesce(max(version), 0) FROM " + s + "schema_version");
    SchemaMigration m;
    m.from = r[0][0].as<int>();
    m.to = m.from;
    if (m.from > pg_schema_version()) {
        newer(schema, m.from);
    }
    for (int v = m.from; v < pg_schema_version(); ++v) {
        tx.exec(with_schema(k_migrations[v], s));
        tx.exec("INSERT INTO " + s + "schema_version (version) VALUES (" + std::to_string(v + 1) +
                ")");
        m.to = v + 1;
    }
    tx.commit();
    return m;
}

namespace {

// The schema's version without DDL: 0 when it has none (no schema, or no schema_version table).
int version_of(pqxx::connection_base& conn, const std::string& schema) {
    const std::string s = schema_prefix(conn, schema);
    pqxx::read_transaction tx(conn);
    const auto table = tx.exec_params("SELECT to_regclass($1) IS NOT NULL", s + "schema_version");
    if (!table[0][0].as<bool>()) {
        return 0;
    }
    return tx.exec("SELECT coalesce(max(version), 0) FROM " + s + "schema_version")[0][0].as<int>();
}

// What the server said, as the store's error: a server that went away is a connection lost
// (db::ConnectError, tried again by a monitor); anything else `what`, exit 1.
[[noreturn]] void schema_failure(const db::Dsn& dsn, const std::string& what,
                                 const std::exception& e, bool creating) {
    if (db::server_went_away(e)) {
        throw db::lost_while_connecting(dsn, e); // shutting down or restarting: not a refusal
    }
    throw util::Error(
        what + " (" + dsn.masked() + "): " + db::db_error_text(e), util::ExitCode::run_failed,
        creating ? "making the schema needs CREATE on the database (GRANT CREATE ON DATABASE "
                   "... TO the role); on a schema that exists, making its tables needs the role "
                   "to own it or to have CREATE and USAGE on it (a DBA: CREATE SCHEMA ... "
                   "AUTHORIZATION the role) — run rollback state init once as such a role "
                   "(docs/config.md \"Privileges\")"
                 : "the role needs USAGE on the schema and SELECT, INSERT, UPDATE, DELETE on "
                   "its tables; rollback state init, run once by a role that may create it, "
                   "makes it (docs/config.md \"Privileges\")");
}

} // namespace

SchemaMigration open_pg_schema(pqxx::connection_base& conn, const db::Dsn& dsn,
                               const PgStoreOptions& options) {
    const std::string& schema = options.schema;
    int version = 0;
    try {
        version = version_of(conn, schema);
    } catch (const util::Error&) {
        throw;
    } catch (const std::exception& e) {
        schema_failure(dsn, "cannot read the shared state's schema " + schema, e, false);
    }
    if (version == pg_schema_version()) {
        return {version, version}; // nothing to create: no DDL, no CREATE privilege needed
    }
    if (version > pg_schema_version()) {
        newer(schema, version);
    }
    if (options.access == SchemaAccess::read) {
        throw util::Error(
            version == 0 ? "the shared state's schema " + schema + " does not exist in " +
                               dsn.masked() + ": nothing has been kept there yet"
                         : "the shared state's schema " + schema + " has version " +
                               std::to_string(version) + "; this rollback reads version " +
                               std::to_string(pg_schema_version()),
            util::ExitCode::invalid,
            "run rollback state init (a command that only reads creates nothing), or check "
            "[state] dsn and schema");
    }
    try {
        return migrate_pg_schema(conn, schema);
    } catch (const util::Error&) {
        throw;
    } catch (const std::exception& e) {
        schema_failure(dsn, "cannot create the shared state's schema " + schema, e, true);
    }
}

void check_run_id(const std::string& run_id) {
    if (!journal::is_valid_run_id(run_id)) {
        throw util::Error("not a run id: " + util::quoted(run_id), util::ExitCode::invalid,
                          "run 'rollback history' to list the runs");
    }
}

std::optional<std::string> text_or_null(const pqxx::field& f) {
    if (f.is_null()) {
        return std::nullopt;
    }
    return f.as<std::string>();
}

std::string join_lines(const pqxx::result& r) {
    std::string out;
    for (const auto& row : r) {
        out += row[0].as<std::string>();
        out += '\n';
    }
    return out;
}

} // namespace rollback::state
