// SPDX-License-Identifier: MIT
// `[target] state` and `[state]`: the shared state in PostgreSQL (docs/config.md).
#include "config/config.hpp"

#include "util/error.hpp"
#include "util/secrets.hpp"

#include <doctest/doctest.h>

using namespace rollback;

namespace {

const std::string k_rest = "[source.q]\nkind = \"command\"\nargv = [\"echo\", \"1\"]\n"
                           "[[condition]]\nname = \"q-high\"\nsignal = \"q.value\"\nabove = 5\n";

std::string diagnostics_of(const std::string& text) {
    try {
        config::parse(text + k_rest, "rollback.toml", "/etc/rb");
    } catch (const util::InvalidInput& e) {
        std::string out;
        for (const auto& d : e.diagnostics()) {
            out += std::to_string(d.where.line) + ":" + std::to_string(d.where.column) + ": " +
                   d.subject + ": " + d.problem + "\n";
        }
        return out;
    }
    return "";
}

} // namespace

TEST_SUITE("config") {
    TEST_CASE("shared state: [state] with its schema and lease and the password a secret") {
        auto c = config::parse("[state]\ndsn = \"postgresql://rb:s3cr3t-pw@db.internal/rb\"\n"
                               "schema = \"shop_state\"\nlease = \"30s\"\n" +
                                   k_rest,
                               "rollback.toml", "/etc/rb");
        REQUIRE(c.shared_state);
        CHECK(c.shared_state->dsn == "postgresql://rb:s3cr3t-pw@db.internal/rb");
        CHECK(c.shared_state->schema == "shop_state");
        CHECK(c.shared_state->lease == std::chrono::seconds(30));
        CHECK(c.shared_state->where.line == 2);
        CHECK(util::mask_secrets("connect with s3cr3t-pw") == "connect with ***");
        CHECK(c.state_dir == "/etc/rb/.rollback"); // this host's files stay local
    }

    TEST_CASE("shared state: [target] state is the short form and the default stays local") {
        auto c = config::parse("[target]\nname = \"shop\"\nstate = \"host=/run/pg dbname=rb\"\n" +
                                   k_rest,
                               "rollback.toml", "/etc/rb");
        REQUIRE(c.shared_state);
        CHECK(c.shared_state->schema == "rollback");
        CHECK(c.shared_state->lease == std::chrono::seconds(15));
        CHECK_FALSE(config::parse(k_rest, "rollback.toml", "/etc/rb").shared_state);
    }

    TEST_CASE("shared state: what cannot name a shared state is a located error") {
        CHECK(diagnostics_of("[target]\nstate = \"/var/lib/rollback\"\n") ==
              "2:1: state: not a PostgreSQL connection string: \"/var/lib/rollback\"\n");
        CHECK(diagnostics_of("[state]\nschema = \"x\"\n") == "1:1: state: missing key \"dsn\"\n");
        CHECK(diagnostics_of("[state]\ndsn = \"dbname=rb\"\nlease = \"1s\"\n") ==
              "3:1: state: key \"lease\": at least 3s (the holder renews it every third)\n");
        CHECK(diagnostics_of("[state]\ndsn = \"dbname=rb\"\nleas = \"10s\"\n")
                  .find("unknown key \"leas\" (did you mean \"lease\"?)") != std::string::npos);
        CHECK(diagnostics_of("[target]\nstate = \"dbname=a\"\n[state]\ndsn = \"dbname=b\"\n") ==
              "3:1: state: the shared state is named twice ([target] state and [state])\n");
        // The password is masked in the message that quotes the DSN.
        CHECK(diagnostics_of("[state]\ndsn = \"mysql://u:pw-in-error-1@h/x\"\n")
                  .find("pw-in-error-1") == std::string::npos);
    }

    TEST_CASE("shared state: a DSN libpq refuses is refused when the file loads — as status does") {
        // The very parser `status`, `run` and `monitor` connect with (db::Dsn::parse): validate
        // cannot pass a file they then refuse (break-it finding: an unterminated quote).
        CHECK(diagnostics_of("[state]\ndsn = \"host=db.invalid password='Sekr3tPassw0rdQ "
                             "user=x\"\n") ==
              "2:1: state: invalid DSN: unterminated quoted string in connection info string\n");
        CHECK(diagnostics_of("[target]\nstate = \"host=/tmp nosuchparam=1\"\n")
                  .find("2:1: state: invalid DSN") == 0);
        CHECK(
            diagnostics_of("[state]\ndsn = \"postgresql://h/db?nosuch=1\"\n").find("invalid DSN") !=
            std::string::npos);
        CHECK(
            diagnostics_of("[source.db]\nkind = \"sql\"\ndsn = \"host='x\"\nquery = \"SELECT 1\"\n")
                .find("3:7: source \"db\": invalid DSN") != std::string::npos);
        CHECK(diagnostics_of("[state]\ndsn = \"host=/run/pg dbname='a b'\"\n").empty());
    }

    TEST_CASE("shared state: a mistyped DSN never shows its password (break-it 32/01)") {
        // No "://" (the scheme's colon missing): the password cannot be found by its place.
        auto d = diagnostics_of("[state]\ndsn = \"postgresql//rb:Sekr3tPW-01a@localhost/pg\"\n");
        CHECK(d == "2:1: state: not a PostgreSQL connection string (not shown: it may hold a "
                   "password)\n");
        // The line echoed under the error is masked with the same secret.
        CHECK(util::mask_secrets("dsn = \"postgresql//rb:Sekr3tPW-01a@localhost/pg\"") ==
              "dsn = \"***\"");
        // key=value with the '=' after "password" missing: libpq quotes the words it stopped at.
        d = diagnostics_of("[state]\ndsn = \"host=/x user=rb passwordSekr3tPW-01b\"\n");
        CHECK(d == "2:1: state: invalid DSN: missing \"=\" after \"***\" in connection info "
                   "string\n");
        d = diagnostics_of("[state]\ndsn = \"host=/x user=rb password Sekr3tPW-01c\"\n");
        CHECK(d.find("Sekr3tPW-01c") == std::string::npos);
        CHECK(d.rfind("2:1: state: invalid DSN: ", 0) == 0);
        CHECK(util::mask_secrets("host=/x user=rb password Sekr3tPW-01c").find("Sekr3tPW") ==
              std::string::npos);
    }

    TEST_CASE("shared state: an option value libpq refuses at connect is refused at load (32/06)") {
        const std::string base = "[state]\ndsn = \"host=/run/pg user=rb password=Pw-06-sekrit ";
        CHECK(diagnostics_of(base + "port=23x02\"\n") ==
              "2:1: state: invalid DSN host=/run/pg password=*** port=23x02 user=rb: invalid port "
              "number: \"23x02\" (1 to 65535)\n");
        CHECK(diagnostics_of(base + "port=65536\"\n").find("invalid port number: \"65536\"") !=
              std::string::npos);
        CHECK(diagnostics_of(base + "sslmode=bogus\"\n")
                  .find("invalid sslmode value: \"bogus\" (one of disable, allow, prefer, "
                        "require, verify-ca, verify-full)") != std::string::npos);
        CHECK(diagnostics_of(base + "connect_timeout=abc\"\n")
                  .find("invalid integer value \"abc\" for connection option "
                        "\"connect_timeout\"") != std::string::npos);
        CHECK(diagnostics_of(base + "target_session_attrs=bogus\"\n")
                  .find("invalid target_session_attrs value") != std::string::npos);
        CHECK(diagnostics_of(base + "gssencmode=nope\"\n").find("invalid gssencmode value") !=
              std::string::npos);
        CHECK(diagnostics_of("[state]\ndsn = \"postgresql://rb@h:5432,h2:5433/db?sslmode=require"
                             "&connect_timeout=5\"\n")
                  .empty());
        CHECK(diagnostics_of(base + "port=23x02\"\n").find("Pw-06-sekrit") == std::string::npos);
    }

    TEST_CASE("shared state: a lease past PostgreSQL's lock_timeout is a located error (32/09)") {
        CHECK(diagnostics_of("[state]\ndsn = \"dbname=rb\"\nlease = \"1000h\"\n") ==
              "3:1: state: key \"lease\": at most 596h (PostgreSQL's lock_timeout limit)\n");
        CHECK(diagnostics_of("[state]\ndsn = \"dbname=rb\"\nlease = \"596h\"\n").empty());
        CHECK(diagnostics_of("[state]\ndsn = \"dbname=rb\"\nlease = \"24h\"\n").empty());
    }
}
