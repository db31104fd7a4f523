// SPDX-License-Identifier: MIT
// The PostgreSQL store's runs: listing them, reading, importing and creating their journals (one
// row per record in SCHEMA.journal; appends fenced by the run lease, pg_lease.cpp).
#include "state/pg_store.hpp"

#include "journal/paths.hpp"
#include "state/pg_retry.hpp"
#include "state/pg_schema.hpp"

#include "util/error.hpp"
#include "util/sha256.hpp"

#include <pqxx/connection_base>
#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/transaction>

namespace rollback::state {

namespace fs = std::filesystem;

std::vector<std::string> PgStore::list_runs() const {
    return with_session("reading the runs of " + m_where, k_pg_read,
                        [&](pqxx::connection_base& conn, bool) {
                            pqxx::read_transaction tx(conn);
                            std::vector<std::string> out;
                            for (const auto& row : tx.exec("SELECT run_id FROM " + m_s +
                                                           "journal WHERE seq = 0 ORDER BY "
                                                           "run_id DESC")) {
                                out.push_back(row[0].as<std::string>());
                            }
                            return out;
                        });
}

std::optional<std::string> PgStore::latest_run() const {
    return with_session("reading the runs of " + m_where, k_pg_read,
                        [&](pqxx::connection_base& conn, bool) {
                            pqxx::read_transaction tx(conn);
                            return text_or_null(tx.exec("SELECT max(run_id) FROM " + m_s +
                                                        "journal WHERE seq = 0")[0][0]);
                        });
}

std::string PgStore::journal_location(const std::string& run_id) const {
    return m_where + " runs/" + run_id;
}

fs::path PgStore::artifacts_dir(const std::string& run_id) const {
    return journal::run_dir(m_local, run_id);
}

std::string PgStore::journal_text(const std::string& run_id) const {
    check_run_id(run_id);
    const std::string content = with_session(
        "reading journal " + journal_location(run_id), k_pg_read,
        [&](pqxx::connection_base& conn, bool) {
            pqxx::read_transaction tx(conn);
            return join_lines(tx.exec_params(
                "SELECT line FROM " + m_s + "journal WHERE run_id = $1 ORDER BY seq", run_id));
        });
    if (content.empty()) {
        throw util::Error("journal " + journal_location(run_id) + " does not exist",
                          util::ExitCode::invalid, "run 'rollback history' to list the runs");
    }
    return content;
}

journal::Journal PgStore::read_journal(const std::string& run_id,
                                       const journal::RecordSink* each) const {
    return journal::parse(journal_text(run_id), journal_location(run_id), each);
}

std::optional<journal::Entry> PgStore::last_record(const std::string& run_id) const {
    check_run_id(run_id);
    const auto line =
        with_session("reading journal " + journal_location(run_id), k_pg_read,
                     [&](pqxx::connection_base& conn, bool) -> std::optional<std::string> {
                         pqxx::read_transaction tx(conn);
                         const auto rows = tx.exec_params(
                             "SELECT line FROM " + m_s +
                                 "journal WHERE run_id = $1 AND seq > 0 ORDER BY seq DESC LIMIT 1",
                             run_id);
                         if (rows.empty()) {
                             return std::nullopt;
                         }
                         return rows[0][0].as<std::string>();
                     });
    if (!line) {
        return std::nullopt;
    }
    return journal::parse_entry(*line);
}

void PgStore::import_journal(const std::string& run_id, const std::string& text,
                             const std::string& state_args) {
    check_run_id(run_id);
    std::vector<std::string> lines;
    for (std::size_t begin = 0; begin < text.size();) {
        std::size_t end = text.find('\n', begin);
        if (end == std::string::npos) {
            end = text.size();
        }
        lines.push_back(text.substr(begin, end - begin));
        begin = end + 1;
    }
    try {
        with_session(
            "importing journal " + journal_location(run_id), k_pg_write,
            [&](pqxx::connection_base& conn, bool again) {
                pqxx::work tx(conn);
                auto there = tx.exec_params(
                    "SELECT line FROM " + m_s + "journal WHERE run_id = $1 ORDER BY seq", run_id);
                if (!there.empty()) {
                    if (again && join_lines(there) == text + (text.ends_with('\n') ? "" : "\n")) {
                        return; // the import whose commit's answer was lost
                    }
                    throw util::Error("journal " + journal_location(run_id) + " exists already",
                                      util::ExitCode::invalid,
                                      "a run is imported once; compare with: rollback state "
                                      "export " +
                                          run_id + state_args);
                }
                // Imported lines carry generation 0: no lease of this store wrote them.
                std::uint64_t seq = 0;
                for (const auto& line : lines) {
                    tx.exec_params("INSERT INTO " + m_s +
                                       "journal (run_id, seq, generation, line) VALUES ($1, $2, "
                                       "0, $3)",
                                   run_id, static_cast<long long>(seq++), line);
                }
                tx.commit();
            });
    } catch (const util::Error&) {
        throw;
    } catch (const std::exception& e) {
        throw util::Error("cannot import journal " + journal_location(run_id) + ": " +
                              db::db_error_text(e),
                          util::ExitCode::state_unwritable);
    }
}

std::unique_ptr<journal::Appender> PgStore::create_journal(const std::string& run_id,
                                                           const boost::json::object& header_fields,
                                                           const RunLease& lease) {
    check_run_id(run_id);
    const std::string header =
        journal::header_line(header_fields, util::format_time(std::chrono::system_clock::now()));
    const auto generation = static_cast<long long>(lease.generation());
    auto not_held = [&] {
        return util::Error("cannot create journal " + journal_location(run_id) +
                               ": this process lost the run lock of generation " +
                               std::to_string(generation) +
                               " (taken over, or expired); it records and starts nothing more",
                           util::ExitCode::state_unwritable);
    };
    try {
        with_session(
            "creating journal " + journal_location(run_id), k_pg_write,
            [&](pqxx::connection_base& conn, bool again) {
                pqxx::work tx(conn);
                // The lease must be this one and live (not past its expiry) both when the
                // journal is created and when it commits: the insert may have waited.
                const std::string live = "SELECT 1 FROM " + m_s +
                                         "lease WHERE name = 'run' AND generation = $1 AND held AND"
                                         " (expires_at IS NULL OR expires_at > clock_timestamp())";
                if (tx.exec_params(live + " FOR SHARE", generation).empty()) {
                    throw not_held();
                }
                auto done = tx.exec_params("INSERT INTO " + m_s +
                                               "journal (run_id, seq, generation, line)"
                                               " VALUES ($1, 0, $2, $3) ON CONFLICT DO NOTHING",
                                           run_id, generation, header);
                if (done.affected_rows() != 1) {
                    auto there = tx.exec_params("SELECT line, generation FROM " + m_s +
                                                    "journal WHERE run_id = $1 AND seq = 0",
                                                run_id);
                    if (again && !there.empty() && there[0][0].as<std::string>() == header &&
                        there[0][1].as<long long>() == generation) {
                        return; // the creation whose commit's answer was lost
                    }
                    throw util::Error("cannot create journal " + journal_location(run_id) +
                                          ": it exists",
                                      util::ExitCode::state_unwritable);
                }
                if (tx.exec_params(live, generation).empty()) {
                    throw not_held();
                }
                tx.commit();
            });
    } catch (const util::Error&) {
        throw;
    } catch (const std::exception& e) {
        throw util::Error("cannot create journal " + journal_location(run_id) + ": " +
                              db::db_error_text(e),
                          util::ExitCode::state_unwritable);
    }
    return make_pg_appender(m_dsn, m_options, m_s, run_id, journal_location(run_id),
                            lease.generation(), 1, util::sha256_hex(header));
}

std::unique_ptr<journal::Appender> PgStore::open_journal(const std::string& run_id,
                                                         const RunLease& lease,
                                                         std::vector<std::string>* warnings) {
    journal::Journal j = read_journal(run_id);
    if (warnings != nullptr) {
        warnings->insert(warnings->end(), j.warnings.begin(), j.warnings.end());
    }
    const std::string last =
        with_session("reading journal " + journal_location(run_id), k_pg_read,
                     [&](pqxx::connection_base& conn, bool) {
                         pqxx::read_transaction tx(conn);
                         return tx
                             .exec_params("SELECT line FROM " + m_s +
                                              "journal WHERE run_id = $1 ORDER BY seq DESC LIMIT 1",
                                          run_id)[0][0]
                             .as<std::string>();
                     });
    return make_pg_appender(m_dsn, m_options, m_s, run_id, journal_location(run_id),
                            lease.generation(), j.records.size() + 1, util::sha256_hex(last));
}

} // namespace rollback::state
