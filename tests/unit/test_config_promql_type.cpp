// SPDX-License-Identifier: MIT
// The PromQL reader validate uses for an alert's confirming query: the result's type, the
// mistakes Prometheus refuses too, and what it leaves open instead of refusing.
#include "config/promql_type.hpp"

#include <doctest/doctest.h>

using namespace rollback;
using config::PromqlType;
using config::read_promql;

namespace {

std::string type_of(const std::string& q) {
    const auto r = read_promql(q);
    if (!r.problem.empty()) {
        return "problem at " + std::to_string(r.offset) + ": " + r.problem;
    }
    return r.type ? std::string(config::to_string(*r.type)) : "open";
}

} // namespace

TEST_SUITE("config") {
    TEST_CASE("PromQL queries that return an instant vector") {
        for (const char* q : {
                 "up",
                 "shop:error_ratio",
                 ":node_cpu:rate5m",
                 "sum(rate(http_requests_total{code=~\"5..\"}[5m])) / "
                 "sum(rate(http_requests_total[5m]))",
                 "{__name__=\"up\", job!=\"x\",}",
                 "{\"metric.with.dots\"}",
                 "max by (job) (up)",
                 "sum(up) without (instance)",
                 "SUM BY (job) (up)",
                 "topk(3, up)",
                 "count_values(\"version\", build_info)",
                 "quantile(0.9, rate(x[5m]))",
                 "histogram_quantile(0.95, sum by (le) (rate(h_bucket[5m])))",
                 "x > 0.05",
                 "x > bool 0.05",
                 "a / on(job) group_left(instance) b",
                 "a * ignoring(code) group_right b",
                 "x offset 5m",
                 "x offset -1h30m",
                 "x @ 1700000000",
                 "x @ end()",
                 "rate(x[5m] offset 1h)",
                 "-x",
                 "+x ^ 2",
                 "vector(1)",
                 "absent(up)",
                 "timestamp(up)",
                 "label_replace(up, \"a\", \"$1\", \"b\", \"(.*)\")",
                 "label_join(up, \"d\", \",\", \"a\", \"b\")",
                 "sort_by_label(up, \"a\", \"b\")",
                 "x and y or z unless w",
                 "(x)",
                 "sum(x # a comment\n)",
                 "up # trailing comment",
                 "# leading comment\nup",
                 "1 + x",
                 "time() - timestamp(x)",
                 "rate(x[5m:1m])",
                 "max_over_time(rate(x[1m])[5m:])",
                 "day_of_week()",
                 "round(x, 0.1)",
                 "0x1f + x",
                 "x * 1e-3",
                 "x atan2 y",
                 "quantile_over_time(0.5, x[5m])",
                 "clamp(x, 0, 1)",
                 "predict_linear(x[1h], 3600)",
                 "x{path=\"/#not-a-comment\"}",
                 "x{a='single', b=`raw \\ string`}",
             }) {
            CAPTURE(q);
            CHECK(type_of(q) == "instant vector");
        }
    }

    TEST_CASE("PromQL queries that return a scalar or a range vector or a string") {
        for (const char* q :
             {"0.07", "scalar(x)", "time()", "pi()", "1 + 2", "-3", "scalar(sum(x)) * 2", "Inf",
              "NaN", "1 > bool 0", "(scalar(x))", "2 ^ 3 ^ 2", ".5"}) {
            CAPTURE(q);
            CHECK(type_of(q) == "scalar");
        }
        for (const char* q : {"x[5m]", "rate(x[5m])[10m:1m]", "x[5m] offset 1h",
                              "http_requests_total{code=\"500\"}[1h]"}) {
            CAPTURE(q);
            CHECK(type_of(q) == "range vector");
        }
        CHECK(type_of("\"text\"") == "string");
    }

    TEST_CASE("PromQL mistakes Prometheus refuses too are located") {
        CHECK(type_of("sum(x") == "problem at 3: unclosed left parenthesis");
        CHECK(type_of("x)") == "problem at 1: unexpected \")\"");
        CHECK(type_of("x{job=\"a") == "problem at 6: unterminated quoted string");
        CHECK(type_of("up{job=\"a\"") == "problem at 2: unclosed left brace");
        CHECK(type_of("rate(x)") == "problem at 5: expected type range vector in call to function "
                                    "\"rate\", got instant vector");
        CHECK(type_of("1 > 0") == "problem at 2: comparisons between scalars must use BOOL "
                                  "modifier");
        CHECK(type_of("x[5m] + 1") == "problem at 6: binary expression \"+\" must contain only "
                                      "scalar and instant vector types, got range vector");
        CHECK(type_of("(x)[5m]") == "problem at 3: ranges only allowed for vector selectors");
        CHECK(type_of("scalar(x) and 1") == "problem at 10: set operator \"and\" not allowed in "
                                            "binary scalar expression");
        CHECK(type_of("x + ") == "problem at 4: unexpected end of input");
        CHECK(type_of("histogram_quantile(x)") == "problem at 0: expected 2 argument(s) in call "
                                                  "to \"histogram_quantile\", got 1");
        CHECK(type_of("topk(x)") == "problem at 0: wrong number of arguments for aggregate "
                                    "expression provided, expected 2, got 1");
        CHECK(type_of("sum(x[5m])") == "problem at 4: expected type instant vector in "
                                       "aggregation expression, got range vector");
        CHECK(type_of("timestamp(1)") == "problem at 10: expected type instant vector in call to "
                                         "function \"timestamp\", got scalar");
        CHECK(type_of("x{a=}") == "problem at 4: unexpected \"}\" in label matching, expected "
                                  "string");
        CHECK(type_of("3x") == "problem at 0: bad number or duration syntax: \"3x\"");
        CHECK(type_of("x $ y") == "problem at 2: unexpected character \"$\"");
        CHECK(type_of("x @ foo") == "problem at 4: unexpected \"foo\" after @");
        CHECK(type_of("") == "problem at 0: unexpected end of input");
        CHECK(type_of("x bool > 1") == "problem at 2: unexpected \"bool\"");
        CHECK(type_of("x + bool 1") == "problem at 2: bool modifier can only be used on "
                                       "comparison operators");
        CHECK(type_of("round(x, 1, 2)") == "problem at 0: expected at most 2 argument(s) in call "
                                           "to \"round\", got 3");
        CHECK(type_of("sum(x) offset 5m") == "problem at 7: offset modifier must be preceded by "
                                             "an instant vector selector or range vector "
                                             "selector or a subquery");
        // A comment runs to the end of its line: it swallows what follows on it.
        CHECK(type_of("timestamp(up # note)") == "problem at 9: unclosed left parenthesis");
        CHECK(type_of("timestamp(up # note\n)") == "instant vector");
    }

    // Break-it 42/02: each of these was accepted, and Prometheus refused the query at every
    // confirmation (the alert stayed no_data). The words are Prometheus'.
    TEST_CASE("PromQL strings and regexes Prometheus refuses") {
        CHECK(type_of(R"(max(x{instance=~"127\.0\.0\.1:.*"}))") ==
              "problem at 20: unknown escape sequence U+002E '.'");
        CHECK(type_of(R"(x{code=~'5\d\d'})") ==
              "problem at 10: unknown escape sequence U+0064 'd'");
        CHECK(type_of(R"(label_join(x, "a", "\.", "b"))") ==
              "problem at 20: unknown escape sequence U+002E '.'");
        CHECK(type_of(R"(sum(rate(x{path=~"/api/(v1"}[5m])))") ==
              "problem at 17: error parsing regexp: missing closing ): `/api/(v1`");
        CHECK(type_of(R"(x{a!~"a{2,1}"})") ==
              "problem at 5: error parsing regexp: invalid repeat count: `{2,1}`");
        CHECK(type_of(R"(x{a=~`(`})") ==
              "problem at 5: error parsing regexp: missing closing ): `(`");
        CHECK(type_of("rate(x[2m1h])") == "problem at 7: not a valid duration string: \"2m1h\"");
        CHECK(type_of("x offset 300y") == "problem at 9: duration out of range");
    }

    TEST_CASE("PromQL selectors Prometheus refuses") {
        const std::string none = "vector selector must contain at least one non-empty matcher";
        CHECK(type_of(R"(sum(rate({job=~".*"}[5m])))") == "problem at 9: " + none);
        CHECK(type_of(R"({a=""})") == "problem at 0: " + none);
        CHECK(type_of(R"({a!~".+"})") == "problem at 0: " + none);
        CHECK(type_of(R"({a=~"x|", b!="y"})") == "problem at 0: " + none);
        CHECK(type_of("{}") == "problem at 0: " + none);
        CHECK(type_of(R"(x{__name__="y"})") ==
              "problem at 0: metric name must not be set twice: \"x\" or \"y\"");
        CHECK(type_of(R"(1 + x{__name__=~"x.*"})") ==
              "problem at 4: metric name must not be set twice: \"x\" or \"x.*\"");
        // One matcher that "" fails is enough; a name is one.
        for (const std::string q :
             {R"({a=~".+"})", R"({a!=""})", R"({a="", b="c"})", R"({__name__=~".+"})",
              R"(x{a=~".*"})", R"(x{a=""})", R"({__name__="x", __name__="y"})",
              R"({"metric.name"})", R"(info(x, {k8s=~".*"}))"}) {
            CAPTURE(q);
            CHECK(type_of(q) != "problem at 0: " + none);
            CHECK(read_promql(q).problem.empty());
        }
    }

    TEST_CASE("PromQL modifiers Prometheus refuses") {
        CHECK(type_of("x offset 5m offset 1m") ==
              "problem at 12: offset may not be set multiple times");
        CHECK(type_of("rate(x[5m] offset 1m offset 2m)") ==
              "problem at 21: offset may not be set multiple times");
        CHECK(type_of("x @ 100 @ 200") ==
              "problem at 8: @ <timestamp> may not be set multiple times");
        CHECK(type_of("x @ start() @ end()") ==
              "problem at 12: @ <timestamp> may not be set multiple times");
        CHECK(type_of("rate(x offset 1m [5m])") ==
              "problem at 17: no offset modifiers allowed before range");
        CHECK(type_of("rate(x @ 100 [5m])") ==
              "problem at 13: no @ modifiers allowed before range");
        CHECK(type_of("x @ 1e20") ==
              "problem at 4: timestamp out of bounds for @ modifier: 100000000000000000000.000000");
        CHECK(type_of("rate(x[0s])") == "problem at 7: duration must be greater than 0");
        CHECK(type_of("max_over_time(x[5m:0s])") ==
              "problem at 19: duration must be greater than 0");
        CHECK(type_of("rate(x[:5m])") == "problem at 7: unexpected \":\" in subquery or range");
        CHECK(type_of("rate(x[])") == "problem at 7: unexpected \"]\" in subquery or range");
        // Set once each, in either order; and what Prometheus 3 takes beside Prometheus 2.
        for (const std::string q :
             {"x @ 100 offset 1m", "x offset 1m @ 100", "rate(x[5m] @ start())",
              "max_over_time(x[5m:] offset 1m) + x offset 1m",
              "max_over_time(rate(x[5m] offset 1m)[10m:1m] offset 2m)", "rate(x @ start() [5m])",
              "x offset 0s offset 1m", "x offset 5", "rate(x[300])", "rate(x[5m + 1m])"}) {
            CAPTURE(q);
            CHECK(read_promql(q).problem.empty());
        }
    }

    TEST_CASE("PromQL operator modifiers and keywords Prometheus refuses") {
        CHECK(type_of("x and on(a) group_left y") ==
              "problem at 2: no grouping allowed for \"and\" operation");
        CHECK(type_of("x OR ignoring(a) group_right(b) y") ==
              "problem at 2: no grouping allowed for \"or\" operation");
        CHECK(type_of("x and bool y") ==
              "problem at 2: bool modifier can only be used on comparison operators");
        CHECK(type_of("x unless bool y") ==
              "problem at 2: bool modifier can only be used on comparison operators");
        CHECK(type_of("x + on(a, b) group_left(b) y") ==
              "problem at 2: label \"b\" must not occur in ON and GROUP clause at once");
        CHECK(type_of("1 + on(a) x") ==
              "problem at 2: vector matching only allowed between instant vectors");
        CHECK(type_of("x == bool ignoring(a) 1") ==
              "problem at 2: vector matching only allowed between instant vectors");
        CHECK(type_of("group_left") == "problem at 0: unexpected \"group_left\"");
        CHECK(type_of("sum(ON)") == "problem at 4: unexpected \"ON\"");
        CHECK(type_of("atan2") == "problem at 0: unexpected \"atan2\"");
        for (const std::string q :
             {"x and on(a) y", "x + ignoring(a) group_left(a) y", "1 + on() x",
              "x == bool on(a) group_left(b) y", "sum", "offset", "by",
              "sum by (on, bool, group_left, atan2) (x)", "x{on=\"a\"}"}) {
            CAPTURE(q);
            CHECK(type_of(q) == "instant vector");
        }
    }

    TEST_CASE("PromQL the reader does not know leaves the type open") {
        CHECK(type_of("some_future_function(x)") == "open");
        CHECK(type_of("some_future_function(x) + 1") == "open");
        CHECK(type_of("some_future_function(x) + up") == "instant vector");
        CHECK(type_of("5m") == "open"); // a number of seconds in Prometheus 3
        CHECK(type_of("x offset (1h + 5m)") == "instant vector");
        // Nested deeper than the reader's recursion goes: open, not a crash nor a refusal.
        CHECK(type_of(std::string(100000, '(') + "1" + std::string(100000, ')')) == "open");
        CHECK(type_of(std::string(100000, '-') + "x") == "open");
        CHECK(type_of(std::string(50, '(') + "up" + std::string(50, ')')) == "instant vector");
    }
}
