// SPDX-License-Identifier: MIT
// The PostgreSQL store's schema and its migrations (docs/config.md "Shared state in PostgreSQL").
// A migration is appended, never edited: version N is the first N entries of k_migrations.
#include "state/pg_schema.hpp"

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
    auto conn = db::connect(dsn);
    const std::string ms = std::to_string(std::max<long long>(1, options.lease_ttl.count()));
    try {
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

db::Dsn with_keepalives(const db::Dsn& dsn) {
    return dsn.with_default("keepalives", "1")
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
    tx.exec("CREATE SCHEMA IF NOT EXISTS " + conn.quote_name(schema));
    tx.exec("CREATE TABLE IF NOT EXISTS " + s +
            "schema_version (version integer NOT NULL,"
            " migrated_at timestamptz NOT NULL DEFAULT now())");
    const auto r = tx.exec("SELECT coalesce(max(version), 0) FROM " + s + "schema_version");
    SchemaMigration m;
    m.from = r[0][0].as<int>();
    m.to = m.from;
    if (m.from > pg_schema_version()) {
        throw util::Error("the shared state's schema " + schema + " has version " +
                              std::to_string(m.from) + "; this rollback knows version " +
                              std::to_string(pg_schema_version()) + " — use a newer rollback",
                          util::ExitCode::invalid);
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
