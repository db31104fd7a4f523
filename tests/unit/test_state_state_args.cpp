// SPDX-License-Identifier: MIT
#include "state/state_args.hpp"

#include <doctest/doctest.h>

using namespace rollback;

TEST_SUITE("state") {
    TEST_CASE("state_args: a printed command finds the same state from any directory") {
        SUBCASE("a state directory is named") {
            CHECK(state::state_args({"/srv/st", false, "/srv/rollback.toml"}) ==
                  " --state-dir /srv/st");
            CHECK(state::state_args({"/srv/st", false, ""}) == " --state-dir /srv/st");
        }
        SUBCASE("a shared state is named by its configuration: --state-dir would be local") {
            CHECK(state::state_args({"/srv/st", true, "/etc/rollback/rollback.toml"}) ==
                  " -c /etc/rollback/rollback.toml");
            CHECK(state::state_args({"/srv/st", true, "/etc/rollback/rollback.toml"}, true) ==
                  " -c /etc/rollback/rollback.toml");
            CHECK(state::state_args({"/srv/st", true, ""}).empty());
        }
        SUBCASE("with the configuration: the directory only when it is not the file's own") {
            CHECK(state::state_args({"/srv/st", false, "/srv/r.toml", "/srv/st"}, true) ==
                  " -c /srv/r.toml");
            CHECK(state::state_args({"/var/lib/rollback", false, "/srv/r.toml", "/srv/st"}, true) ==
                  " -c /srv/r.toml --state-dir /var/lib/rollback");
            CHECK(state::state_args({"/srv/st", false, ""}, true) == " --state-dir /srv/st");
        }
        SUBCASE("a path a shell would split or expand is one quoted word") {
            CHECK(state::state_args({"/srv/my state", false, ""}) ==
                  " --state-dir '/srv/my state'");
            CHECK(state::state_args({"/srv/st", true, "/srv/it's $HOME.toml"}) ==
                  " -c '/srv/it'\\''s $HOME.toml'");
        }
    }
}
