// SPDX-License-Identifier: MIT
// The name every database session of a step attempt carries (docs/actions.md "Step sessions").
#include "orchestrator/step_sessions.hpp"

#include <doctest/doctest.h>

using namespace rollback;

TEST_SUITE("orchestrator") {
    TEST_CASE("step sessions: an attempt's name holds the run the step and the attempt") {
        const std::string run = "20261207T051740Z-21ed6f";
        CHECK(orchestrator::step_session_name(run, "sqlstep", 1) ==
              "rollback/20261207T051740Z-21ed6f/sqlstep/1");
        CHECK(orchestrator::step_session_name(run, "sqlstep", 12) ==
              "rollback/20261207T051740Z-21ed6f/sqlstep/12");
    }

    TEST_CASE("step sessions: a long step id is cut and hashed within PostgreSQL's 63 bytes") {
        const std::string run = "20261207T051740Z-21ed6f";
        const std::string a = "disable-logins-and-stop-new-orders-before-the-restore";
        const std::string b = "disable-logins-and-stop-new-orders-before-the-reindex";
        const std::string na = orchestrator::step_session_name(run, a, 3);
        const std::string nb = orchestrator::step_session_name(run, b, 3);
        CHECK(na.size() <= 63);
        CHECK(nb.size() <= 63);
        CHECK(na != nb);                                         // one name per step
        CHECK(na == orchestrator::step_session_name(run, a, 3)); // the resume finds it again
        CHECK(na != orchestrator::step_session_name(run, a, 4)); // and per attempt
        CHECK(na.rfind("rollback/" + run + "/disable-logins", 0) == 0);
        CHECK(na.substr(na.size() - 2) == "/3");
        CHECK(na.find('~') != std::string::npos);
        // 99 attempts later it still fits.
        CHECK(orchestrator::step_session_name(run, a, 100).size() <= 63);
    }
}
