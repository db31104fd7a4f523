// SPDX-License-Identifier: MIT
#include "state/pg_store.hpp"

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
#include <thread>

namespace rollback::state {

namespace fs = std::filesystem;

SchemaMigration init_pg_schema(const db::Dsn& dsn, const PgStoreOptions& options) {
    auto conn = connect_durable(with_keepalives(dsn), options);
    try {
        return migrate_pg_schema(*conn, options.schema);
    } catch (const util::Error&) {
        throw;
    } catch (const std::exception& e) {
        if (db::server_went_away(e)) {
            throw db::lost_while_connecting(dsn, e); // shutting down or restarting: not a refusal
        }
        throw util::Error("cannot create the shared state's schema " + options.schema + " (" +
                              dsn.masked() + "): " + db::db_error_text(e),
                          util::ExitCode::run_failed);
    }
}

PgStore::PgStore(db::Dsn dsn, fs::path local_dir, PgStoreOptions options)
    : m_dsn(with_keepalives(dsn)), m_local(std::move(local_dir)), m_options(std::move(options)) {
    m_where = "postgresql (" + dsn.masked() + ") schema " + m_options.schema;
    init_pg_schema(m_dsn, m_options);
    m_conn = connect_durable(m_dsn, m_options);
    m_s = schema_prefix(*m_conn, m_options.schema);
}

PgStore::~PgStore() = default;

// Every statement below runs on the store's one connection, under m_mutex; a connection the
// server dropped is opened again by the next call (what failed is thrown, never retried here:
// the caller decides).
PgStore::Session PgStore::session() const {
    std::unique_lock lock(m_mutex);
    if (!m_conn || !m_conn->is_open()) {
        m_conn = connect_durable(m_dsn, m_options);
    }
    return Session{std::move(lock), *m_conn};
}

std::string PgStore::put_record(const decision::DecisionRecord& r) {
    auto c = session();
    const std::string id = decision::record_id(r);
    pqxx::work tx(c.conn);
    tx.exec_params("INSERT INTO " + m_s +
                       "decisions (id, doc) VALUES ($1, $2)"
                       " ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                   id, decision::to_json(r));
    tx.commit();
    return m_where + " decisions/" + id;
}

decision::DecisionRecord PgStore::record(const std::string& id) const {
    std::optional<std::string> doc;
    {
        auto c = session();
        pqxx::read_transaction tx(c.conn);
        auto r = tx.exec_params("SELECT doc FROM " + m_s + "decisions WHERE id = $1", id);
        if (!r.empty()) {
            doc = r[0][0].as<std::string>();
        }
    }
    if (!doc) {
        throw util::Error("no decision record " + util::quoted(id) + " in " + m_where,
                          util::ExitCode::invalid);
    }
    return decision::from_json(*doc);
}

std::optional<std::string> PgStore::newest_record_id() const {
    auto c = session();
    pqxx::read_transaction tx(c.conn);
    auto r = tx.exec("SELECT max(id) FROM " + m_s + "decisions");
    return text_or_null(r[0][0]);
}

void PgStore::append_tick(const decision::DecisionRecord& r, const std::string& written_id,
                          int keep_days) {
    const std::string day = util::format_time(r.time).substr(0, 10);
    const std::string oldest =
        util::format_time(r.time - std::chrono::hours(24) * keep_days).substr(0, 10);
    try {
        auto c = session();
        pqxx::work tx(c.conn);
        auto seen = tx.exec_params("SELECT 1 FROM " + m_s + "ticks WHERE day = $1 LIMIT 1", day);
        tx.exec_params("INSERT INTO " + m_s + "ticks (day, line) VALUES ($1, $2)", day,
                       tick_line(r, written_id));
        if (seen.empty()) { // a new day: drop the days past their keep
            tx.exec_params("DELETE FROM " + m_s + "ticks WHERE day < $1", oldest);
        }
        tx.commit();
    } catch (const std::exception& e) {
        log::warn("cannot append a tick to {}: {}", m_where, db::db_error_text(e));
    }
}

std::vector<std::string> PgStore::ticks_of_day(const std::string& day) const {
    auto c = session();
    pqxx::read_transaction tx(c.conn);
    std::vector<std::string> out;
    for (const auto& row :
         tx.exec_params("SELECT line FROM " + m_s + "ticks WHERE day = $1 ORDER BY n", day)) {
        out.push_back(row[0].as<std::string>());
    }
    return out;
}

void PgStore::put_approval(const ApprovalRequest& a) {
    check_decision_id(a.decision_id);
    auto c = session();
    pqxx::work tx(c.conn);
    tx.exec_params("INSERT INTO " + m_s +
                       "approvals (decision_id, doc) VALUES ($1, $2)"
                       " ON CONFLICT (decision_id) DO UPDATE SET doc = excluded.doc",
                   a.decision_id, approval_json(a));
    tx.commit();
}

bool PgStore::answer_pending_approval(const ApprovalRequest& next) {
    check_decision_id(next.decision_id);
    auto c = session();
    pqxx::work tx(c.conn);
    // One statement: the row is replaced only while it still reads pending and names no run
    // (row-locked by the UPDATE; a concurrent answer re-evaluates the WHERE and finds none).
    auto r = tx.exec_params("UPDATE " + m_s +
                                "approvals SET doc = $2 WHERE decision_id = $1"
                                " AND doc::jsonb->>'state' = 'pending'"
                                " AND coalesce(doc::jsonb->>'run_id', '') = ''",
                            next.decision_id, approval_json(next));
    tx.commit();
    return r.affected_rows() == 1;
}

std::optional<ApprovalRequest> PgStore::approval(const std::string& decision_id) const {
    check_decision_id(decision_id);
    std::optional<std::string> doc;
    {
        auto c = session();
        pqxx::read_transaction tx(c.conn);
        auto r = tx.exec_params("SELECT doc FROM " + m_s + "approvals WHERE decision_id = $1",
                                decision_id);
        if (!r.empty()) {
            doc = r[0][0].as<std::string>();
        }
    }
    if (!doc) {
        return std::nullopt;
    }
    return parse_approval(*doc, m_where + " approvals/" + decision_id);
}

std::vector<ApprovalRequest> PgStore::approvals() const {
    std::vector<std::pair<std::string, std::string>> rows;
    {
        auto c = session();
        pqxx::read_transaction tx(c.conn);
        for (const auto& row :
             tx.exec("SELECT decision_id, doc FROM " + m_s + "approvals ORDER BY decision_id")) {
            rows.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
        }
    }
    std::vector<ApprovalRequest> out;
    for (const auto& [id, doc] : rows) { // ids start with the time
        out.push_back(parse_approval(doc, m_where + " approvals/" + id));
    }
    return out;
}

namespace {
std::string leadership_lost(pqxx::work& tx, const std::string& s, std::uint64_t generation);
} // namespace

void PgStore::request_approval(const ApprovalRequest& a, std::uint64_t leader_generation) {
    check_decision_id(a.decision_id);
    auto c = session();
    pqxx::work tx(c.conn);
    if (leader_generation != 0) {
        // In the transaction that files it: the leadership is still this monitor's and live
        // (a leader paused past its lease files nothing after a takeover).
        if (auto lost = leadership_lost(tx, m_s, leader_generation); !lost.empty()) {
            throw util::Error("no approval request filed for " + a.decision_id + ": " + lost,
                              util::ExitCode::locked);
        }
    }
    // Two monitors filing at once see each other's request: one incident, one request.
    tx.exec("LOCK TABLE " + m_s + "approvals IN SHARE ROW EXCLUSIVE MODE");
    std::vector<ApprovalRequest> all;
    for (const auto& row : tx.exec("SELECT decision_id, doc FROM " + m_s + "approvals")) {
        all.push_back(parse_approval(row[1].as<std::string>(),
                                     m_where + " approvals/" + row[0].as<std::string>()));
    }
    if (auto twin = pending_twin(all, a); !twin.empty()) {
        throw util::Error("no approval request filed for " + a.decision_id + ": request " + twin +
                              " of condition " + a.condition +
                              " is pending (one incident, one request)",
                          util::ExitCode::locked);
    }
    tx.exec_params("INSERT INTO " + m_s +
                       "approvals (decision_id, doc) VALUES ($1, $2)"
                       " ON CONFLICT (decision_id) DO UPDATE SET doc = excluded.doc",
                   a.decision_id, approval_json(a));
    tx.commit();
}

bool PgStore::note_told(const ApprovalRequest& next, std::uint64_t leader_generation) {
    check_decision_id(next.decision_id);
    auto c = session();
    pqxx::work tx(c.conn);
    if (leader_generation != 0) {
        // The leader row FOR SHARE until the commit: a takeover commits before this check or
        // after this write, never between — a leader paused past its lease records nothing
        // over what the next leader told.
        if (auto lost = leadership_lost(tx, m_s, leader_generation); !lost.empty()) {
            throw util::Error("what the [decision] hooks were told of " + next.decision_id +
                                  " was not kept: " + lost,
                              util::ExitCode::locked);
        }
    }
    auto r = tx.exec_params(
        "SELECT doc FROM " + m_s + "approvals WHERE decision_id = $1 FOR UPDATE", next.decision_id);
    if (r.empty()) {
        return false;
    }
    const auto stored =
        parse_approval(r[0][0].as<std::string>(), m_where + " approvals/" + next.decision_id);
    if (stored.state != "pending" || !stored.run_id.empty()) {
        return false; // answered: what it was told matters no more
    }
    tx.exec_params("UPDATE " + m_s + "approvals SET doc = $2 WHERE decision_id = $1",
                   next.decision_id, approval_json(with_told(stored, next)));
    tx.commit();
    return true;
}

namespace {

// The leadership of `generation` is live now (its row locked FOR SHARE until `tx` ends, so no
// takeover commits meanwhile). "" when it is; else why not.
std::string leadership_lost(pqxx::work& tx, const std::string& s, std::uint64_t generation) {
    auto r = tx.exec("SELECT generation, held AND (expires_at IS NULL OR expires_at >"
                     " clock_timestamp()) FROM " +
                     s + "lease WHERE name = 'leader' FOR SHARE");
    const auto now = static_cast<std::uint64_t>(r[0][0].as<long long>());
    if (now != generation) {
        return "this monitor no longer leads (its leadership of generation " +
               std::to_string(generation) + " was taken over: generation " + std::to_string(now) +
               ")";
    }
    if (!r[0][1].as<bool>()) {
        return "this monitor no longer leads (its leadership of generation " +
               std::to_string(generation) + " expired: it was silent past its lease)";
    }
    return "";
}

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

std::optional<std::string> document(pqxx::connection_base& conn, const std::string& s,
                                    const std::string& name) {
    pqxx::read_transaction tx(conn);
    auto r = tx.exec_params("SELECT doc FROM " + s + "documents WHERE name = $1", name);
    if (r.empty()) {
        return std::nullopt;
    }
    return r[0][0].as<std::string>();
}

void put_document(pqxx::transaction_base& tx, const std::string& s, const std::string& name,
                  const std::string& doc) {
    tx.exec_params("INSERT INTO " + s +
                       "documents (name, doc) VALUES ($1, $2)"
                       " ON CONFLICT (name) DO UPDATE SET doc = excluded.doc",
                   name, doc);
}

} // namespace

std::optional<decision::BaselineBook> PgStore::baselines() const {
    std::optional<std::string> doc;
    {
        auto c = session();
        doc = document(c.conn, m_s, "baselines");
    }
    if (!doc) {
        return std::nullopt;
    }
    return decision::BaselineBook::from_json(*doc);
}

void PgStore::put_baselines(const decision::BaselineBook& book) {
    auto c = session();
    pqxx::work tx(c.conn);
    put_document(tx, m_s, "baselines", book.to_json());
    tx.commit();
}

std::string PgStore::put_deploy_marker(const DeployMarker& m) {
    const std::string line = deploy_marker_json(m);
    auto c = session();
    pqxx::work tx(c.conn);
    put_document(tx, m_s, "deploy", line);
    tx.exec_params("INSERT INTO " + m_s + "deploys (line) VALUES ($1)", line);
    tx.commit();
    return m_where + " deploy";
}

std::optional<DeployMarker> PgStore::deploy_marker() const {
    std::optional<std::string> doc;
    {
        auto c = session();
        doc = document(c.conn, m_s, "deploy");
    }
    if (!doc) {
        return std::nullopt;
    }
    return parse_deploy_marker(*doc, m_where + " deploy");
}

std::vector<DeployMarker> PgStore::deploy_history(const std::string& target) const {
    std::string text;
    {
        auto c = session();
        pqxx::read_transaction tx(c.conn);
        text = join_lines(tx.exec("SELECT line FROM " + m_s + "deploys ORDER BY n"));
    }
    return parse_deploy_history(text, deploy_history_location(), target);
}

std::string PgStore::deploy_history_location() const {
    return m_where + " deploys";
}

std::vector<BadRelease> PgStore::bad_releases() const {
    std::optional<std::string> doc;
    {
        auto c = session();
        doc = document(c.conn, m_s, "releases");
    }
    if (!doc) {
        return {};
    }
    return parse_bad_releases(*doc, m_where + " releases");
}

void PgStore::record_bad_release(const BadRelease& bad) {
    try {
        auto c = session();
        pqxx::work tx(c.conn);
        // Two hosts marking releases at once: the row lock makes it read-modify-write.
        tx.exec("INSERT INTO " + m_s +
                "documents (name, doc) VALUES ('releases', '{\"version\":1,\"bad_releases\":[]}')"
                " ON CONFLICT (name) DO NOTHING");
        auto r = tx.exec("SELECT doc FROM " + m_s + "documents WHERE name = 'releases' FOR UPDATE");
        auto all = with_bad_release(
            parse_bad_releases(r[0][0].as<std::string>(), m_where + " releases"), bad);
        put_document(tx, m_s, "releases", bad_releases_json(all));
        tx.commit();
    } catch (const util::Error&) {
        throw;
    } catch (const std::exception& e) {
        throw util::Error("cannot record the bad release in " + m_where + ": " +
                              db::db_error_text(e),
                          util::ExitCode::run_failed);
    }
}

std::optional<std::string> PgStore::policy_memory_document() const {
    auto c = session();
    return document(c.conn, m_s, "monitor-policy");
}

void PgStore::put_policy_memory_document(const std::string& doc) {
    auto c = session();
    pqxx::work tx(c.conn);
    if (const auto g = m_policy_fence.load(); g != 0) {
        if (auto lost = leadership_lost(tx, m_s, g); !lost.empty()) {
            throw util::Error("the incident policy's memory was not kept: " + lost,
                              util::ExitCode::locked);
        }
    }
    put_document(tx, m_s, "monitor-policy", doc);
    tx.commit();
}

std::string PgStore::policy_memory_location() const {
    return m_where + " monitor-policy";
}

std::vector<ActiveAlert> PgStore::active_alerts() const {
    auto c = session();
    auto doc = document(c.conn, m_s, "alerts");
    return doc ? parse_active_alerts(*doc, m_where + " alerts") : std::vector<ActiveAlert>{};
}

void PgStore::put_active_alerts(const std::vector<ActiveAlert>& alerts) {
    auto c = session();
    pqxx::work tx(c.conn);
    put_document(tx, m_s, "alerts", active_alerts_json(alerts));
    tx.commit();
}

PgStore::LeaseRow PgStore::lease_row() const {
    return lease_row("run");
}

PgStore::LeaseRow PgStore::lease_row(const std::string& row_name) const {
    auto c = session();
    pqxx::read_transaction tx(c.conn);
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
        // The holder's own "started" is when its process built it (a monitor's start, days
        // before it took over): the row knows when this generation took the lease.
        row.holder->started = row.acquired_at;
    }
    return row;
}

LeaseAttempt PgStore::acquire_lease(const Holder& owner) {
    return acquire_row("run", owner);
}

LeaseAttempt PgStore::acquire_fenced_lease(const Holder& owner, const RunFence& fence) {
    return acquire_row("run", owner, &fence);
}

LeaseAttempt PgStore::acquire_row(const std::string& row, const Holder& owner,
                                  const RunFence* fence) {
    LeaseAttempt out;
    std::uint64_t generation = 0;
    try {
        auto c = session();
        pqxx::work tx(c.conn);
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
        auto holder = holder_of_text(text_or_null(r[0][3]));
        if (live) {
            out.holder = holder.value_or(Holder{});
            return out;
        }
        // Ended without releasing: it died, or went silent past its expiry.
        out.stale = holder;
        generation = static_cast<std::uint64_t>(r[0][0].as<long long>()) + 1;
        tx.exec_params("UPDATE " + m_s +
                           "lease SET generation = $1, held = true, holder = $2,"
                           " acquired_at = clock_timestamp(), expires_at = clock_timestamp() + "
                           "$3 * interval '1 millisecond' WHERE name = $4",
                       static_cast<long long>(generation), holder_text(owner),
                       static_cast<long long>(m_options.lease_ttl.count()), row);
        tx.commit();
    } catch (const util::Error&) {
        throw;
    } catch (const std::exception& e) {
        throw util::Error("cannot take the " + row + " lease in " + m_where + ": " +
                              db::db_error_text(e),
                          util::ExitCode::state_unwritable);
    }
    out.lease = make_pg_lease(m_dsn, m_options, owner, generation, row);
    return out;
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
