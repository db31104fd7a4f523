// SPDX-License-Identifier: MIT
// A statement that ends or starts the step's transaction is found however it is written, and
// nothing inside a string, quoted identifier, dollar quote or comment is taken for one
// (playbook/sql_transaction_control.hpp; break-it 46 F1).
#include "playbook/sql_transaction_control.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace rollback;
using playbook::find_transaction_control;

namespace {

// Each spelling, and the words find_transaction_control names it by.
struct Control {
    std::string text;
    std::string words;
};

const std::vector<Control> k_controls{
    {"commit", "COMMIT"},
    {"commit work", "COMMIT"},
    {"commit transaction", "COMMIT"},
    {"commit and chain", "COMMIT"},
    {"commit and no chain", "COMMIT"},
    {"end", "END"},
    {"end transaction", "END"},
    {"rollback", "ROLLBACK"},
    {"rollback work", "ROLLBACK"},
    {"rollback and chain", "ROLLBACK"},
    {"abort", "ABORT"},
    {"abort transaction", "ABORT"},
    {"begin", "BEGIN"},
    {"begin isolation level serializable", "BEGIN"},
    {"start transaction", "START TRANSACTION"},
    {"start transaction read write", "START TRANSACTION"},
    {"prepare transaction 'x'", "PREPARE TRANSACTION"},
    {"commit prepared 'x'", "COMMIT PREPARED"},
    {"rollback prepared 'x'", "ROLLBACK PREPARED"},
};

std::string cased(const std::string& s, int how) {
    std::string out = s;
    for (size_t i = 0; i < out.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(out[i]);
        if (how == 1 || (how == 2 && i % 2 == 0)) {
            out[i] = static_cast<char>(std::toupper(c));
        }
    }
    return out;
}

const std::vector<std::string> k_prefixes{
    "",
    " ",
    "\n\t  ",
    "-- commit? not yet\n",
    "/* a comment */",
    "/* nested /* comment */ still */ ",
    "-- one\n-- two\n  /* three */\n",
};

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("sql transaction control: every keyword in every case after any prefix at any "
              "position is found") {
        for (const auto& control : k_controls) {
            for (int how = 0; how < 3; ++how) {
                for (const auto& prefix : k_prefixes) {
                    const std::string stmt = prefix + cased(control.text, how);
                    // position: alone; last after one; between two; first of two; after an
                    // empty statement; with a trailing `;`
                    const std::vector<std::pair<std::string, size_t>> texts{
                        {stmt, 1},
                        {"UPDATE acct SET bal = bal + 1;" + stmt, 2},
                        {"UPDATE acct SET bal = 1; " + stmt + "; SELECT 1/0", 2},
                        {stmt + ";UPDATE acct SET bal = 1", 1},
                        {"SELECT 'a;b'; SELECT $$;$$;" + stmt + ";", 3},
                        {"INSERT INTO t VALUES (';'); -- x;\n" + stmt, 2},
                    };
                    for (const auto& [text, statement] : texts) {
                        CAPTURE(text);
                        auto found = find_transaction_control(text);
                        REQUIRE(found.has_value());
                        CHECK(found->words == control.words);
                        CHECK(found->statement == statement);
                        CHECK(text.substr(found->offset, 3) ==
                              cased(control.text, how).substr(0, 3));
                    }
                }
            }
        }
    }

    TEST_CASE("sql transaction control: what only looks like one is accepted") {
        const std::vector<std::string> accepted{
            "UPDATE shop_switch SET logins = false",
            "SELECT 'COMMIT'",
            "SELECT 'x; COMMIT'",
            "SELECT E'it\\'s; COMMIT'",
            "SELECT $$COMMIT$$",
            "SELECT $tag$; ROLLBACK; $tag$",
            "DO $$BEGIN PERFORM 1; END$$",
            "SELECT 1 -- commit\n",
            "SELECT 1 /* ; commit */",
            "UPDATE t SET \"commit\" = 1",
            "SELECT commit FROM t",
            "SELECT \"x; COMMIT\" FROM t",
            "ALTER TABLE t ADD COLUMN commit int; UPDATE t SET commit = 1",
            "SELECT 1; SAVEPOINT a; UPDATE t SET x = 1; ROLLBACK TO SAVEPOINT a",
            "ROLLBACK TO a",
            "rollback work to savepoint a",
            "RELEASE SAVEPOINT a",
            "PREPARE q AS SELECT 1",
            "SELECT $1::text",
            "SELECT x FROM committed",
            "SELECT begin_at FROM t WHERE ended",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; "
            "END; SELECT f()",
            "CREATE FUNCTION g(x int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN x "
            "> 0 THEN 1 ELSE 2 END; END",
            "",
            ";;",
            "-- only a comment",
        };
        for (const auto& text : accepted) {
            CAPTURE(text);
            CHECK_FALSE(find_transaction_control(text).has_value());
        }
    }

    TEST_CASE("sql transaction control: after a BEGIN ATOMIC body the next statement is read") {
        auto found = find_transaction_control(
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END; COMMIT");
        REQUIRE(found.has_value());
        CHECK(found->words == "COMMIT");
        CHECK(found->statement == 2);
    }

    TEST_CASE("sql transaction control: a word broken by a comment is two words") {
        CHECK_FALSE(find_transaction_control("COM/**/MIT").has_value());
        auto found = find_transaction_control("/**/COMMIT/**/");
        REQUIRE(found.has_value());
        CHECK(found->offset == 4);
    }
}
