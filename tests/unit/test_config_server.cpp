// SPDX-License-Identifier: MIT
// [server] and `kind = "alert"` conditions of rollback.toml.
#include "config/config.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/secrets.hpp"

#include <doctest/doctest.h>

using namespace rollback;

namespace {

std::string diagnostics_of(const std::string& text, const std::filesystem::path& base = "/etc/rb") {
    try {
        config::parse(text, "rollback.toml", base);
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

const std::string k_alert = R"TOML([[condition]]
name = "shop-errors"
kind = "alert"
match = { alertname = "HighErrorRate", service = "shop" }
)TOML";

} // namespace

TEST_SUITE("config") {
    TEST_CASE("no [server] table: no listener and no alert conditions") {
        auto cfg = config::parse("[source.s]\nkind = \"command\"\nargv = [\"true\"]\n"
                                 "[[condition]]\nname = \"c\"\nsignal = \"s.value\"\nabove = 1\n",
                                 "rollback.toml", "/etc/rb");
        CHECK_FALSE(cfg.server.has_value());
        CHECK(cfg.alert_conditions.empty());
    }

    TEST_CASE("[server] defaults to loopback 9095 and 1 MiB bodies") {
        auto cfg = config::parse(k_alert + "[server]\n", "rollback.toml", "/etc/rb");
        REQUIRE(cfg.server);
        CHECK(cfg.server->host == "127.0.0.1");
        CHECK(cfg.server->port == 9095);
        CHECK(cfg.server->loopback);
        CHECK(cfg.server->max_body == 1024 * 1024);
        CHECK(cfg.server->token.empty());
        REQUIRE(cfg.alert_conditions.size() == 1);
        const auto& a = cfg.alert_conditions[0];
        CHECK(a.spec.source == "alerts:shop-errors");
        CHECK(a.spec.severity == decision::Severity::critical);
        CHECK(a.spec.window == cfg.interval);
        CHECK(a.match.size() == 2);
    }

    TEST_CASE("[server] listen takes IPv6 in brackets and max_body units") {
        auto cfg = config::parse("[server]\nlisten = \"[::1]:9200\"\nmax_body = \"64KiB\"\n",
                                 "rollback.toml", "/etc/rb");
        CHECK(cfg.server->host == "::1");
        CHECK(cfg.server->port == 9200);
        CHECK(cfg.server->loopback);
        CHECK(cfg.server->max_body == 64 * 1024);
    }

    TEST_CASE("a non-loopback listener needs a token: a located error") {
        CHECK(diagnostics_of("[server]\nlisten = \"0.0.0.0:9095\"\n") ==
              "2:10: server: listening on 0.0.0.0:9095, which is not a loopback address, needs "
              "a token\n");
        CHECK(diagnostics_of("[server]\nlisten = \"[::]:9095\"\n") ==
              "2:10: server: listening on [::]:9095, which is not a loopback address, needs a "
              "token\n");
    }

    TEST_CASE("a token from a file is read trimmed and kept secret") {
        test::TempDir dir;
        dir.write("token", "tok-3f9a7c1e2b\n");
        auto cfg = config::parse("[server]\nlisten = \"10.0.0.1:9095\"\ntoken_file = \"token\"\n",
                                 "rollback.toml", dir.path());
        CHECK(cfg.server->token == "tok-3f9a7c1e2b");
        CHECK_FALSE(cfg.server->loopback);
        CHECK(util::mask_secrets("token tok-3f9a7c1e2b") != "token tok-3f9a7c1e2b");
    }

    TEST_CASE("a token file is trimmed at both ends and a token with inner whitespace refused") {
        test::TempDir dir;
        dir.write("padded", "  \ttok-5d1c\r\n\n");
        auto cfg = config::parse("[server]\nlisten = \"10.0.0.1:9095\"\ntoken_file = \"padded\"\n",
                                 "rollback.toml", dir.path());
        CHECK(cfg.server->token == "tok-5d1c");
        dir.write("two-lines", "tok-first\ntok-second\n");
        const std::string d = diagnostics_of("[server]\ntoken_file = \"two-lines\"\n", dir.path());
        CHECK(d.find("has whitespace or a control character inside it") != std::string::npos);
        CHECK(d.find("tok-first") == std::string::npos);
    }

    TEST_CASE("a token from an unset variable or an empty file is an error") {
        test::TempDir dir;
        dir.write("empty", "\n");
        CHECK(diagnostics_of("[server]\ntoken_env = \"ROLLBACK_TEST_NO_SUCH_VARIABLE\"\n") ==
              "2:13: server: key \"token_env\": the environment variable "
              "\"ROLLBACK_TEST_NO_SUCH_VARIABLE\" is not set or empty\n");
        CHECK(diagnostics_of("[server]\ntoken_file = \"empty\"\n", dir.path()) ==
              "2:14: server: key \"token_file\": " + (dir.path() / "empty").string() +
                  " is empty\n");
    }

    TEST_CASE("bad listen addresses and sizes are located errors") {
        CHECK(diagnostics_of("[server]\nlisten = \"localhost:9095\"\n") ==
              "2:10: server: key \"listen\": \"localhost\" is not an IPv4 address (write IPv6 "
              "as [::1]:PORT)\n");
        CHECK(diagnostics_of("[server]\nlisten = \"127.0.0.1:70000\"\n") ==
              "2:10: server: key \"listen\": the port is a number from 1 to 65535\n");
        CHECK(diagnostics_of("[server]\nmax_body = \"1GB\"\n") ==
              "2:12: server: key \"max_body\": \"1GB\" is not a size from 1KiB to 64MiB\n");
    }

    TEST_CASE("alert conditions: need [server] and a match and take no signal keys") {
        CHECK(diagnostics_of(k_alert) ==
              "1:1: condition \"shop-errors\": an alert condition needs [server]: alerts arrive "
              "over HTTP\n");
        CHECK(diagnostics_of("[server]\n[[condition]]\nname = \"a\"\nkind = \"alert\"\n"
                             "match = {}\nabove = 1\n") ==
              "6:1: condition \"a\": unknown key \"above\" (did you mean \"mode\"?)\n"
              "5:1: condition \"a\": key \"match\": at least one label, or every alert would "
              "match\n");
        const std::string empty_match =
            diagnostics_of("[server]\n[[condition]]\nname = \"a\"\nkind = \"alert\"\n"
                           "match = { service = \"\" }\n");
        CHECK(empty_match.rfind("5:1: condition \"a\": key \"match\": every label has the empty "
                                "value",
                                0) == 0);
        CHECK(diagnostics_of("[server]\n[[condition]]\nname = \"a\"\nkind = \"alert\"\n"
                             "match = { alertname = \"Down\", service = \"\" }\n")
                  .empty());
        CHECK(diagnostics_of("[server]\n[[condition]]\nname = \"a\"\nkind = \"metric\"\n") ==
              "4:8: condition #1: key \"kind\": the only kind is \"alert\"\n");
    }

    TEST_CASE("alert conditions: confirm names a prometheus source and one threshold") {
        const std::string sources = "[server]\n[source.errors]\nkind = \"prometheus\"\n"
                                    "url = \"http://127.0.0.1:9090\"\nquery = \"up\"\n"
                                    "[source.cmd]\nkind = \"command\"\nargv = [\"true\"]\n";
        auto cfg =
            config::parse(sources + k_alert + "confirm = { source = \"errors\", below = 2 }\n",
                          "rollback.toml", "/etc/rb");
        REQUIRE(cfg.alert_conditions.at(0).confirm);
        CHECK(cfg.alert_conditions[0].confirm->source == "errors");
        CHECK_FALSE(cfg.alert_conditions[0].confirm->above);
        CHECK(cfg.alert_conditions[0].confirm->threshold == 2);
        CHECK_FALSE(config::parse(sources + k_alert, "rollback.toml", "/etc/rb")
                        .alert_conditions.at(0)
                        .confirm);
        CHECK(diagnostics_of(sources + k_alert + "confirm = { source = \"nope\", above = 1 }\n") ==
              "13:1: condition \"shop-errors\": key \"confirm\": no source \"nope\"\n");
        CHECK(diagnostics_of(sources + k_alert + "confirm = { source = \"cmd\", above = 1 }\n") ==
              "13:1: condition \"shop-errors\": key \"confirm\": source \"cmd\" is a command "
              "source; an alert is confirmed by a prometheus query\n");
        CHECK(diagnostics_of(sources + k_alert +
                             "confirm = { source = \"errors\", above = 1, below = 2 }\n") ==
              "13:1: condition \"shop-errors\": key \"confirm\": exactly one of \"above\" and "
              "\"below\"\n");
        CHECK(
            diagnostics_of(sources + k_alert + "confirm = { source = \"errors\", above = \"x\" }\n")
                .find("confirm.above") != std::string::npos);
        CHECK(diagnostics_of(sources + k_alert + "confirm = { above = 1 }\n") ==
              "13:1: condition \"shop-errors\": key \"confirm\": no \"source\"\n");
    }

    TEST_CASE("alert conditions: a confirming query that can never confirm is refused") {
        auto with_query = [](const std::string& query) {
            return "[server]\n[source.errors]\nkind = \"prometheus\"\n"
                   "url = \"http://127.0.0.1:9090\"\nquery = '''" +
                   query + "'''\n" + k_alert + "confirm = { source = \"errors\", above = 1 }\n";
        };
        const std::string at = "10:1: condition \"shop-errors\": key \"confirm\": the query of "
                               "source \"errors\" can never confirm: ";
        CHECK(diagnostics_of(with_query("scalar(sum(shop_errors))")) ==
              at + "it returns a scalar, and the confirmation reads an instant vector (its "
                   "number, and timestamp(QUERY) for the time of its sample)\n");
        CHECK(diagnostics_of(with_query("0.07")).find("it returns a scalar") != std::string::npos);
        CHECK(diagnostics_of(with_query("shop_errors[5m]")) ==
              at + "it returns a range vector, and the confirmation reads an instant vector (its "
                   "number, and timestamp(QUERY) for the time of its sample)\n");
        CHECK(diagnostics_of(with_query("rate(http_requests_total)")) ==
              at + "Prometheus refuses it: expected type range vector in call to function "
                   "\"rate\", got instant vector at byte 6 (\"http_requests_total)\")\n");
        CHECK(diagnostics_of(with_query("sum(shop_errors")) ==
              at + "Prometheus refuses it: unclosed left parenthesis at byte 4 "
                   "(\"(shop_errors\")\n");
        // What Prometheus runs is accepted: a comment (the engine closes timestamp( after it),
        // a function newer than the reader's table, an instant vector.
        CHECK(diagnostics_of(with_query("sum(rate(x[5m])) # errors per second")).empty());
        CHECK(diagnostics_of(with_query("sum(rate(x[5m]))\n# a note on its own line")).empty());
        CHECK(diagnostics_of(with_query("some_future_function(x)")).empty());
        CHECK(diagnostics_of(with_query("shop:error_ratio > 0.05")).empty());
        // Only a confirming query must be a vector: the same kind of source read by a condition
        // may be a scalar (one number is what it reads).
        CHECK(diagnostics_of("[source.errors]\nkind = \"prometheus\"\n"
                             "url = \"http://127.0.0.1:9090\"\nquery = \"scalar(sum(x))\"\n"
                             "[[condition]]\nname = \"c\"\nsignal = \"errors.value\"\nabove = 1\n")
                  .empty());
    }

    TEST_CASE("Alertmanager = matching: equal values and an absent label equals empty") {
        config::AlertCondition c;
        c.match = {{"alertname", "HighErrorRate"}, {"service", "shop"}};
        CHECK(config::matches(
            c, {{"alertname", "HighErrorRate"}, {"service", "shop"}, {"severity", "page"}}));
        CHECK_FALSE(config::matches(c, {{"alertname", "HighErrorRate"}, {"service", "cart"}}));
        CHECK_FALSE(config::matches(c, {{"alertname", "HighErrorRate"}}));
        c.match = {{"alertname", "X"}, {"team", ""}};
        CHECK(config::matches(c, {{"alertname", "X"}}));
        CHECK_FALSE(config::matches(c, {{"alertname", "X"}, {"team", "ops"}}));
    }
}

TEST_SUITE("config") {
    TEST_CASE("[webhook.NAME] reads its selectors and needs [server]") {
        auto cfg = config::parse(R"TOML([server]
[webhook.uptime]
status = "heartbeat.status"
firing = ["0"]
resolved = ["1"]
fingerprint = "monitor.id"
labels = { monitor = "monitor.name" }
)TOML",
                                 "rollback.toml", "/etc/rb");
        REQUIRE(cfg.webhooks.size() == 1);
        CHECK(cfg.webhooks[0].name == "uptime");
        CHECK(cfg.webhooks[0].firing == std::vector<std::string>{"0"});
        CHECK(cfg.webhooks[0].labels.at("monitor") == "monitor.name");
        CHECK(diagnostics_of("[webhook.sentry]\nfingerprint = \"id\"\n") ==
              "1:1: webhook: a webhook needs [server]: notifications arrive over HTTP\n");
        CHECK(diagnostics_of("[server]\n[webhook.Sentry]\nfingerprint = \"id\"\nlabel = {}\n") ==
              "4:1: webhook \"Sentry\": unknown key \"label\" (did you mean \"labels\"?)\n"
              "2:1: webhook \"Sentry\": a webhook name is its URL path segment: lower-case "
              "letters, digits, - and _\n");
    }
}
