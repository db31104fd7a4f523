// SPDX-License-Identifier: MIT
// The PostgreSQL store's run lease: a row with a generation and an expiry, renewed by a
// heartbeat thread (its fenced journal appender: pg_appender.cpp).
#include "state/pg_schema.hpp"

#include "db/answer_deadline.hpp"
#include "state/pg_retry.hpp"

#include "journal/writer.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/sha256.hpp"

#include "util/json_text.hpp"

#include <boost/json.hpp>

#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/transaction>
#include <thread>
#include <utility>
#include <vector>

namespace rollback::state {

std::string holder_text(const Holder& h) {
    return util::json_text(to_json(h));
}

std::optional<Holder> holder_of_text(const std::optional<std::string>& text) {
    if (!text) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(*text, ec);
    if (ec || !v.is_object()) {
        return Holder{};
    }
    return holder_from_json(v.as_object());
}

std::string live_sql() {
    return "(expires_at IS NULL OR expires_at > clock_timestamp())";
}

std::string ttl_sql(std::chrono::milliseconds ttl) {
    return "clock_timestamp() + interval '" + std::to_string(ttl.count()) + " milliseconds'";
}

namespace {

class PgLease final : public RunLease {
  public:
    PgLease(db::Dsn dsn, PgStoreOptions options, std::string prefix, Holder holder,
            std::uint64_t generation, std::string row)
        : RunLease(std::move(holder), generation), m_dsn(std::move(dsn)),
          m_options(std::move(options)), m_row(std::move(row)), m_s(std::move(prefix)) {
        if (m_options.heartbeat.count() > 0) {
            m_thread = std::thread([this] { beat(); });
        }
    }
    ~PgLease() override { release(); }

    std::optional<util::SystemTime> expires_at() const override {
        std::lock_guard lock(m_mutex);
        try {
            ServerWait wait(m_options, "reading the " + m_row + " lease", k_pg_read, k_brief);
            return with_connection(
                m_conn, [this] { return connect_durable(m_dsn, m_options); }, wait,
                [&](pqxx::connection_base& conn, bool) -> std::optional<util::SystemTime> {
                    pqxx::read_transaction tx(conn);
                    auto r = tx.exec_params(
                        "SELECT (extract(epoch FROM expires_at) * 1000)::bigint FROM " + m_s +
                            "lease WHERE name = $2 AND generation = $1",
                        static_cast<long long>(m_generation), m_row);
                    if (r.empty() || r[0][0].is_null()) {
                        return std::nullopt;
                    }
                    return util::SystemTime(std::chrono::milliseconds(r[0][0].as<long long>()));
                });
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }

    bool renew() override {
        std::lock_guard lock(m_mutex);
        return renew_locked().value_or(!m_lost);
    }

    void set_run_id(const std::string& run_id) override {
        std::lock_guard lock(m_mutex);
        m_holder.run_id = run_id;
        update("holder = $3", holder_text(m_holder), k_whole);
    }

    void set_reason(const std::string& reason) override {
        std::lock_guard lock(m_mutex);
        m_holder.reason = reason;
        update("holder = $3", holder_text(m_holder), k_whole);
    }

    // Brief: a release the server does not answer ends by the row's expiry all the same (the
    // next starter sees this holder as dead); a run stopped by a silent server does not wait
    // for it twice.
    void release() noexcept override {
        stop_heartbeat();
        std::lock_guard lock(m_mutex);
        if (m_released) {
            return;
        }
        m_released = true;
        try {
            update("held = false, holder = NULL, expires_at = NULL", std::nullopt, k_brief);
        } catch (const std::exception& e) {
            log::warn("releasing the shared run lock: {}", e.what());
        }
    }

    void release_leaving(const Holder& dead) override {
        stop_heartbeat();
        std::lock_guard lock(m_mutex);
        m_released = true;
        try {
            update("held = false, holder = $3, expires_at = NULL", holder_text(dead), k_brief);
        } catch (const std::exception& e) {
            throw util::Error("cannot record the dead holder in the shared run lock: " +
                                  db::db_error_text(e),
                              util::ExitCode::state_unwritable);
        }
    }

  private:
    static constexpr WaitPolicy k_whole{};
    static constexpr WaitPolicy k_brief{false, false, nullptr};

    // UPDATE of our row while it is still ours and live; `value` is $3 when given. A lease past
    // its expiry is lost even while nobody took it yet: a holder that was silent that long (a
    // pause, a partition) renews, records and starts nothing more (docs/config.md "Fencing"),
    // and its row is left for the next starter, who finds it dead. Tried again as `policy`
    // says (pg_retry.hpp): an UPDATE made twice after a lost answer changes nothing more.
    bool update(const std::string& set, const std::optional<std::string>& value,
                WaitPolicy policy) {
        ServerWait wait(m_options,
                        "updating the shared " + m_row + " lease of generation " +
                            std::to_string(m_generation),
                        k_pg_write, policy);
        return with_connection(
            m_conn, [this] { return connect_durable(m_dsn, m_options); }, wait,
            [&](pqxx::connection_base& conn, bool again) {
                pqxx::work tx(conn);
                const std::string sql = "UPDATE " + m_s + "lease SET " + set +
                                        " WHERE name = $2 AND generation = $1 AND held AND " +
                                        live_sql();
                auto r =
                    value ? tx.exec_params(sql, static_cast<long long>(m_generation), m_row, *value)
                          : tx.exec_params(sql, static_cast<long long>(m_generation), m_row);
                tx.commit();
                // A renewal made again after its answer was lost: the first one committed.
                return r.affected_rows() == 1 || (again && renewed_now(conn));
            });
    }

    // Our row is still ours and live (after an update whose commit's answer was lost).
    bool renewed_now(pqxx::connection_base& conn) {
        pqxx::read_transaction tx(conn);
        return !tx.exec_params("SELECT 1 FROM " + m_s +
                                   "lease WHERE name = $2 AND generation = $1 AND held AND " +
                                   live_sql(),
                               static_cast<long long>(m_generation), m_row)
                    .empty();
    }

    // true: renewed; false: lost (another acquisition); nullopt: the server did not answer
    // (the next beat tries again; a session dropped while idle is opened again at once).
    std::optional<bool> renew_locked() {
        if (m_lost || m_released) {
            return false;
        }
        try {
            if (!update("expires_at = " + ttl_sql(m_options.lease_ttl), std::nullopt, k_brief) &&
                !(m_server_away && take_back())) {
                m_lost = true;
                log::warn("the shared {} lease of generation {} was taken over or expired", m_row,
                          m_generation);
                return false;
            }
            m_server_away = false;
            return true;
        } catch (const std::exception& e) {
            m_server_away = true;
            log::warn("{} (renewing it again at the next beat)", db::db_error_text(e));
            return std::nullopt;
        }
    }

    // After beats the server did not answer (a restart, a partition): a lease that expired in
    // the meantime while its row still names this holder under this generation was taken by
    // nobody — every acquisition moves the generation, and every journal append is conditional
    // on it, so no one else can have acted. Renewed by a compare-and-swap on (generation,
    // holder); a row taken over in between is not touched (docs/config.md "The server going
    // away").
    bool take_back() {
        ServerWait wait(m_options,
                        "renewing the shared " + m_row + " lease of generation " +
                            std::to_string(m_generation),
                        k_pg_write, k_brief);
        const bool renewed = with_connection(
            m_conn, [this] { return connect_durable(m_dsn, m_options); }, wait,
            [&](pqxx::connection_base& conn, bool again) {
                pqxx::work tx(conn);
                auto r = tx.exec_params(
                    "UPDATE " + m_s + "lease SET expires_at = " + ttl_sql(m_options.lease_ttl) +
                        " WHERE name = $2 AND generation = $1 AND held AND holder = $3",
                    static_cast<long long>(m_generation), m_row, holder_text(m_holder));
                tx.commit();
                return r.affected_rows() == 1 || (again && renewed_now(conn));
            });
        if (renewed) {
            m_server_away = false;
            log::warn("the shared {} lease of generation {} expired while the PostgreSQL server "
                      "did not answer; nobody took it: renewed",
                      m_row, m_generation);
        }
        return renewed;
    }
    void beat() {
        std::unique_lock lock(m_mutex);
        while (!m_stop) {
            if (m_wake.wait_for(lock, m_options.heartbeat, [this] { return m_stop; })) {
                break;
            }
            if (renew_locked() == false) {
                break;
            }
        }
    }

    void stop_heartbeat() noexcept {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_wake.notify_all();
        if (m_thread.joinable() && m_thread.get_id() != std::this_thread::get_id()) {
            m_thread.join();
        }
    }

    db::Dsn m_dsn;
    PgStoreOptions m_options;
    std::string m_row; ///< the lease row: "run" (the run lock) or "leader"
    std::string m_s;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::thread m_thread;
    mutable db::Connection m_conn;
    bool m_stop = false;
    bool m_lost = false;
    bool m_released = false;
    bool m_server_away = false; ///< a beat since the last renewal got no answer from the server
};

} // namespace

std::unique_ptr<RunLease> make_pg_lease(const db::Dsn& dsn, const PgStoreOptions& options,
                                        std::string prefix, Holder holder, std::uint64_t generation,
                                        const std::string& row) {
    return std::make_unique<PgLease>(dsn, options, std::move(prefix), std::move(holder), generation,
                                     row);
}

} // namespace rollback::state
