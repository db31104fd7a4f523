// SPDX-License-Identifier: MIT
#include "db/sessions.hpp"

#include "db/names.hpp"

#include <algorithm>
#include <chrono>
#include <pqxx/connection_base>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <set>
#include <thread>

namespace rollback::db {

Dsn StepSession::named(const Dsn& dsn) const {
    return name.empty() ? dsn : dsn.with_param("application_name", name);
}

void StepSession::fence() const {
    if (!before_effect) {
        return;
    }
    try {
        before_effect();
    } catch (...) {
        throw Fenced{std::current_exception()};
    }
}

namespace {

using Clock = std::chrono::steady_clock;

std::string names_array(const std::vector<std::string>& names) {
    std::string out = "ARRAY[";
    for (size_t i = 0; i < names.size(); ++i) {
        out += (i == 0 ? "" : ", ") + quote_literal(names[i]);
    }
    return out + "]::text[]";
}

} // namespace

SessionSweep end_named_sessions(const Dsn& dsn, const std::vector<std::string>& names,
                                util::Millis wait) {
    SessionSweep out;
    if (names.empty()) {
        return out;
    }
    const auto start = Clock::now();
    try {
        auto conn = connect(dsn.with_default("connect_timeout", "10"));
        pqxx::nontransaction nt(*conn);
        // Each look is a statement of its own (autocommit): pg_stat_activity is read once per
        // transaction, and a backend that ended must not be seen again. Every database of the
        // server: a session of the attempt may be on another one (pg_restore's side database).
        const std::string query =
            "SELECT pid, coalesce(application_name, ''), coalesce(datname, ''), "
            "coalesce(usename, ''), coalesce(state, '') FROM pg_stat_activity WHERE "
            "application_name = ANY(" +
            names_array(names) + ") AND pid <> pg_backend_pid() ORDER BY pid";
        auto look = [&] {
            std::vector<Backend> now;
            for (const auto& row : nt.exec(query)) {
                now.push_back({row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::string>(),
                               row[3].as<std::string>(), row[4].as<std::string>()});
            }
            return now;
        };
        std::set<int> signalled;
        for (;;) {
            const std::vector<Backend> now = look();
            for (const auto& b : now) {
                if (std::none_of(out.found.begin(), out.found.end(),
                                 [&](const Backend& f) { return f.pid == b.pid; })) {
                    out.found.push_back(b); // one that connected since the first look, too
                }
            }
            if (now.empty()) {
                break;
            }
            if (Clock::now() - start >= wait) {
                out.remaining = now;
                break;
            }
            for (const auto& b : now) {
                if (!signalled.insert(b.pid).second) {
                    continue;
                }
                try {
                    nt.exec("SELECT pg_terminate_backend(" + std::to_string(b.pid) + ")");
                } catch (const pqxx::broken_connection&) {
                    throw;
                } catch (const std::exception& e) {
                    // Another role's session without pg_signal_backend, a superuser's: it is
                    // waited for like the others and, still there, named as the one remaining.
                    if (out.refused.empty()) {
                        out.refused = "pid " + std::to_string(b.pid) + ": " + db_error_text(e);
                    }
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    } catch (const std::exception& e) {
        out.error = db_error_text(e);
        out.found.clear();
        out.remaining.clear();
    }
    out.waited = std::chrono::duration_cast<util::Millis>(Clock::now() - start);
    return out;
}

} // namespace rollback::db
