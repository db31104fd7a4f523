// SPDX-License-Identifier: MIT
// The PostgreSQL store's fenced journal appender: every record committed under a check that the
// run lease of its generation is still held and live (docs/config.md "Fencing").
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
namespace {

class PgAppender final : public journal::Appender {
  public:
    PgAppender(db::Dsn dsn, PgStoreOptions options, std::string prefix, std::string run_id,
               std::string where, std::uint64_t generation, std::uint64_t next_seq,
               std::string last_hash)
        : m_dsn(std::move(dsn)), m_options(std::move(options)), m_run_id(std::move(run_id)),
          m_where(std::move(where)), m_s(std::move(prefix)), m_generation(generation),
          m_next_seq(next_seq), m_last_hash(std::move(last_hash)) {
        if (const char* k = std::getenv("ROLLBACK_TEST_KILL_AT_RECORD"); k != nullptr && *k) {
            m_kill_at = std::atoll(k);
        }
    }

    ~PgAppender() override {
        try {
            sync();
        } catch (const std::exception& e) {
            log::warn("journal {}: {}", m_where, e.what());
        }
    }
    PgAppender(const PgAppender&) = delete;
    PgAppender& operator=(const PgAppender&) = delete;

    // Every record is committed before append() returns, checks and all. Durability::with_next
    // is the file journal's contract in PostgreSQL's terms: that commit does not wait for its
    // WAL flush (synchronous_commit off for the transaction); the next synchronous commit
    // flushes the WAL up to it, as the file's next fdatasync covers the line before.
    std::uint64_t append(boost::json::object record, journal::Durability durability) override {
        if (m_broken) {
            throw util::Error(m_why, util::ExitCode::state_unwritable);
        }
        const std::uint64_t seq = m_next_seq;
        const std::string line =
            journal::record_line(std::move(record), seq,
                                 util::format_time(std::chrono::system_clock::now()), m_last_hash);
        // A commit whose answer was lost is made again and finds its own line by (run_id, seq);
        // a connection lost or silent is opened again for up to reconnect_for (pg_retry.hpp).
        ServerWait wait(m_options, "journal " + m_where, k_pg_write);
        try {
            with_connection(
                m_conn, [this] { return open(); }, wait,
                [&](pqxx::connection_base& conn, bool) {
                    write(conn, seq, line, durability == journal::Durability::with_next);
                });
        } catch (const util::Error& e) {
            if (!m_broken) {
                fail(e.what()); // the server away past the window
            }
            throw;
        } catch (const std::exception& e) {
            fail("journal " + m_where + ": " + db::db_error_text(e));
        }
        m_last_hash = util::sha256_hex(line);
        ++m_next_seq;
        if (m_kill_at >= 0 && seq == static_cast<std::uint64_t>(m_kill_at)) {
            std::raise(SIGKILL);
        }
        return seq;
    }
    // A transaction with a transaction id writes a commit record, and its synchronous commit
    // flushes the WAL up to it: the records committed without waiting are durable after it.
    void sync() override {
        if (m_unflushed.empty() || m_broken || !m_conn) {
            return;
        }
        try {
            const db::AnswerDeadline bound(*m_conn, answer_bound());
            pqxx::work tx(*m_conn);
            tx.exec("SELECT pg_current_xact_id()");
            tx.commit();
            m_unflushed.clear();
        } catch (const std::exception& e) {
            m_conn.reset();
            fail("journal " + m_where +
                 ": cannot make its last records durable: " + db::db_error_text(e));
        }
    }
    // A hook runs only after this check passed, and so does an effect inside a step that no
    // record announces (a COMMIT, a further request of `attempts`): a server that does not
    // answer is waited for as an append waits (reconnecting each second, up to reconnect_for),
    // then the run stops as for the server away (exit 7) and the effect does not happen — an
    // effect that cannot be fenced is not made (docs/config.md "Fencing").
    void check_fence(const std::string& before) override {
        if (m_broken) {
            throw util::Error(m_why, util::ExitCode::state_unwritable);
        }
        const auto deadline = std::chrono::steady_clock::now() + m_options.reconnect_for;
        for (;;) {
            try {
                if (!m_conn) {
                    m_conn = open();
                }
                const bool reconnected = m_fresh;
                const db::AnswerDeadline bound(*m_conn, answer_bound());
                pqxx::work tx(*m_conn);
                if (std::string who = lost_to(tx);
                    !who.empty() && !(reconnected && take_back(tx))) {
                    tx.abort();
                    fail(lost_message(who) + " (checked before " + before + ")", true);
                }
                if (reconnected) {
                    restore_unflushed(tx); // under the fence just checked, as an append does
                }
                tx.commit();
                if (reconnected) {
                    m_fresh = false;
                    m_unflushed.clear(); // a synchronous commit: they are durable now
                }
                return;
            } catch (const std::exception& e) {
                if (dynamic_cast<const util::Error*>(&e) != nullptr && !lost_connection(e)) {
                    throw; // fenced, or a refused password: not the server away
                }
                m_conn.reset();
                if (std::chrono::steady_clock::now() >= deadline) {
                    fail("journal " + m_where + ": the run lock could not be checked before " +
                         before + ": the PostgreSQL server did not answer for " +
                         std::to_string(m_options.reconnect_for.count() / 1000) +
                         " s: " + db::db_error_text(e) + "; it did not happen");
                }
                log::warn("journal {}: cannot check the run lock before {} ({}); retrying", m_where,
                          before, db::db_error_text(e));
                std::this_thread::sleep_for(std::chrono::seconds(1));
            }
        }
    }
    bool space_exhausted() const override { return false; }
    bool broken() const override { return m_broken; }
    bool fenced() const override { return m_fenced; }
    std::string location() const override { return m_where; }

  private:
    /// `fenced`: the run lock was lost (another holder, or its expiry), not the server.
    [[noreturn]] void fail(std::string why, bool fenced = false) {
        m_broken = true;
        m_fenced = fenced;
        m_why = std::move(why);
        throw util::Error(m_why, util::ExitCode::state_unwritable);
    }

    // How long a statement of this appender may wait for the server (pg_retry.hpp).
    std::chrono::milliseconds answer_bound() const {
        return ServerWait(m_options, "", k_pg_write).answer_bound();
    }

    // The connection, opened again: what was committed without waiting for its WAL flush is
    // put back by the next transaction that checks the fence (a server crash may have lost it).
    db::Connection open() {
        auto conn = connect_durable(m_dsn, m_options);
        m_fresh = true;
        return conn;
    }

    void write(pqxx::connection_base& conn, std::uint64_t seq, const std::string& line,
               bool with_next) {
        const bool reconnected = m_fresh;
        pqxx::work tx(conn);
        if (with_next) {
            tx.exec("SET LOCAL synchronous_commit = off");
        }
        if (std::string who = lost_to(tx); !who.empty() && !(reconnected && take_back(tx))) {
            tx.abort();
            fail(lost_message(who), true);
        }
        if (reconnected) {
            restore_unflushed(tx);
        }
        // The record before must be the one this process appended or read last: a server that
        // lost transactions it acknowledged (no synchronous commit, a failover to a replica
        // behind) must not get a chain with a hole.
        auto previous =
            tx.exec_params("SELECT line FROM " + m_s + "journal WHERE run_id = $1 AND seq = $2",
                           m_run_id, static_cast<long long>(seq - 1));
        if (previous.empty() || util::sha256_hex(previous[0][0].as<std::string>()) != m_last_hash) {
            tx.abort();
            fail("journal " + m_where + ": record " + std::to_string(seq - 1) +
                 ", acknowledged by the server, is gone or changed (a server that loses commits: "
                 "synchronous_commit off, a failover to a replica behind); nothing more is "
                 "recorded");
        }
        auto existing =
            tx.exec_params("SELECT line FROM " + m_s + "journal WHERE run_id = $1 AND seq = $2",
                           m_run_id, static_cast<long long>(seq));
        if (!existing.empty()) {
            // A commit whose answer was lost: ours is there. Anything else is a second writer.
            if (existing[0][0].as<std::string>() != line) {
                fail("journal " + m_where + ": record " + std::to_string(seq) +
                     " was written by another process");
            }
            tx.commit();
            m_fresh = false;
            committed(seq, line, with_next);
            return;
        }
        tx.exec_params("INSERT INTO " + m_s +
                           "journal (run_id, seq, generation, line) VALUES ($1, $2, $3, $4)",
                       m_run_id, static_cast<long long>(seq), static_cast<long long>(m_generation),
                       line);
        // The insert may have waited (a slow server, a stalled trigger): the lease must still
        // be live when the record commits, not only when the append began.
        still_live(tx);
        tx.commit();
        m_fresh = false;
        committed(seq, line, with_next);
    }

    // FOR KEY SHARE: an acquisition (SELECT ... FOR UPDATE of the row) waits for this append
    // to commit, and an append waits for an acquisition in progress and then sees its
    // generation. The holder's own renewal (an UPDATE of expires_at, no key column) does not
    // wait for it: a slow append never lets the lease of a live holder expire. A lease past
    // its expiry fences too, whether or not another holder took it yet. "" while this
    // process holds the run lock of its generation, live; else who has it now.
    std::string lost_to(pqxx::work& tx) {
        auto lease = tx.exec("SELECT generation, held AND " + live_sql() + ", holder FROM " + m_s +
                             "lease WHERE name = 'run' FOR KEY SHARE");
        const auto generation = lease[0][0].as<long long>();
        if (static_cast<std::uint64_t>(generation) == m_generation && lease[0][1].as<bool>()) {
            return {};
        }
        auto h = holder_of_text(
            lease[0][2].is_null() ? std::nullopt : std::optional(lease[0][2].as<std::string>()));
        std::string who = static_cast<std::uint64_t>(generation) == m_generation
                              ? "it expired: this process was silent past its lease"
                              : "nobody holds it now";
        if (lease[0][1].as<bool>() && h) {
            who = "now generation " + std::to_string(generation) + ", run " + h->run_id + " (pid " +
                  std::to_string(h->pid) + " on " + h->host + ")";
        }
        return who;
    }

    // On a connection opened again (the server went away, or ended the session): a run lock
    // that expired meanwhile while its row is still held under this generation was taken by
    // nobody, and no one can have acted (an acquisition moves the generation, every append is
    // conditional on it) — renewed here, in the transaction that holds the row FOR KEY SHARE,
    // by a compare-and-swap on the generation. A pause of this process on an open connection
    // is not forgiven: that holder was silent, not the server.
    bool take_back(pqxx::work& tx) {
        auto r = tx.exec_params("UPDATE " + m_s +
                                    "lease SET expires_at = " + ttl_sql(m_options.lease_ttl) +
                                    " WHERE name = 'run' AND generation = $1 AND held AND "
                                    "holder IS NOT NULL AND NOT " +
                                    live_sql(),
                                static_cast<long long>(m_generation));
        if (r.affected_rows() != 1) {
            return false;
        }
        log::warn("journal {}: the run lock of generation {} expired while the PostgreSQL server "
                  "did not answer; nobody took it: renewed",
                  m_where, m_generation);
        return true;
    }

    std::string lost_message(const std::string& who) const {
        return "journal " + m_where + ": this process lost the run lock of generation " +
               std::to_string(m_generation) + " (" + who + "); it records and starts nothing more";
    }

    void still_live(pqxx::work& tx) {
        auto r = tx.exec_params("SELECT 1 FROM " + m_s +
                                    "lease WHERE name = 'run' AND generation = $1 AND held AND " +
                                    live_sql(),
                                static_cast<long long>(m_generation));
        if (r.empty()) {
            tx.abort();
            fail("journal " + m_where + ": this process lost the run lock of generation " +
                     std::to_string(m_generation) +
                     " (it expired while this record was written); it records and starts nothing "
                     "more",
                 true);
        }
    }

    void committed(std::uint64_t seq, const std::string& line, bool with_next) {
        if (!with_next) {
            m_unflushed.clear(); // its synchronous commit flushed the WAL up to them
            return;
        }
        m_unflushed.emplace_back(seq, line);
    }

    // After a reconnection, under the fence just checked: the records this process committed
    // without waiting for their WAL flush are put back where a server crash lost them, the same
    // lines under the same generation (the chain is unchanged); a different line there is
    // another writer's.
    void restore_unflushed(pqxx::work& tx) {
        for (const auto& [seq, line] : m_unflushed) {
            auto there =
                tx.exec_params("SELECT line FROM " + m_s + "journal WHERE run_id = $1 AND seq = $2",
                               m_run_id, static_cast<long long>(seq));
            if (!there.empty()) {
                if (there[0][0].as<std::string>() != line) {
                    tx.abort();
                    fail("journal " + m_where + ": record " + std::to_string(seq) +
                         " was written by another process");
                }
                continue;
            }
            log::warn("journal {}: record {} was lost with the server's crash before its WAL "
                      "flush; written again",
                      m_where, seq);
            tx.exec_params("INSERT INTO " + m_s +
                               "journal (run_id, seq, generation, line) VALUES ($1, $2, $3, $4)",
                           m_run_id, static_cast<long long>(seq),
                           static_cast<long long>(m_generation), line);
        }
    }

    db::Dsn m_dsn;
    PgStoreOptions m_options;
    std::string m_run_id;
    std::string m_where;
    std::string m_s;
    db::Connection m_conn;
    std::uint64_t m_generation;
    std::uint64_t m_next_seq;
    std::string m_last_hash;
    long long m_kill_at = -1;
    /// The records committed without waiting for their WAL flush since the last synchronous
    /// commit (seq, line): at most a step's step_process and step_finished.
    std::vector<std::pair<std::uint64_t, std::string>> m_unflushed;
    bool m_fresh = false; ///< the connection was opened since the last commit (restore_unflushed)
    bool m_broken = false;
    bool m_fenced = false; ///< broken because the run lock was lost (fencing), not the server
    std::string m_why;
};

} // namespace

std::unique_ptr<journal::Appender> make_pg_appender(const db::Dsn& dsn,
                                                    const PgStoreOptions& options,
                                                    std::string prefix, std::string run_id,
                                                    std::string where, std::uint64_t generation,
                                                    std::uint64_t next_seq, std::string last_hash) {
    return std::make_unique<PgAppender>(dsn, options, std::move(prefix), std::move(run_id),
                                        std::move(where), generation, next_seq,
                                        std::move(last_hash));
}

} // namespace rollback::state
