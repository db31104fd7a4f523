// SPDX-License-Identifier: MIT
#pragma once
// The state::PgStore tests' fixture: the throwaway server's DSN (the CTest fixture `pg` sets
// ROLLBACK_TEST_PG; without it the test binary exits 125, skipped) and a schema of its own for
// each test pass, dropped at its end.

#include "db/connection.hpp"
#include "state/pg_store.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <pqxx/nontransaction>
#include <string>
#include <unistd.h>

namespace rollback::test {

inline db::Dsn pg_test_dsn() {
    const char* env = std::getenv("ROLLBACK_TEST_PG");
    if (env == nullptr || *env == '\0' ||
        !std::filesystem::exists("/usr/lib/postgresql/15/bin/initdb")) {
        std::fprintf(stderr, "ROLLBACK_TEST_PG not set or PostgreSQL 15 (initdb) missing: "
                             "skipping the PostgreSQL store tests\n");
        std::exit(125);
    }
    return db::Dsn::parse(env);
}

/// One statement on a connection of its own.
inline void pg_test_exec(const std::string& sql) {
    auto conn = db::connect(pg_test_dsn());
    pqxx::nontransaction tx(*conn);
    tx.exec(sql);
}

/// A schema named `<prefix>_<pid>_<n>`, dropped with everything in it at the end.
struct PgTestSchema {
    std::string name;
    explicit PgTestSchema(const std::string& prefix = "rbtest") {
        static std::atomic<int> n{0};
        name = prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++n);
    }
    ~PgTestSchema() {
        try {
            pg_test_exec("DROP SCHEMA IF EXISTS " + name + " CASCADE");
        } catch (const std::exception& e) {
            std::fprintf(stderr, "dropping %s: %s\n", name.c_str(), e.what());
        }
    }
    PgTestSchema(const PgTestSchema&) = delete;
    PgTestSchema& operator=(const PgTestSchema&) = delete;
    /// Leases of `ttl`; `heartbeat` 0: none (a silent holder).
    state::PgStoreOptions
    options(std::chrono::milliseconds ttl = std::chrono::seconds(15),
            std::chrono::milliseconds heartbeat = std::chrono::milliseconds(0)) const {
        state::PgStoreOptions o;
        o.schema = name;
        o.lease_ttl = ttl;
        o.heartbeat = heartbeat;
        o.reconnect_for = std::chrono::seconds(2);
        return o;
    }
};

} // namespace rollback::test
