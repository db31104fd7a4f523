// SPDX-License-Identifier: MIT
#pragma once

// Internal to the PostgreSQL store: how one operation waits for the server (docs/config.md "The
// server going away"). Every operation of the store — a read, a write, a journal append, a
// lease's update — is bounded the same way: each attempt waits for the server's answer at most
// ServerWait::answer_bound() (db::AnswerDeadline: a connection that stays silent, behind a
// stalled proxy or a partition, is cut), and an attempt whose connection was lost (a restart, a
// terminated backend, a cut connection) is made again on a new connection — at once the first
// time (a session the server dropped while it was idle), then each second — for up to
// `reconnect_for`. After that the operation fails with the exit code its caller gave (7 for a
// write, 1 for a read), naming what it did.

#include "db/answer_deadline.hpp"
#include "db/connection.hpp"
#include "state/pg_schema.hpp"
#include "state/pg_store.hpp"
#include "util/error.hpp"

#include <chrono>
#include <exception>
#include <functional>
#include <pqxx/connection_base>
#include <string>

namespace rollback::state {

/// How long an operation waits, and for what.
struct WaitPolicy {
    /// Reconnect each second for up to `reconnect_for`; false: only once, at once, and only
    /// when the session was dropped while idle (not cut for its silence) — for what its caller
    /// does again by itself (a lease's heartbeat) or gives up without harm (a release: the
    /// row's expiry ends it).
    bool whole_window = true;
    /// Any failure of the server counts as not answering, also one the connection survives (a
    /// lock held past lock_timeout): for what a run waits on (its gate, the fence of a hook).
    bool any_failure = false;
    /// Asked while waiting: true ends the wait (the process is being interrupted). May be null.
    const std::function<bool()>* stop = nullptr;
};

class ServerWait {
  public:
    /// `what` starts the message once it fails ("journal postgresql (...) runs/R");
    /// `code` is its exit code.
    ServerWait(const PgStoreOptions& options, std::string what, util::ExitCode code,
               WaitPolicy policy = {});

    /// How long one attempt may wait for an answer: `reconnect_for`, or the lease and a second
    /// when that is longer (a statement may wait that long for a row lock: lock_timeout); 5 s
    /// without the whole window.
    std::chrono::milliseconds answer_bound() const;

    /// Called in a catch handler with what an attempt threw and whether its answer deadline cut
    /// it. Rethrows (`throw;`) what a new attempt cannot cure: the engine's own util::Error
    /// (except a db::ConnectError of a server that did not answer), an SQL error (unless
    /// `any_failure`), a refused password or database. Else it returns when the next attempt is
    /// due, or throws util::Error(code) once the policy's patience is spent.
    void after(const std::exception& e, bool cut);

    /// Attempts made so far that failed.
    int failures() const { return m_failures; }

  private:
    [[noreturn]] void give_up(const std::string& why, const std::string& how) const;

    const PgStoreOptions& m_options;
    std::string m_what;
    util::ExitCode m_code;
    WaitPolicy m_policy;
    std::chrono::steady_clock::time_point m_deadline;
    int m_failures = 0;
};

/// True when `e` is a connection lost or not answering — what a new attempt may cure.
bool lost_connection(const std::exception& e);

/// Runs `attempt(conn, again)` on `conn` — opened by `open()` when it is closed or was lost — as
/// `wait` says; `again` is true on every attempt after a failed one.
template <class Open, class F>
auto with_connection(db::Connection& conn, Open&& open, ServerWait& wait, F&& attempt) {
    for (;;) {
        bool cut = false;
        try {
            if (!conn || !conn->is_open()) {
                conn = open();
            }
            const db::AnswerDeadline bound(*conn, wait.answer_bound(), &cut);
            return attempt(*conn, wait.failures() > 0);
        } catch (const std::exception& e) {
            if (cut || lost_connection(e)) {
                conn.reset();
            }
            wait.after(e, cut);
        }
    }
}

template <class F>
auto PgStore::with_session(const std::string& what, util::ExitCode code, F&& attempt) const {
    ServerWait wait(m_options, what, code, {true, false, &m_options.stop_waiting});
    std::lock_guard lock(m_mutex);
    return with_connection(
        m_conn, [this] { return connect_durable(m_dsn, m_options); }, wait,
        std::forward<F>(attempt));
}

} // namespace rollback::state
