// SPDX-License-Identifier: MIT
#include "state/pg_store.hpp"

#include "state/pg_retry.hpp"
#include "state/pg_schema.hpp"

#include "util/error.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <boost/json.hpp>
#include <pqxx/connection_base>
#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/transaction>

#include <chrono>

namespace rollback::state {

namespace fs = std::filesystem;

SchemaMigration init_pg_schema(const db::Dsn& dsn, const PgStoreOptions& options) {
    PgStoreOptions writer = options;
    writer.access = SchemaAccess::write;
    const db::Dsn bounded = bounded_dsn(dsn);
    auto conn = connect_durable(bounded, writer);
    return open_pg_schema(*conn, bounded, writer);
}

PgStore::PgStore(db::Dsn dsn, fs::path local_dir, PgStoreOptions options)
    : m_dsn(bounded_dsn(dsn)), m_local(std::move(local_dir)), m_options(std::move(options)) {
    m_where = "postgresql (" + dsn.masked() + ") schema " + m_options.schema;
    m_conn = connect_durable(m_dsn, m_options);
    open_pg_schema(*m_conn, m_dsn, m_options);
    m_s = schema_prefix(*m_conn, m_options.schema);
}

PgStore::~PgStore() = default;

// Every statement below runs on the store's one connection, under m_mutex, through
// with_session (pg_retry.hpp): a connection the server dropped, or that stopped answering, is
// opened again and the operation made again, for up to `reconnect_for`. A write that may have
// committed although its answer was lost (`again`) looks first whether it did.

std::string PgStore::put_record(const decision::DecisionRecord& r) {
    const std::string id = decision::record_id(r);
    const std::string doc = decision::to_json(r);
    with_session("writing decision record " + id + " to " + m_where, k_pg_write,
                 [&](pqxx::connection_base& conn, bool) {
                     pqxx::work tx(conn);
                     tx.exec_params("INSERT INTO " + m_s +
                                        "decisions (id, doc) VALUES ($1, $2)"
                                        " ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                                    id, doc);
                     tx.commit();
                 });
    return m_where + " decisions/" + id;
}

decision::DecisionRecord PgStore::record(const std::string& id) const {
    const auto doc = with_session(
        "reading decision record " + id + " in " + m_where, k_pg_read,
        [&](pqxx::connection_base& conn, bool) -> std::optional<std::string> {
            pqxx::read_transaction tx(conn);
            auto r = tx.exec_params("SELECT doc FROM " + m_s + "decisions WHERE id = $1", id);
            if (r.empty()) {
                return std::nullopt;
            }
            return r[0][0].as<std::string>();
        });
    if (!doc) {
        throw util::Error("no decision record " + util::quoted(id) + " in " + m_where,
                          util::ExitCode::invalid);
    }
    return decision::from_json(*doc);
}

std::optional<std::string> PgStore::newest_record_id() const {
    return with_session("reading the decision records of " + m_where, k_pg_read,
                        [&](pqxx::connection_base& conn, bool) {
                            pqxx::read_transaction tx(conn);
                            auto r = tx.exec("SELECT max(id) FROM " + m_s + "decisions");
                            return text_or_null(r[0][0]);
                        });
}

void PgStore::append_tick(const decision::DecisionRecord& r, const std::string& written_id,
                          int keep_days) {
    const std::string day = util::format_time(r.time).substr(0, 10);
    const std::string oldest =
        util::format_time(r.time - std::chrono::hours(24) * keep_days).substr(0, 10);
    const std::string line = tick_line(r, written_id);
    try {
        with_session("appending a tick to " + m_where, k_pg_write,
                     [&](pqxx::connection_base& conn, bool again) {
                         pqxx::work tx(conn);
                         if (again && !tx.exec_params("SELECT 1 FROM " + m_s +
                                                          "ticks WHERE day = $1 AND line = $2",
                                                      day, line)
                                           .empty()) {
                             return; // the commit whose answer was lost
                         }
                         auto seen = tx.exec_params(
                             "SELECT 1 FROM " + m_s + "ticks WHERE day = $1 LIMIT 1", day);
                         tx.exec_params("INSERT INTO " + m_s + "ticks (day, line) VALUES ($1, $2)",
                                        day, line);
                         if (seen.empty()) { // a new day: drop the days past their keep
                             tx.exec_params("DELETE FROM " + m_s + "ticks WHERE day < $1", oldest);
                         }
                         tx.commit();
                     });
    } catch (const std::exception& e) {
        log::warn("cannot append a tick to {}: {}", m_where, db::db_error_text(e));
    }
}

std::vector<std::string> PgStore::ticks_of_day(const std::string& day) const {
    return with_session("reading the ticks of " + day + " in " + m_where, k_pg_read,
                        [&](pqxx::connection_base& conn, bool) {
                            pqxx::read_transaction tx(conn);
                            std::vector<std::string> out;
                            for (const auto& row : tx.exec_params("SELECT line FROM " + m_s +
                                                                      "ticks WHERE day = $1 "
                                                                      "ORDER BY n",
                                                                  day)) {
                                out.push_back(row[0].as<std::string>());
                            }
                            return out;
                        });
}

namespace {

// The run the shared policy memory names as decided ("" when none).
std::string decided_run_of(pqxx::work& tx, const std::string& s) {
    auto r = tx.exec("SELECT doc FROM " + s + "documents WHERE name = 'monitor-policy'");
    if (r.empty()) {
        return "";
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(r[0][0].as<std::string>(), ec);
    if (ec || !v.is_object()) {
        return "";
    }
    const auto* d = v.as_object().if_contains("decided_run");
    if (d == nullptr || !d->is_object()) {
        return "";
    }
    const auto* id = d->as_object().if_contains("run_id");
    return id != nullptr && id->is_string() ? std::string(id->as_string()) : std::string();
}

void put_document(pqxx::transaction_base& tx, const std::string& s, const std::string& name,
                  const std::string& doc) {
    tx.exec_params("INSERT INTO " + s +
                       "documents (name, doc) VALUES ($1, $2)"
                       " ON CONFLICT (name) DO UPDATE SET doc = excluded.doc",
                   name, doc);
}

} // namespace

std::optional<std::string> PgStore::document(const std::string& name) const {
    return with_session("reading " + m_where + " " + name, k_pg_read,
                        [&](pqxx::connection_base& conn, bool) -> std::optional<std::string> {
                            pqxx::read_transaction tx(conn);
                            auto r = tx.exec_params(
                                "SELECT doc FROM " + m_s + "documents WHERE name = $1", name);
                            if (r.empty()) {
                                return std::nullopt;
                            }
                            return r[0][0].as<std::string>();
                        });
}

void PgStore::put_document_now(const std::string& name, const std::string& doc) {
    with_session("writing " + m_where + " " + name, k_pg_write,
                 [&](pqxx::connection_base& conn, bool) {
                     pqxx::work tx(conn);
                     put_document(tx, m_s, name, doc);
                     tx.commit();
                 });
}

std::optional<decision::BaselineBook> PgStore::baselines() const {
    const auto doc = document("baselines");
    if (!doc) {
        return std::nullopt;
    }
    return decision::BaselineBook::from_json(*doc);
}

void PgStore::put_baselines(const decision::BaselineBook& book) {
    put_document_now("baselines", book.to_json());
}

std::string PgStore::put_deploy_marker(const DeployMarker& m) {
    const std::string line = deploy_marker_json(m);
    with_session("writing the deploy marker to " + m_where, k_pg_write,
                 [&](pqxx::connection_base& conn, bool again) {
                     pqxx::work tx(conn);
                     if (again) {
                         // The commit whose answer was lost: its history line is the last.
                         auto last =
                             tx.exec("SELECT line FROM " + m_s + "deploys ORDER BY n DESC LIMIT 1");
                         if (!last.empty() && last[0][0].as<std::string>() == line) {
                             return;
                         }
                     }
                     put_document(tx, m_s, "deploy", line);
                     tx.exec_params("INSERT INTO " + m_s + "deploys (line) VALUES ($1)", line);
                     tx.commit();
                 });
    return m_where + " deploy";
}

std::optional<DeployMarker> PgStore::deploy_marker() const {
    const auto doc = document("deploy");
    if (!doc) {
        return std::nullopt;
    }
    return parse_deploy_marker(*doc, m_where + " deploy");
}

std::vector<DeployMarker> PgStore::deploy_history(const std::string& target) const {
    const std::string text = with_session(
        "reading " + deploy_history_location(), k_pg_read, [&](pqxx::connection_base& conn, bool) {
            pqxx::read_transaction tx(conn);
            return join_lines(tx.exec("SELECT line FROM " + m_s + "deploys ORDER BY n"));
        });
    return parse_deploy_history(text, deploy_history_location(), target);
}

std::string PgStore::deploy_history_location() const {
    return m_where + " deploys";
}

std::vector<BadRelease> PgStore::bad_releases() const {
    const auto doc = document("releases");
    if (!doc) {
        return {};
    }
    return parse_bad_releases(*doc, m_where + " releases");
}

void PgStore::record_bad_release(const BadRelease& bad) {
    try {
        with_session(
            "recording the bad release in " + m_where, k_pg_write,
            [&](pqxx::connection_base& conn, bool) {
                pqxx::work tx(conn);
                // Two hosts marking releases at once: the row lock makes it read-modify-write
                // (and a second time after a lost answer: with_bad_release keeps one entry).
                tx.exec("INSERT INTO " + m_s +
                        "documents (name, doc) VALUES ('releases', "
                        "'{\"version\":1,\"bad_releases\":[]}') ON CONFLICT (name) DO NOTHING");
                auto r = tx.exec("SELECT doc FROM " + m_s +
                                 "documents WHERE name = 'releases' FOR UPDATE");
                auto all = with_bad_release(
                    parse_bad_releases(r[0][0].as<std::string>(), m_where + " releases"), bad);
                put_document(tx, m_s, "releases", bad_releases_json(all));
                tx.commit();
            });
    } catch (const util::Error&) {
        throw;
    } catch (const std::exception& e) {
        throw util::Error("cannot record the bad release in " + m_where + ": " +
                              db::db_error_text(e),
                          util::ExitCode::run_failed);
    }
}

std::optional<std::string> PgStore::policy_memory_document() const {
    return document("monitor-policy");
}

void PgStore::put_policy_memory_document(const std::string& doc) {
    with_session("writing " + policy_memory_location(), k_pg_write,
                 [&](pqxx::connection_base& conn, bool) {
                     pqxx::work tx(conn);
                     if (const auto g = m_policy_fence.load(); g != 0) {
                         if (auto lost = leadership_lost(tx, m_s, g); !lost.empty()) {
                             throw util::Error("the incident policy's memory was not kept: " + lost,
                                               util::ExitCode::locked);
                         }
                     }
                     put_document(tx, m_s, "monitor-policy", doc);
                     tx.commit();
                 });
}

std::string PgStore::policy_memory_location() const {
    return m_where + " monitor-policy";
}

std::vector<ActiveAlert> PgStore::active_alerts() const {
    auto doc = document("alerts");
    return doc ? parse_active_alerts(*doc, m_where + " alerts") : std::vector<ActiveAlert>{};
}

void PgStore::put_active_alerts(const std::vector<ActiveAlert>& alerts) {
    put_document_now("alerts", active_alerts_json(alerts));
}

PgStore::LeaseRow PgStore::lease_row() const {
    return lease_row("run");
}

PgStore::LeaseRow PgStore::lease_row(const std::string& row_name) const {
    return with_session(
        "reading the " + row_name + " lease of " + m_where, k_pg_read,
        [&](pqxx::connection_base& conn, bool) {
            pqxx::read_transaction tx(conn);
            auto r = tx.exec_params(
                "SELECT generation, held,"
                " held AND (expires_at IS NULL OR expires_at > clock_timestamp()), holder,"
                " to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
                " to_char(acquired_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
                " FROM " +
                    m_s + "lease WHERE name = $1",
                row_name);
            LeaseRow row;
            if (r.empty()) {
                return row;
            }
            row.generation = static_cast<std::uint64_t>(r[0][0].as<long long>());
            row.held = r[0][1].as<bool>();
            row.live = r[0][2].as<bool>();
            row.holder = holder_of_text(text_or_null(r[0][3]));
            row.expires_at = text_or_null(r[0][4]).value_or("");
            row.acquired_at = text_or_null(r[0][5]).value_or("");
            if (row.holder && !row.acquired_at.empty()) {
                // The holder's own "started" is when its process built it (a monitor's start,
                // days before it took over): the row knows when this generation took the lease.
                row.holder->started = row.acquired_at;
            }
            return row;
        });
}

LeaseAttempt PgStore::acquire_lease(const Holder& owner) {
    return acquire_row("run", owner);
}

LeaseAttempt PgStore::acquire_fenced_lease(const Holder& owner, const RunFence& fence) {
    return acquire_row("run", owner, &fence);
}

LeaseAttempt PgStore::acquire_row(const std::string& row, const Holder& owner,
                                  const RunFence* fence) {
    const std::string me = holder_text(owner);
    LeaseAttempt out;
    std::uint64_t generation = 0;
    try {
        with_session("taking the " + row + " lease in " + m_where, k_pg_write,
                     [&](pqxx::connection_base& conn, bool again) {
                         // A stale holder seen by an attempt whose commit's answer was lost
                         // stays: the retry finds the row already this process's.
                         out.holder.reset();
                         generation = take_row(conn, row, me, fence, again, out);
                     });
    } catch (const util::Error&) {
        throw;
    } catch (const std::exception& e) {
        throw util::Error("cannot take the " + row + " lease in " + m_where + ": " +
                              db::db_error_text(e),
                          util::ExitCode::state_unwritable);
    }
    if (generation != 0) {
        out.lease = make_pg_lease(m_dsn, m_options, m_s, owner, generation, row);
    }
    return out;
}

// One attempt of acquire_row: the generation taken, or 0 with `out.holder` (a live holder).
std::uint64_t PgStore::take_row(pqxx::connection_base& conn, const std::string& row,
                                const std::string& me, const RunFence* fence, bool again,
                                LeaseAttempt& out) const {
    pqxx::work tx(conn);
    tx.exec("SET LOCAL lock_timeout = " + std::to_string(k_acquire_lock_timeout_ms));
    if (fence != nullptr && fence->leader_generation != 0) {
        // In the transaction that takes the run lock: the leadership is still this
        // process's and live, and the policy memory still names the run it decided.
        if (auto lost = leadership_lost(tx, m_s, fence->leader_generation); !lost.empty()) {
            throw util::Error("no run started: " + lost, util::ExitCode::locked);
        }
        if (!fence->decided_run.empty()) {
            const auto named = decided_run_of(tx, m_s);
            if (named != fence->decided_run) {
                throw util::Error(
                    "no run started: the shared policy memory names " +
                        (named.empty() ? std::string("no decided run") : "run " + named) +
                        ", not " + fence->decided_run +
                        " (it was not kept, or another monitor decided since)",
                    util::ExitCode::state_unwritable);
            }
        }
    }
    auto r = tx.exec_params("SELECT generation, held,"
                            " held AND (expires_at IS NULL OR expires_at > clock_timestamp()),"
                            " holder FROM " +
                                m_s + "lease WHERE name = $1 FOR UPDATE",
                            row);
    const bool live = r[0][2].as<bool>();
    const auto held_by = text_or_null(r[0][3]);
    if (live && again && held_by == me) {
        // The acquisition whose commit's answer was lost took it: this process holds it (its
        // holder text names its pid, host and start to the millisecond).
        return static_cast<std::uint64_t>(r[0][0].as<long long>());
    }
    if (live) {
        out.holder = holder_of_text(held_by).value_or(Holder{});
        return 0;
    }
    // Ended without releasing: it died, or went silent past its expiry.
    out.stale = holder_of_text(held_by);
    const auto generation = static_cast<std::uint64_t>(r[0][0].as<long long>()) + 1;
    tx.exec_params("UPDATE " + m_s +
                       "lease SET generation = $1, held = true, holder = $2,"
                       " acquired_at = clock_timestamp(), expires_at = clock_timestamp() + "
                       "$3 * interval '1 millisecond' WHERE name = $4",
                   static_cast<long long>(generation), me,
                   static_cast<long long>(m_options.lease_ttl.count()), row);
    tx.commit();
    return generation;
}

std::optional<Holder> PgStore::lease_holder() const {
    auto row = lease_row();
    if (!row.live) {
        return std::nullopt;
    }
    return row.holder.value_or(Holder{});
}

std::optional<Holder> PgStore::dead_holder() const {
    auto row = lease_row();
    if (row.live) {
        return std::nullopt;
    }
    return row.holder;
}

} // namespace rollback::state
