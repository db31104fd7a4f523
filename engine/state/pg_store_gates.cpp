// SPDX-License-Identifier: MIT
// The approval gates of runs in the PostgreSQL store (table gates; docs/config.md "Shared state
// in PostgreSQL").
#include "state/pg_store.hpp"

#include "state/pg_retry.hpp"
#include "state/pg_schema.hpp"
#include "util/error.hpp"

#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/transaction>

namespace rollback::state {

// A run waits at its approval gate by reading it again and again, for minutes or an hour: a
// session the server or a proxy dropped or left silent, or the table locked past `lease`, is
// waited out as an append waits for the server (reconnecting each second, up to
// `reconnect_for`); after that the run stops as for a full disk (exit 7), resumable, its gate
// opened again by the resume.
std::optional<std::string> PgStore::gate_document(const std::string& run_id,
                                                  const std::string& name) const {
    ServerWait wait(m_options, "cannot read " + gate_location(run_id, name), k_pg_write,
                    {true, true, nullptr});
    std::lock_guard lock(m_mutex);
    return with_connection(
        m_conn, [this] { return connect_durable(m_dsn, m_options); }, wait,
        [&](pqxx::connection_base& conn, bool) -> std::optional<std::string> {
            pqxx::read_transaction tx(conn);
            auto r = tx.exec_params(
                "SELECT doc FROM " + m_s + "gates WHERE run_id = $1 AND name = $2", run_id, name);
            if (r.empty()) {
                return std::nullopt;
            }
            return r[0][0].as<std::string>();
        });
}

bool PgStore::create_gate_document(const std::string& run_id, const std::string& name,
                                   const std::string& doc) {
    try {
        return with_session(
            "keeping " + gate_location(run_id, name), k_pg_write,
            [&](pqxx::connection_base& conn, bool again) {
                pqxx::work tx(conn);
                auto r = tx.exec_params("INSERT INTO " + m_s +
                                            "gates (run_id, name, doc) VALUES ($1, $2, $3)"
                                            " ON CONFLICT DO NOTHING",
                                        run_id, name, doc);
                if (r.affected_rows() == 0 && again) {
                    // Written once: the one whose commit's answer was lost is this one when it
                    // holds these bytes.
                    auto there = tx.exec_params("SELECT doc FROM " + m_s +
                                                    "gates WHERE run_id = $1 AND name = $2",
                                                run_id, name);
                    return !there.empty() && there[0][0].as<std::string>() == doc;
                }
                tx.commit();
                return r.affected_rows() == 1;
            });
    } catch (const util::Error&) {
        throw;
    } catch (const std::exception& e) {
        throw util::Error("cannot keep " + gate_location(run_id, name) + ": " +
                              db::db_error_text(e),
                          util::ExitCode::state_unwritable);
    }
}

void PgStore::rename_gate_document(const std::string& run_id, const std::string& from,
                                   const std::string& to) {
    with_session("renaming " + gate_location(run_id, from), k_pg_write,
                 [&](pqxx::connection_base& conn, bool) {
                     pqxx::work tx(conn);
                     tx.exec_params("UPDATE " + m_s +
                                        "gates SET name = $3 WHERE run_id = $1 AND name = $2",
                                    run_id, from, to);
                     tx.commit();
                 });
}

std::vector<std::string> PgStore::gate_documents(const std::string& run_id) const {
    return with_session("reading the gates of run " + run_id + " in " + m_where, k_pg_read,
                        [&](pqxx::connection_base& conn, bool) {
                            pqxx::read_transaction tx(conn);
                            std::vector<std::string> out;
                            for (const auto& row : tx.exec_params("SELECT name FROM " + m_s +
                                                                      "gates WHERE run_id = $1 "
                                                                      "ORDER BY name",
                                                                  run_id)) {
                                out.push_back(row[0].as<std::string>());
                            }
                            return out;
                        });
}

std::string PgStore::gate_location(const std::string& run_id, const std::string& name) const {
    return m_where + " runs/" + run_id + "/gates/" + name;
}

} // namespace rollback::state
