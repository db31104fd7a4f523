// SPDX-License-Identifier: MIT
// The approval gates of runs in the PostgreSQL store (table gates; docs/config.md "Shared state
// in PostgreSQL").
#include "state/pg_store.hpp"

#include "util/error.hpp"
#include "util/log.hpp"

#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/transaction>

#include <chrono>
#include <thread>

namespace rollback::state {

// A run waits at its approval gate by reading it again and again, for minutes or an hour: a
// session the server or a proxy dropped, or the table locked past `lease`, is waited out as an
// append waits for the server (reconnecting each second, up to `reconnect_for`); after that the
// run stops as for a full disk (exit 7), resumable, its gate opened again by the resume.
std::optional<std::string> PgStore::gate_document(const std::string& run_id,
                                                  const std::string& name) const {
    const auto deadline = std::chrono::steady_clock::now() + m_options.reconnect_for;
    for (;;) {
        try {
            auto c = session();
            pqxx::read_transaction tx(c.conn);
            auto r = tx.exec_params(
                "SELECT doc FROM " + m_s + "gates WHERE run_id = $1 AND name = $2", run_id, name);
            if (r.empty()) {
                return std::nullopt;
            }
            return r[0][0].as<std::string>();
        } catch (const std::exception& e) {
            const auto* own = dynamic_cast<const util::Error*>(&e);
            if (own != nullptr && dynamic_cast<const db::ConnectError*>(&e) == nullptr) {
                throw;
            }
            {
                std::lock_guard lock(m_mutex);
                m_conn.reset(); // opened again by the next try
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                throw util::Error("cannot read " + gate_location(run_id, name) +
                                      ": the PostgreSQL server did not answer for " +
                                      std::to_string(m_options.reconnect_for.count() / 1000) +
                                      " s: " + db::db_error_text(e),
                                  util::ExitCode::state_unwritable);
            }
            log::warn("reading {}: {}; retrying", gate_location(run_id, name),
                      db::db_error_text(e));
            std::this_thread::sleep_for(std::chrono::seconds(1));
        }
    }
}

bool PgStore::create_gate_document(const std::string& run_id, const std::string& name,
                                   const std::string& doc) {
    try {
        auto c = session();
        pqxx::work tx(c.conn);
        auto r = tx.exec_params("INSERT INTO " + m_s +
                                    "gates (run_id, name, doc) VALUES ($1, $2, $3)"
                                    " ON CONFLICT DO NOTHING",
                                run_id, name, doc);
        tx.commit();
        return r.affected_rows() == 1;
    } catch (const std::exception& e) {
        throw util::Error("cannot keep " + gate_location(run_id, name) + ": " +
                              db::db_error_text(e),
                          util::ExitCode::state_unwritable);
    }
}

void PgStore::rename_gate_document(const std::string& run_id, const std::string& from,
                                   const std::string& to) {
    auto c = session();
    pqxx::work tx(c.conn);
    tx.exec_params("UPDATE " + m_s + "gates SET name = $3 WHERE run_id = $1 AND name = $2", run_id,
                   from, to);
    tx.commit();
}

std::vector<std::string> PgStore::gate_documents(const std::string& run_id) const {
    auto c = session();
    pqxx::read_transaction tx(c.conn);
    std::vector<std::string> out;
    for (const auto& row : tx.exec_params(
             "SELECT name FROM " + m_s + "gates WHERE run_id = $1 ORDER BY name", run_id)) {
        out.push_back(row[0].as<std::string>());
    }
    return out;
}

std::string PgStore::gate_location(const std::string& run_id, const std::string& name) const {
    return m_where + " runs/" + run_id + "/gates/" + name;
}

} // namespace rollback::state
