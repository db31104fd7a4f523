// SPDX-License-Identifier: MIT
// The live monitor's read-back at its start is bounded as a replay's samples are: a condition
// whose window and counting span cover more than 3,000,000 intervals of its access log is a
// located error (break-it 44/07: a 400-day window at 1 s took 2.85 GB and 21 s per start).
#include "config/config.hpp"
#include "sources/collect.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

using namespace rollback;

namespace {

std::string rule(const std::string& interval, const std::string& keys) {
    return "[source.web]\nkind = \"access_log\"\npath = \"a.log\"\nformat = \"combined\"\n"
           "interval = \"" +
           interval +
           "\"\nmax_lateness = \"0s\"\n[[condition]]\nname = \"traffic\"\nsignal = "
           "\"web.request_count\"\nbelow = 5\n" +
           keys + "[decision]\ninterval = \"10s\"\nmode = \"observe\"\n";
}

// The diagnostics of `text` ("line:col: problem [hint]"), "" when it loads.
std::string diagnostics_of(const std::string& text) {
    try {
        config::parse(text, "rollback.toml", "/etc/rb");
    } catch (const util::InvalidInput& e) {
        std::string out;
        for (const auto& d : e.diagnostics()) {
            out += std::to_string(d.where.line) + ":" + std::to_string(d.where.column) + ": " +
                   d.subject + ": " + d.problem + " [" + d.hint + "]\n";
        }
        return out;
    }
    return "";
}

} // namespace

TEST_SUITE("config") {
    TEST_CASE("a window the monitor would read back over more than the replay's bound is refused") {
        const std::string d = diagnostics_of(rule("1s", "window = \"400d\"\n"));
        CHECK(d.find("7:1: condition \"traffic\": window 9600h: the monitor would read back "
                     "34560030 intervals of 1s of source \"web\" at each start, more than "
                     "3000000") == 0);
        CHECK(d.find("[a shorter window or counting span (40m typed 400d?), or a source interval "
                     "of at least 12s]") != std::string::npos);
        // The same window at the interval the hint names loads.
        CHECK(diagnostics_of(rule("12s", "window = \"400d\"\n")).empty());
        // 30 days at 1 s (2.6 M intervals, as a replay takes) loads; the typo's 40 minutes too.
        CHECK(diagnostics_of(rule("1s", "window = \"30d\"\n")).empty());
        CHECK(diagnostics_of(rule("1s", "window = \"40m\"\n")).empty());
    }

    TEST_CASE("a counting span the monitor would read back over the bound is refused") {
        // The warm-up rebuilds a `for` run at the start: a 40-day `for` is as long a read-back.
        const std::string d = diagnostics_of(rule("1s", "window = \"1m\"\nfor = \"40d\"\n"));
        CHECK(d.find("7:1: condition \"traffic\": window 1m and counting span 960h: the monitor "
                     "would read back") == 0);
        // A polled source keeps one sample a tick: no read-back to bound.
        CHECK(diagnostics_of("[source.v]\nkind = \"command\"\nargv = [\"true\"]\ninterval = "
                             "\"1s\"\n[[condition]]\nname = \"v\"\nsignal = \"v.value\"\nabove = "
                             "1\nwindow = \"400d\"\n[decision]\nmode = \"observe\"\n")
                  .empty());
    }
}
