// SPDX-License-Identifier: MIT
// Values stay values in SQL (DESIGN.md, trust invariant 5), against a real PostgreSQL 15: a
// playbook's {{variable}} is a bound parameter whatever it holds, and a secret the server folds
// to lower case does not reach a summary. Without a server these tests exit 125 (skipped).
#include "actions/action.hpp"
#include "db/names.hpp"
#include "playbook/loader.hpp"
#include "support/action_harness.hpp"
#include "support/temp_dir.hpp"
#include "util/secrets.hpp"

#include <cstdlib>
#include <doctest/doctest.h>
#include <pqxx/nontransaction>
#include <pqxx/result>

using namespace rollback;
using namespace rollback::actions;
using namespace rollback::db;
namespace fs = std::filesystem;

namespace {

Dsn admin_dsn() {
    const char* env = std::getenv("ROLLBACK_TEST_PG");
    if (env == nullptr || *env == '\0' || !fs::exists("/usr/lib/postgresql/15/bin/pg_ctl")) {
        std::fprintf(stderr, "ROLLBACK_TEST_PG not set or PostgreSQL 15 missing: skipping\n");
        std::exit(125);
    }
    return Dsn::parse(env);
}

pqxx::result query(const Dsn& dsn, const std::string& sql) {
    auto c = connect(dsn);
    pqxx::nontransaction nt(*c);
    return nt.exec(sql);
}

// Values that end a SQL literal, a statement or a line, or look like substitutions.
const std::vector<std::string> k_evil{
    "x'); DROP TABLE victim; --",
    "x'; DROP TABLE victim; --",
    "a\"b'c\\",
    "$(touch PWNED) `id` ; $$ $1",
    "line1\r\nline2",
    "{{other}}",
    "'",
    "",
};

// A database with accounts(id, note) and the table an injection would drop.
struct Db {
    Dsn admin = admin_dsn();
    Dsn db;
    test::TempDir tmp;
    Db() {
        query(admin, "DROP DATABASE IF EXISTS rb_values WITH (FORCE)");
        query(admin, "CREATE DATABASE rb_values");
        db = admin.with_dbname("rb_values");
        query(db, "CREATE TABLE accounts (id int PRIMARY KEY, note text);"
                  "INSERT INTO accounts VALUES (1, 'before'), (2, 'other');"
                  "CREATE TABLE victim (id int); INSERT INTO victim VALUES (1);");
    }
    ~Db() {
        try {
            query(admin, "DROP DATABASE IF EXISTS rb_values WITH (FORCE)");
        } catch (...) {
        }
    }

    // Loads `steps` as a playbook with variable `reason` = `value` (from the environment, as an
    // operator would pass it) and runs the step `id` as the orchestrator would.
    actions::Result run(const std::string& steps, const std::string& value, const std::string& id,
                        bool secret = false) {
        std::map<std::string, std::string> env{{"REASON", value}, {"DSN", db.conninfo()}};
        playbook::LoadOptions options;
        options.environment = &env;
        for (const auto& name : action_names()) {
            const Action* a = find_action(name);
            options.actions.push_back({name, a->keys(), a->required_keys(), a->encodings()});
        }
        options.validate_step = [](const playbook::Playbook& pb, const playbook::Step& step) {
            return find_action(step.action)->validate(pb, step);
        };
        fs::path file = tmp.write("pb.toml", std::string("[vars]\nreason = { env = \"REASON\"") +
                                                 (secret ? ", secret = true" : "") +
                                                 " }\ndsn = { env = \"DSN\" }\n" + steps);
        test::ActionHarness h(tmp.path(), "sql", "{}");
        h.playbook = playbook::load(file, options);
        h.step = *h.playbook.find_step(id);
        return h.run();
    }
};

} // namespace

TEST_SUITE("actions") {
    TEST_CASE(
        "sql: a value written '{{v}}' or {{v}} is bound — never spliced — whatever it holds") {
        Db d;
        for (const auto& value : k_evil) {
            INFO("value: " << value);
            auto r = d.run(R"(
[[step]]
id = "note"
action = "sql"
dsn = "{{dsn}}"
statements = ["UPDATE accounts SET note = '{{reason}}' WHERE id = 1",
              "UPDATE accounts SET note = {{reason}} || '!' WHERE id = 2"]
)",
                           value, "note");
            CHECK(r.status == Status::succeeded);
            CHECK(r.summary == "2 statement(s) committed, 2 row(s) affected");
            auto rows = query(d.db, "SELECT note FROM accounts ORDER BY id");
            CHECK(std::string(rows[0][0].c_str()) == value);
            CHECK(std::string(rows[1][0].c_str()) == value + "!");
            CHECK(query(d.db, "SELECT count(*) FROM victim")[0][0].as<int>() == 1);
        }
    }

    TEST_CASE("sql_assert: a value is bound in the query — the assertion sees it as data") {
        Db d;
        for (const auto& value : k_evil) {
            INFO("value: " << value);
            query(d.db, "UPDATE accounts SET note = " + quote_literal(value) + " WHERE id = 1");
            auto r = d.run(R"(
[[step]]
id = "check"
action = "sql_assert"
dsn = "{{dsn}}"
query = "SELECT id FROM accounts WHERE note = '{{reason}}'"
expect = 1
)",
                           value, "check");
            CHECK(r.status == Status::succeeded);
            CHECK(query(d.db, "SELECT count(*) FROM victim")[0][0].as<int>() == 1);
        }
    }

    TEST_CASE("sql: a secret the server folds to lower case is masked in the summary") {
        Db d;
        util::register_secret("CnrySecretQ7x9Z");
        auto r = d.run(R"(
[[step]]
id = "missing"
action = "sql"
dsn = "{{dsn}}"
sql = "SELECT 1 FROM missing_CnrySecretQ7x9Z"
)",
                       "unused", "missing");
        util::clear_secrets();
        CHECK(r.status == Status::failed);
        CHECK(r.summary.find("relation \"missing_***\" does not exist") != std::string::npos);
        CHECK(r.summary.find("cnry") == std::string::npos);
    }
}
