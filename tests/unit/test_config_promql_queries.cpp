// SPDX-License-Identifier: MIT
// Every query of tests/data/promql/confirm_queries.txt gets the verdict pinned there from the
// check validate runs (config::parse of an alert condition confirmed by it): the list break-it
// 42/02 compared with Prometheus' own parser, and siblings. Prometheus' side of the comparison
// is tests/integration/validate_confirm_promtool.sh.
#include "config/config.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <fstream>

using namespace rollback;

namespace {

struct Pinned {
    std::string verdict; ///< ok, refuse, prom3
    std::string query;
    int line = 0;
};

std::vector<Pinned> pinned_queries() {
    std::ifstream in(test::source_dir() / "tests/data/promql/confirm_queries.txt");
    REQUIRE(in);
    std::vector<Pinned> out;
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        const auto space = line.find(' ');
        REQUIRE(space != std::string::npos);
        out.push_back({line.substr(0, space), line.substr(line.find_first_not_of(' ', space)), n});
    }
    return out;
}

/// "accept", or the diagnostics validate gives (the query in a literal string: as written).
std::string verdict_of(const std::string& query) {
    const std::string text = "[source.errors]\nkind = \"prometheus\"\n"
                             "url = \"http://127.0.0.1:9090\"\nquery = '''" +
                             query +
                             "'''\n[[condition]]\nname = \"shop-errors\"\nkind = \"alert\"\n"
                             "match = { alertname = \"HighErrorRate\" }\n"
                             "confirm = { source = \"errors\", above = 0.8 }\n[server]\n";
    try {
        config::parse(text, "rollback.toml", "/etc/rb");
        return "accept";
    } catch (const util::InvalidInput& e) {
        std::string out;
        for (const auto& d : e.diagnostics()) {
            out += d.problem + "\n";
        }
        return out;
    }
}

} // namespace

TEST_SUITE("config") {
    TEST_CASE("confirming queries get the verdicts pinned in tests/data/promql") {
        const auto queries = pinned_queries();
        CHECK(queries.size() > 450);
        std::size_t refused = 0;
        for (const auto& q : queries) {
            CAPTURE(q.line);
            CAPTURE(q.query);
            REQUIRE((q.verdict == "ok" || q.verdict == "refuse" || q.verdict == "prom3"));
            const std::string got = verdict_of(q.query);
            if (q.verdict == "refuse") {
                CHECK(got.find("key \"confirm\": the query of source \"errors\" can never "
                               "confirm: ") == 0);
                ++refused;
            } else {
                CHECK(got == "accept");
            }
        }
        MESSAGE(queries.size() << " queries: " << refused << " refused, "
                               << queries.size() - refused << " accepted");
    }
}
