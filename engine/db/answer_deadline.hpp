// SPDX-License-Identifier: MIT
#pragma once

// A bound on how long a blocking libpq call waits for the server. libpq waits without limit once
// a connection is established: a server, a pooler or a proxy that stops forwarding, or a network
// partition with the connection still open (TCP keepalives do not run while a request is
// unacknowledged, and a proxy's kernel acknowledges everything) holds the caller forever. Neither
// `statement_timeout` (the server never got the statement) nor keepalives bound that; only the
// client can.

#include <chrono>

namespace pqxx {
class connection_base;
} // namespace pqxx

namespace rollback::db {

/// While it lives, a libpq call on `conn` still waiting when `limit` has passed is cut: the
/// connection's socket is shut down, so the call fails as a lost connection
/// (pqxx::broken_connection, "server closed the connection unexpectedly") and the connection is
/// unusable from then on (the caller opens another). Arming and disarming cost a mutex and a
/// condition variable; one watchdog thread serves every deadline of the process. A connection
/// with no socket (closed) is not watched.
class AnswerDeadline {
  public:
    /// `cut`, when given, is set when this ends: whether the limit passed.
    AnswerDeadline(pqxx::connection_base& conn, std::chrono::milliseconds limit,
                   bool* cut = nullptr);
    ~AnswerDeadline();
    AnswerDeadline(const AnswerDeadline&) = delete;
    AnswerDeadline& operator=(const AnswerDeadline&) = delete;

    /// True when the limit passed and the socket was shut down.
    bool expired() const;

  private:
    unsigned long long m_id = 0; ///< 0: not armed
    bool* m_cut = nullptr;
};

} // namespace rollback::db
