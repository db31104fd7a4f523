// SPDX-License-Identifier: MIT
// A sql step's statements, a sql_assert's query and a pg_restore assert run in a transaction of
// the engine's: a statement ending it is refused at load, located, with a hint (break-it 46 F1:
// a COMMIT among the statements committed before the fence and broke "all or nothing").
#include "actions/action.hpp"
#include "playbook/loader.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace rollback;

namespace {

playbook::LoadOptions options_with_actions() {
    playbook::LoadOptions options;
    for (const auto& name : actions::action_names()) {
        const actions::Action* a = actions::find_action(name);
        options.actions.push_back({name, a->keys(), a->required_keys(), a->encodings()});
    }
    options.validate_step = actions::parse_step;
    return options;
}

std::vector<util::Diagnostic> problems(const std::string& text) {
    test::TempDir dir;
    auto path = dir.write("pb.toml", text);
    try {
        playbook::load(path, options_with_actions());
    } catch (const util::InvalidInput& e) {
        return e.diagnostics();
    }
    return {};
}

} // namespace

TEST_SUITE("actions") {
    TEST_CASE("sql transaction control: refused in statements sql query and assert — located") {
        auto d = problems(R"([vars]
who = "x"
[[step]]
id = "s"
action = "sql"
dsn = "postgresql://rb@127.0.0.1/shop"
statements = ["UPDATE acct SET bal = bal + 1 WHERE who = {{who}}", "COMMIT", "SELECT 1/0"]
[[step]]
id = "one"
action = "sql"
dsn = "postgresql://rb@127.0.0.1/shop"
sql = "UPDATE acct SET bal = 1; /* done */ end; SELECT 1"
[[step]]
id = "a"
action = "sql_assert"
dsn = "postgresql://rb@127.0.0.1/shop"
query = "COMMIT; DELETE FROM acct"
expect_rows = 0
[[step]]
id = "r"
action = "pg_restore"
dsn = "postgresql://rb@127.0.0.1/shop"
catalog = "backups"
assert = [{ sql = "SELECT count(*) FROM acct", expect = 1 }, { sql = "Rollback", expect_rows = 0 }]
)");
        REQUIRE(d.size() == 4);
        CHECK(d[0].subject == "step \"s\"");
        CHECK(d[0].where.line == 7);
        CHECK(d[0].where.column == 1);
        CHECK(d[0].problem ==
              "key \"statements\": \"statements\" entry 2 is COMMIT: it would end the step's "
              "transaction, which the engine commits itself after checking that it still holds "
              "the run lock");
        CHECK(d[0].hint == "remove it: a sql step's statements commit together or not at all; "
                           "for separate transactions write separate steps");
        CHECK(d[1].subject == "step \"one\"");
        CHECK(d[1].where.line == 12);
        CHECK(d[1].problem.find("\"sql\" (its statement 2) is END: it would end the step's "
                                "transaction") != std::string::npos);
        CHECK(d[2].subject == "step \"a\"");
        CHECK(d[2].where.line == 17);
        CHECK(d[2].problem.find("\"query\" is COMMIT: it would end the read-only transaction") !=
              std::string::npos);
        CHECK(d[3].subject == "step \"r\"");
        CHECK(d[3].where.line == 24);
        CHECK(d[3].problem.find("\"assert\" entry 2 is ROLLBACK") != std::string::npos);
    }

    TEST_CASE("sql transaction control: the words in strings comments and identifiers load") {
        auto d = problems(R"([[step]]
id = "s"
action = "sql"
dsn = "postgresql://rb@127.0.0.1/shop"
statements = ["UPDATE t SET \"commit\" = 'COMMIT' -- commit", "SELECT $$COMMIT$$", "SAVEPOINT a",
              "ROLLBACK TO SAVEPOINT a"]
[[step]]
id = "a"
action = "sql_assert"
dsn = "postgresql://rb@127.0.0.1/shop"
query = "SELECT commit FROM t /* ; rollback */"
expect_rows = 0
)");
        CHECK(d.empty());
    }
}
