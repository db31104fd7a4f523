// SPDX-License-Identifier: MIT
// --var NAME=VALUE: a malformed one is refused without echoing what follows its name (break-it
// 23/08: `--var "token VALUE"` printed the secret value in the error, text and --json).
#include "cli/load.hpp"

#include "util/error.hpp"
#include "util/error_json.hpp"

#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

using namespace rollback;

TEST_SUITE("cli") {
    TEST_CASE("--var without = shows the name only — the rest is ***") {
        struct Case {
            std::string arg;
            std::string shown;
        };
        for (const auto& c : std::vector<Case>{
                 {"token VarNoEqSecret02", "--var token ***: expected NAME=VALUE"},
                 {"token:VarNoEqSecret02", "--var token***: expected NAME=VALUE"},
                 {"=VarNoEqSecret02", "--var ***: expected NAME=VALUE"},
                 {"VarNoEqSecret02", "--var VarNoEqSecret02: expected NAME=VALUE"},
                 {"token\tVarNoEqSecret02 more", "--var token ***: expected NAME=VALUE"},
                 {"tok-en_1;VarNoEqSecret02", "--var tok-en_1***: expected NAME=VALUE"},
                 {"", "--var : expected NAME=VALUE"},
             }) {
            CAPTURE(c.arg);
            try {
                cli::parse_var_overrides({"ok=1", c.arg});
                FAIL("accepted");
            } catch (const util::Error& e) {
                CHECK(std::string(e.what()) == c.shown);
                CHECK(e.code() == util::ExitCode::invalid);
                const std::string json = boost::json::serialize(util::error_json(e));
                if (c.arg.find(' ') != std::string::npos || c.arg.find(':') != std::string::npos ||
                    c.arg.find('=') == 0 || c.arg.find(';') != std::string::npos) {
                    CHECK(json.find("VarNoEqSecret02") == std::string::npos);
                    CHECK(std::string(e.what()).find("VarNoEqSecret02") == std::string::npos);
                }
            }
        }
        // A name alone is shown whole (it is a name, there is nothing after it).
        auto ok = cli::parse_var_overrides({"token=a b=c", "empty="});
        CHECK(ok.at("token") == "a b=c");
        CHECK(ok.at("empty") == "");
    }
}
