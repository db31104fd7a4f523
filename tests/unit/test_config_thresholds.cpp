// SPDX-License-Identifier: MIT
// Thresholds that no observation of the signal can breach (or that every one breaches), and an
// empty window, are located errors; a ratio over an access log without min_requests is a
// warning (break-it issue 10, findings 08 and 13).
#include "config/config.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

using namespace rollback;

namespace {

const std::string k_base = "[source.web]\nkind = \"access_log\"\npath = \"a.log\"\nformat = "
                           "\"combined_request_time\"\n[source.h]\nkind = \"http\"\nurl = "
                           "\"http://127.0.0.1:1/\"\n[source.v]\nkind = \"command\"\nargv = "
                           "[\"true\"]\n[[condition]]\nname = \"x\"\n";
// The condition's keys start at line 13 (signal).

std::string diagnostics_of(const std::string& text) {
    try {
        config::parse(text, "rollback.toml", "/etc/rb");
    } catch (const util::InvalidInput& e) {
        std::string out;
        for (const auto& d : e.diagnostics()) {
            out += std::to_string(d.where.line) + ":" + std::to_string(d.where.column) + ": " +
                   d.problem + (d.hint.empty() ? "" : " [" + d.hint + "]") + "\n";
        }
        return out;
    }
    return "";
}

std::string cond(const std::string& signal, const std::string& key, const std::string& value) {
    std::string extra = signal == "web.error_rate" ? "min_requests = 10\n" : "window = \"5m\"\n";
    return k_base + "signal = \"" + signal + "\"\n" + extra + key + " = " + value + "\n";
}

} // namespace

TEST_SUITE("config") {
    TEST_CASE("a threshold that never fires is a located error") {
        // The finding's rules: error_rate above 1.0, error_rate below 0, request_count below -1.
        std::string d = diagnostics_of(cond("web.error_rate", "above", "1.0"));
        CHECK(d.find("15:9: key \"above\": error_rate lies in [0, 1]; 1 would never breach") == 0);
        CHECK(d.find("[an error rate of 100 % is 1") != std::string::npos);
        CHECK(diagnostics_of(cond("web.error_rate", "below", "0")).find("0 would never breach") !=
              std::string::npos);
        CHECK(diagnostics_of(cond("web.request_count", "below", "-1"))
                  .find("15:9: key \"below\": request_count lies in [0, +inf); -1 would never "
                        "breach") == 0);
        CHECK(diagnostics_of(cond("web.request_count", "below", "0")).find("never breach") !=
              std::string::npos);
        // Siblings by kind: every signal that cannot go below 0.
        CHECK(diagnostics_of(cond("h.downtime", "below", "\"0s\"")).find("never breach") !=
              std::string::npos);
        CHECK(diagnostics_of(cond("web.latency_p95", "below", "\"0ms\"")).find("never breach") !=
              std::string::npos);
        CHECK(diagnostics_of(cond("h.error_rate", "above", "1")).find("never breach") !=
              std::string::npos);
        // An above_baseline floor of 1 or more makes the rule never fire too.
        CHECK(diagnostics_of(
                  cond("web.error_rate", "above_baseline", "2\nbaseline = 0.01\nabove = 1"))
                  .find("never breach") != std::string::npos);
    }

    TEST_CASE("a threshold that always fires is a located error") {
        CHECK(diagnostics_of(cond("web.error_rate", "below", "1.5")).find("always breach") !=
              std::string::npos);
        CHECK(diagnostics_of(cond("web.request_count", "above", "-1")).find("always breach") !=
              std::string::npos);
        CHECK(diagnostics_of(cond("h.downtime", "above", "-5")).find("always breach") !=
              std::string::npos);
        CHECK(diagnostics_of(cond("web.error_rate", "above", "-0.01")).find("always breach") !=
              std::string::npos);
    }

    TEST_CASE("thresholds inside the signal's range are accepted") {
        CHECK(diagnostics_of(cond("web.error_rate", "above", "0")).empty());
        CHECK(diagnostics_of(cond("web.error_rate", "above", "0.999")).empty());
        CHECK(diagnostics_of(cond("web.error_rate", "below", "1")).empty());
        CHECK(diagnostics_of(cond("web.error_rate", "below", "0.01")).empty());
        CHECK(diagnostics_of(cond("web.request_count", "below", "1")).empty());
        CHECK(diagnostics_of(cond("web.request_count", "above", "0")).empty());
        CHECK(diagnostics_of(cond("h.downtime", "above", "\"0s\"")).empty());
        // A value has no known range: any finite number.
        CHECK(diagnostics_of(cond("v.value", "below", "-1000")).empty());
        CHECK(diagnostics_of(cond("v.value", "above", "-3")).empty());
    }

    TEST_CASE("an empty window is a located error") {
        std::string d =
            diagnostics_of(k_base + "signal = \"web.error_rate\"\nmin_requests = 10\nabove = "
                                    "0.05\nwindow = \"0s\"\n");
        CHECK(d.find("16:10: key \"window\": an empty window holds no sample") == 0);
        CHECK(diagnostics_of(k_base + "signal = \"v.value\"\nabove = 1\nwindow = \"0s\"\n")
                  .find("an empty window") != std::string::npos);
    }

    TEST_CASE("an access-log error rate without min_requests is a warning") {
        auto c = config::parse(k_base + "signal = \"web.error_rate\"\nabove = 0.05\nfor = \"2m\"\n",
                               "r.toml", "/d");
        REQUIRE(c.warnings.size() == 1);
        CHECK(c.warnings[0].where.line == 13);
        CHECK(c.warnings[0].problem.find("without \"min_requests\"") != std::string::npos);
        CHECK(
            config::parse(k_base + "signal = \"web.error_rate\"\nabove = 0.05\nmin_requests = 1\n",
                          "r.toml", "/d")
                .warnings.empty());
    }

    TEST_CASE("a fixed baseline at or below 0 is a located error") {
        // Break-it round 36, finding 02: observed > ratio × baseline turns around under 0.
        for (const char* b : {"-10", "0", "-0.5", "0.0"}) {
            CAPTURE(b);
            std::string d = diagnostics_of(k_base +
                                           "signal = \"v.value\"\nabove_baseline = "
                                           "1.5\nbaseline = " +
                                           b + "\n");
            CHECK(d.find("15:12: key \"baseline\"") == 0);
            CHECK(d.find("at or below 0 is meaningless") != std::string::npos);
        }
        CHECK(
            diagnostics_of(k_base + "signal = \"v.value\"\nabove_baseline = 1.5\nbaseline = 0.1\n")
                .empty());
    }

    TEST_CASE("a baseline rule that can never fire is a located error") {
        // Break-it round 40, finding 08: an infinite baseline or ratio, and an error rate's
        // ratio × baseline of 1 or more (an error rate is at most 1).
        CHECK(
            diagnostics_of(k_base + "signal = \"v.value\"\nabove_baseline = 1.5\nbaseline = inf\n")
                .find("15:12: key \"baseline\": Infinity") == 0);
        CHECK(diagnostics_of(k_base + "signal = \"v.value\"\nabove_baseline = inf\nbaseline = 3\n")
                  .find("14:18: key \"above_baseline\": expected a finite ratio") == 0);
        CHECK(diagnostics_of(k_base +
                             "signal = \"web.error_rate\"\nabove_baseline = 2\nbaseline = 0.5\n")
                  .find("15:12: above_baseline × baseline = 1: an error rate is at most 1") == 0);
        CHECK(diagnostics_of(k_base + "signal = \"web.error_rate\"\nabove_baseline = 2\nbaseline = "
                                      "0.4\nmin_requests = 10\n")
                  .empty());
    }

    TEST_CASE("an access-log latency percentile without min_requests is a warning") {
        // Break-it round 36, finding 07: the p95 of a release's first three requests (a cold
        // cache) is the slowest of them.
        for (const char* sig : {"latency_p50", "latency_p95", "latency_p99"}) {
            CAPTURE(sig);
            auto c = config::parse(k_base + "signal = \"web." + sig + "\"\nabove = \"500ms\"\n",
                                   "r.toml", "/d");
            REQUIRE(c.warnings.size() == 1);
            CHECK(c.warnings[0].problem.find("latency percentile without \"min_requests\": the " +
                                             std::string(sig).substr(8) + " of a window") !=
                  std::string::npos);
            CHECK(config::parse(k_base + "signal = \"web." + sig +
                                    "\"\nabove = \"500ms\"\nmin_requests = 50\n",
                                "r.toml", "/d")
                      .warnings.empty());
        }
        // A count has no min_requests: no warning.
        CHECK(config::parse(k_base + "signal = \"web.request_count\"\nbelow = 10\n", "r.toml", "/d")
                  .warnings.empty());
    }
}
