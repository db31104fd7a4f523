// SPDX-License-Identifier: MIT
// How an operation of the PostgreSQL store waits for the server (pg_retry.hpp).
#include "state/pg_retry.hpp"

#include "util/log.hpp"

#include <algorithm>
#include <pqxx/except>
#include <thread>

namespace rollback::state {

using Clock = std::chrono::steady_clock;

namespace {

/// What an attempt without the whole window waits for an answer (a lease's update).
constexpr std::chrono::milliseconds k_brief_answer{5000};

} // namespace

bool lost_connection(const std::exception& e) {
    if (const auto* refused = dynamic_cast<const db::ConnectError*>(&e)) {
        return !db::refused_for_good(refused->what());
    }
    if (dynamic_cast<const util::Error*>(&e) != nullptr) {
        return false;
    }
    // A commit whose answer was lost: the attempt is made again, and it looks whether the
    // first one took effect.
    if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
        return true;
    }
    return db::server_went_away(e);
}

ServerWait::ServerWait(const PgStoreOptions& options, std::string what, util::ExitCode code,
                       WaitPolicy policy)
    : m_options(options), m_what(std::move(what)), m_code(code), m_policy(policy),
      m_deadline(Clock::now() + options.reconnect_for) {}

std::chrono::milliseconds ServerWait::answer_bound() const {
    const auto whole =
        std::max(m_options.reconnect_for, m_options.lease_ttl + std::chrono::seconds(1));
    return m_policy.whole_window ? whole : std::min(whole, k_brief_answer);
}

void ServerWait::give_up(const std::string& why, const std::string& how) const {
    throw util::Error(m_what + ": the PostgreSQL server did not answer" + how + ": " + why, m_code,
                      "is the shared state's PostgreSQL server running and reachable?");
}

void ServerWait::after(const std::exception& e, bool cut) {
    const bool own = dynamic_cast<const util::Error*>(&e) != nullptr &&
                     dynamic_cast<const db::ConnectError*>(&e) == nullptr;
    if (!cut && !lost_connection(e) && (own || !m_policy.any_failure)) {
        throw; // what a new connection cannot cure: the caller's
    }
    ++m_failures;
    const std::string why =
        cut ? "no answer within " + std::to_string(answer_bound().count() / 1000) +
                  " s on a connection still open (a proxy or a network that stopped forwarding?)"
            : db::db_error_text(e);
    const auto stopping = [this] {
        return m_policy.stop != nullptr && *m_policy.stop && (*m_policy.stop)();
    };
    if (!m_policy.whole_window) {
        // Once more only for a session the server dropped while it was idle: a new one answers
        // at once. A connection that could not be made, or stayed silent, is not waited for.
        if (m_failures > 1 || cut || dynamic_cast<const db::ConnectError*>(&e) != nullptr) {
            give_up(why, "");
        }
        return;
    }
    if (stopping()) {
        give_up(why, " (interrupted while waiting for it)");
    }
    if (Clock::now() >= m_deadline) {
        const long long seconds =
            std::chrono::duration_cast<std::chrono::seconds>(m_options.reconnect_for).count();
        give_up(why, " for " + std::to_string(seconds) + " s");
    }
    if (cut || lost_connection(e)) {
        log::warn("{}: connection lost ({}); retrying", m_what, why);
    } else {
        log::warn("{}: {}; retrying", m_what, why);
    }
    if (m_failures == 1 && !cut) {
        return; // a session the server dropped while it was idle: a new one answers at once
    }
    const auto until = std::min(Clock::now() + std::chrono::seconds(1), m_deadline);
    while (Clock::now() < until && !stopping()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

} // namespace rollback::state
