// SPDX-License-Identifier: MIT
#include "playbook/when.hpp"

#include <doctest/doctest.h>

using namespace rollback::playbook;

TEST_SUITE("playbook") {
    TEST_CASE("when: evaluation on trigger fields") {
        WhenFields critical{
            {"severity", "critical"}, {"condition", "error-rate"}, {"trigger", "condition"}};
        WhenFields warning{{"severity", "warning"}, {"condition", "security"}};
        CHECK(evaluate_when("", critical));
        CHECK(evaluate_when("severity == 'critical'", critical));
        CHECK_FALSE(evaluate_when("severity == 'critical'", warning));
        CHECK(evaluate_when("severity != 'critical'", warning));
        CHECK(evaluate_when("severity == 'critical' or condition == 'security'", warning));
        CHECK_FALSE(evaluate_when("severity == 'critical' and condition == 'security'", warning));
        CHECK(evaluate_when("not (severity == \"critical\")", warning));
        CHECK(evaluate_when(
            "trigger == 'condition' and (severity == 'x' or severity == 'critical')", critical));
        CHECK_FALSE(evaluate_when("reason == 'x'", WhenFields{}));
    }

    TEST_CASE("when: grammar errors are located") {
        CHECK_FALSE(check_when("severity == 'critical'"));
        auto e = check_when("severty == 'critical'");
        REQUIRE(e);
        CHECK(e->problem ==
              "unknown field \"severty\" (fields: severity, condition, trigger, reason)");
        CHECK(e->offset == 0);
        e = check_when("severity = 'x'");
        REQUIRE(e);
        CHECK(e->problem == "expected == or !=");
        CHECK(e->offset == 9);
        e = check_when("severity == 'x' severity == 'y'");
        REQUIRE(e);
        CHECK(e->problem == "expected 'and' or 'or'");
        e = check_when("severity == 'x");
        REQUIRE(e);
        CHECK(e->problem == "unterminated quoted value");
    }
}
