// SPDX-License-Identifier: MIT
// The Prometheus text exposition the monitor serves, and the token comparison.
#include "server/http_server.hpp"
#include "server/metrics.hpp"

#include <cmath>
#include <doctest/doctest.h>
#include <limits>

using namespace rollback;

TEST_SUITE("server") {
    TEST_CASE("families render with HELP and TYPE and their series sorted") {
        server::Metrics m;
        m.declare("rollback_ticks_total", server::MetricType::counter, "Ticks.");
        m.declare("rollback_condition_value_seconds", server::MetricType::gauge, "Values.");
        m.add("rollback_ticks_total", {});
        m.add("rollback_ticks_total", {}, 2);
        m.set("rollback_condition_value_seconds", {{"condition", "b"}}, 0.25);
        m.set("rollback_condition_value_seconds", {{"condition", "a"}}, 1.5);
        m.set("rollback_undeclared", {}, 1);
        CHECK(m.render() == "# HELP rollback_ticks_total Ticks.\n"
                            "# TYPE rollback_ticks_total counter\n"
                            "rollback_ticks_total 3\n"
                            "# HELP rollback_condition_value_seconds Values.\n"
                            "# TYPE rollback_condition_value_seconds gauge\n"
                            "rollback_condition_value_seconds{condition=\"a\"} 1.5\n"
                            "rollback_condition_value_seconds{condition=\"b\"} 0.25\n");
        m.erase("rollback_condition_value_seconds", {{"condition", "a"}});
        CHECK(m.render().find("condition=\"a\"") == std::string::npos);
    }

    TEST_CASE("label values are escaped") {
        CHECK(server::format_labels({{"condition", "a\"b\\c\nd"}}) ==
              "{condition=\"a\\\"b\\\\c\\nd\"}");
        CHECK(server::format_value(std::numeric_limits<double>::infinity()) == "+Inf");
        CHECK(server::format_value(std::nan("")) == "NaN");
    }

    TEST_CASE("label values are valid UTF-8 always: a byte outside it is the text xHH") {
        // A Latin-1 catalog path from the environment: Prometheus refuses a page with an invalid
        // UTF-8 label value as a whole (every series of the engine gone).
        const std::string latin1 = "/srv/cat\xe9";
        CHECK(server::format_labels({{"catalog", latin1}}) == "{catalog=\"/srv/cat\\\\xe9\"}");
        CHECK(server::format_labels({{"catalog", "/srv/caf\xc3\xa9"}}) ==
              "{catalog=\"/srv/caf\xc3\xa9\"}"); // valid UTF-8 as it is
        server::Metrics m;
        m.declare("rollback_x", server::MetricType::gauge, "x");
        m.set("rollback_x", {{"catalog", latin1 + "\xff\xfe"}}, 1);
        const std::string page = m.render();
        CHECK(page.find("\xe9") == std::string::npos);
        CHECK(page.find("rollback_x{catalog=\"/srv/cat\\\\xe9\\\\xff\\\\xfe\"} 1") !=
              std::string::npos);
    }

    TEST_CASE("a histogram renders cumulative buckets with sum and count") {
        server::Metrics m;
        m.declare("rollback_tick_duration_seconds", server::MetricType::histogram, "Ticks.",
                  {0.1, 1});
        m.observe("rollback_tick_duration_seconds", 0.05);
        m.observe("rollback_tick_duration_seconds", 0.5);
        m.observe("rollback_tick_duration_seconds", 3);
        CHECK(m.render() == "# HELP rollback_tick_duration_seconds Ticks.\n"
                            "# TYPE rollback_tick_duration_seconds histogram\n"
                            "rollback_tick_duration_seconds_bucket{le=\"0.1\"} 1\n"
                            "rollback_tick_duration_seconds_bucket{le=\"1\"} 2\n"
                            "rollback_tick_duration_seconds_bucket{le=\"+Inf\"} 3\n"
                            "rollback_tick_duration_seconds_sum 3.55\n"
                            "rollback_tick_duration_seconds_count 3\n");
    }

    TEST_CASE("tokens compare equal only when identical") {
        CHECK(server::token_equal("s3cret", "s3cret"));
        CHECK_FALSE(server::token_equal("s3creT", "s3cret"));
        CHECK_FALSE(server::token_equal("s3cret-and-more", "s3cret"));
        CHECK_FALSE(server::token_equal("", "s3cret"));
    }
}
