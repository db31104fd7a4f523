// SPDX-License-Identifier: MIT
// Alerts from Alertmanager: kept by fingerprint (a re-sent notification is the same incident),
// judged by the monitor's alert Evaluator into decision records, one trigger per incident, the
// cooldown shared with the signal conditions.
#include "config/promql_type.hpp"
#include "monitor/alert_book.hpp"
#include "monitor/monitor.hpp"
#include "server/generic_webhook.hpp"

#include "support/fake_runner.hpp"
#include "util/time.hpp"

#include <doctest/doctest.h>

using namespace rollback;
using std::chrono::seconds;

namespace {

server::AlertNotification notification(const std::string& status, const std::string& fp,
                                       const std::string& service = "shop") {
    server::AlertNotification n;
    n.version = "4";
    n.status = status;
    n.group_key = "{}:{alertname=\"HighErrorRate\"}";
    server::Alert a;
    a.status = status;
    a.fingerprint = fp;
    a.labels = {{"alertname", "HighErrorRate"}, {"service", service}};
    a.starts_at = "2026-12-05T17:00:00Z";
    n.alerts.push_back(a);
    return n;
}

util::SystemTime at(const std::string& t) {
    return *util::parse_time(t);
}

/// Prometheus' answer to `timestamp(Q)`: the sample's time in seconds since the epoch.
decision::Sample sample_time(util::SystemTime now, util::SystemTime sampled) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(sampled.time_since_epoch()).count();
    return decision::Sample::make_value(now, static_cast<double>(ms) / 1000.0);
}
decision::Sample sample_time(util::SystemTime now) {
    return sample_time(now, now);
}

const std::string k_config = R"TOML(
[target]
name = "shop"
[source.probe]
kind = "command"
argv = ["probe"]
[[condition]]
name = "probe-value"
signal = "probe.value"
above = 10
severity = "critical"
[[condition]]
name = "shop-errors"
kind = "alert"
match = { alertname = "HighErrorRate", service = "shop" }
[server]
[decision]
interval = "10s"
cooldown = "1h"
)TOML";

} // namespace

TEST_SUITE("monitor") {
    TEST_CASE("alerts are kept by fingerprint: fired once and repeated until resolved") {
        auto cfg = config::parse(k_config, "rollback.toml", "/etc/rb");
        const auto& conds = cfg.alert_conditions;
        monitor::AlertBook book;
        const auto t = at("2026-12-05T17:00:05Z");
        using K = monitor::AlertChange::Kind;
        auto ch = book.apply(notification("firing", "f1"), conds, t);
        REQUIRE(ch.size() == 1);
        CHECK(ch[0].kind == K::fired);
        CHECK(ch[0].conditions == std::vector<std::string>{"shop-errors"});
        CHECK(book.active(conds[0]) == 1);
        CHECK(book.apply(notification("firing", "f1"), conds, t)[0].kind == K::repeated);
        CHECK(book.active(conds[0]) == 1);
        CHECK(book.describe(conds[0]) == "alert {alertname=\"HighErrorRate\", service=\"shop\"} "
                                         "since 2026-12-05T17:00:00Z (fingerprint f1)");
        CHECK(book.apply(notification("firing", "f2", "cart"), conds, t)[0].kind == K::unmatched);
        CHECK(book.size() == 1);
        CHECK(book.apply(notification("resolved", "f1"), conds, t)[0].kind == K::resolved);
        CHECK(book.active(conds[0]) == 0);
        CHECK(book.describe(conds[0]).empty());
        CHECK(book.apply(notification("resolved", "f1"), conds, t)[0].kind == K::resolved_unknown);
    }

    TEST_CASE("a late firing notification of a resolved alert does not reopen it") {
        auto cfg = config::parse(k_config, "rollback.toml", "/etc/rb");
        const auto& conds = cfg.alert_conditions;
        monitor::AlertBook book;
        using K = monitor::AlertChange::Kind;
        const auto t = at("2026-12-05T17:50:00Z");
        auto firing = notification("firing", "x1");
        firing.alerts[0].ends_at = "0001-01-01T00:00:00Z"; // Alertmanager's firing alert
        CHECK(book.apply(firing, conds, t)[0].kind == K::fired);
        auto resolved = notification("resolved", "x1");
        resolved.alerts[0].ends_at = "2026-12-05T17:40:00Z";
        CHECK(book.apply(resolved, conds, t)[0].kind == K::resolved);
        // Sent before the resolution (an HA peer, a retried delivery), arriving after it.
        CHECK(book.apply(firing, conds, t + seconds(5))[0].kind == K::stale);
        auto late = notification("firing", "x1");
        late.alerts[0].ends_at = "2026-12-05T17:39:00Z"; // already past: resolved
        CHECK(book.apply(late, conds, t + seconds(6))[0].kind == K::resolved_unknown);
        CHECK(book.active(conds[0]) == 0);
        // Kept across a restart: the resolution still makes the late notification stale.
        monitor::AlertBook restarted;
        CHECK(restarted.restore(book.alerts(), conds) == 0);
        CHECK(restarted.apply(firing, conds, t + seconds(7))[0].kind == K::stale);
        // A new incident of the same fingerprint (a new startsAt) fires.
        auto again = firing;
        again.alerts[0].starts_at = "2026-12-05T18:00:00Z";
        CHECK(restarted.apply(again, conds, t + seconds(8))[0].kind == K::fired);
        CHECK(restarted.active(conds[0]) == 1);
    }

    TEST_CASE("an active alert not re-sent past its endsAt expires") {
        auto cfg = config::parse(k_config, "rollback.toml", "/etc/rb");
        const auto& conds = cfg.alert_conditions;
        monitor::AlertBook book;
        using K = monitor::AlertChange::Kind;
        auto firing = notification("firing", "e1");
        firing.alerts[0].ends_at = "2026-12-05T17:10:00Z";
        CHECK(book.apply(firing, conds, at("2026-12-05T17:05:00Z"))[0].kind == K::fired);
        CHECK(book.expire(at("2026-12-05T17:09:59Z")).empty());
        auto gone = book.expire(at("2026-12-05T17:10:00Z"));
        REQUIRE(gone.size() == 1);
        CHECK(gone[0].kind == K::expired);
        CHECK(gone[0].fingerprint == "e1");
        CHECK(book.active(conds[0]) == 0);
        // Its firing notification sent before the end, arriving late, does not reopen it.
        CHECK(book.apply(firing, conds, at("2026-12-05T17:10:30Z"))[0].kind == K::resolved_unknown);
        // Re-sent with a later endsAt (Prometheus still fires it): active again.
        firing.alerts[0].ends_at = "2026-12-05T17:20:00Z";
        CHECK(book.apply(firing, conds, at("2026-12-05T17:11:00Z"))[0].kind == K::fired);
        // An alert with Go's zero endsAt never expires by time.
        auto zero = notification("firing", "z1");
        zero.alerts[0].ends_at = "0001-01-01T00:00:00Z";
        CHECK(book.apply(zero, conds, at("2026-12-05T17:11:00Z"))[0].kind == K::fired);
        CHECK(book.expire(at("2026-12-06T17:11:00Z")).size() == 1); // e1 only
        CHECK(book.active(conds[0]) == 1);
    }

    TEST_CASE("an alert triggers once per incident and its resolution is a record") {
        monitor::Monitor mon(config::parse(k_config, "rollback.toml", "/etc/rb"));
        monitor::AlertBook book;
        const auto& conds = mon.config().alert_conditions;
        auto t = at("2026-12-05T17:00:00Z");
        auto e = mon.evaluate_alerts(t, book);
        REQUIRE(e);
        CHECK(e->record.action == decision::Action::none);

        book.apply(notification("firing", "f1"), conds, t + seconds(3));
        e = mon.evaluate_alerts(t + seconds(3), book);
        CHECK(e->record.action == decision::Action::trigger);
        CHECK(e->record.executed);
        CHECK(e->record.cause == "shop-errors");
        REQUIRE(e->record.conditions.size() == 1);
        CHECK(e->record.conditions[0].detail.find("service=\"shop\"") != std::string::npos);
        CHECK(e->record.reason.find("fingerprint f1") != std::string::npos);

        for (int i = 1; i <= 3; ++i) { // Alertmanager's repeat_interval
            book.apply(notification("firing", "f1"), conds, t + seconds(3 + 4 * i));
            e = mon.evaluate_alerts(t + seconds(3 + 4 * i), book);
            CHECK(e->record.action == decision::Action::none);
            CHECK(e->record.conditions[0].verdict == decision::Verdict::firing);
            CHECK_FALSE(e->notable);
        }
        book.apply(notification("resolved", "f1"), conds, t + seconds(30));
        e = mon.evaluate_alerts(t + seconds(30), book);
        CHECK(e->record.conditions[0].verdict == decision::Verdict::ok);
        CHECK(e->notable);
    }

    TEST_CASE("an evaluation asked for earlier than the last one keeps time moving forward") {
        monitor::Monitor mon(config::parse(k_config, "rollback.toml", "/etc/rb"));
        monitor::AlertBook book;
        auto t = at("2026-12-05T17:00:10.100Z");
        mon.evaluate_alerts(t, book);
        auto e = mon.evaluate_alerts(at("2026-12-05T17:00:10Z"), book);
        CHECK(e->record.time == t);
    }

    TEST_CASE("a trigger of the signal conditions starts the cooldown of the alert conditions") {
        monitor::Monitor mon(config::parse(k_config, "rollback.toml", "/etc/rb"));
        test::FakeProcessRunner runner;
        runner.outcomes["probe"] = test::FakeProcessRunner::exited(0, "50\n");
        auto t = at("2026-12-05T17:00:00Z");
        auto e = mon.tick(runner, t);
        REQUIRE(e.record.action == decision::Action::trigger);
        monitor::AlertBook book;
        book.apply(notification("firing", "f1"), mon.config().alert_conditions, t + seconds(5));
        auto a = mon.evaluate_alerts(t + seconds(5), book);
        CHECK(a->record.action == decision::Action::notify);
        CHECK_FALSE(a->record.action == decision::Action::trigger);
        CHECK(a->record.conditions[0].detail.find("automatic trigger suppressed: cooldown until "
                                                  "2026-12-05T18:00:00") == 0);
    }
}

TEST_SUITE("monitor") {
    const std::string k_confirmed = R"TOML(
[target]
name = "shop"
[source.errors]
kind = "prometheus"
url = "http://127.0.0.1:9090"
query = "shop:error_ratio"
[[condition]]
name = "shop-errors"
kind = "alert"
match = { alertname = "HighErrorRate", service = "shop" }
confirm = { source = "errors", above = 0.05 }
[server]
[decision]
interval = "10s"
cooldown = "1h"
)TOML";

    TEST_CASE("a confirmed alert acts only when its query is beyond the threshold — an "
              "unconfirmed one is a record with the query's number") {
        monitor::Monitor mon(config::parse(k_confirmed, "rollback.toml", "/etc/rb"));
        decision::Sample answer = decision::Sample::make_value({}, 0.01);
        int queries = 0;
        mon.set_confirm_query([&](const config::SourceConfig& src, util::SystemTime now) {
            CHECK(src.name == "errors");
            if (src.query == "timestamp(shop:error_ratio)") { // the sample is from now
                return sample_time(now);
            }
            ++queries;
            decision::Sample s = answer;
            s.time = now;
            return s;
        });
        monitor::AlertBook book;
        const auto& conds = mon.config().alert_conditions;
        auto t = at("2026-12-05T17:00:00Z");
        auto e = mon.evaluate_alerts(t, book);
        CHECK(queries == 0); // no active alert: nothing to confirm

        book.apply(notification("firing", "f1"), conds, t + seconds(1));
        e = mon.evaluate_alerts(t + seconds(1), book);
        CHECK(queries == 1);
        CHECK(e->record.action == decision::Action::none);
        CHECK(e->notable);
        REQUIRE(e->record.conditions.size() == 1);
        const auto& c = e->record.conditions[0];
        CHECK(c.verdict == decision::Verdict::ok);
        CHECK(c.observed == 0);
        CHECK(c.detail == "1 active alert(s) not confirmed: source errors \"shop:error_ratio\" = "
                          "0.01, not above 0.05; alert {alertname=\"HighErrorRate\", "
                          "service=\"shop\"} since 2026-12-05T17:00:00Z (fingerprint f1)");

        e = mon.evaluate_alerts(t + seconds(10), book); // the same alert, still unconfirmed
        CHECK(queries == 2);
        CHECK_FALSE(e->notable);

        answer = decision::Sample::make_missing({}, decision::SampleKind::unavailable,
                                                "connect: Connection refused");
        e = mon.evaluate_alerts(t + seconds(20), book);
        // No number is no data (on_no_data: escalate, a person is told), never a run.
        CHECK(e->record.action == decision::Action::escalate);
        CHECK(e->record.conditions[0].verdict == decision::Verdict::no_data);
        CHECK(e->record.conditions[0].detail.find(
                  "not confirmed: source errors \"shop:error_ratio\" gave no number (no data: "
                  "connect: Connection refused), needed above 0.05") != std::string::npos);

        answer = decision::Sample::make_value({}, 0.25);
        e = mon.evaluate_alerts(t + seconds(30), book);
        CHECK(e->record.action == decision::Action::trigger);
        CHECK(e->record.executed);
        CHECK(e->record.conditions[0].observed == 1);
        CHECK(e->record.conditions[0].detail.find(
                  "confirmed: source errors \"shop:error_ratio\" = 0.25, above 0.05; alert "
                  "{alertname=\"HighErrorRate\"") == 0);
        CHECK(e->record.reason.find("= 0.25, above 0.05") != std::string::npos);
    }

    TEST_CASE("a confirmation below a threshold") {
        auto text = k_confirmed;
        text.replace(text.find("above = 0.05"), 12, "below = 10");
        monitor::Monitor mon(config::parse(text, "rollback.toml", "/etc/rb"));
        mon.set_confirm_query([](const config::SourceConfig& src, util::SystemTime now) {
            if (src.query.starts_with("timestamp(")) {
                return sample_time(now);
            }
            return decision::Sample::make_value(now, 3);
        });
        monitor::AlertBook book;
        auto t = at("2026-12-05T17:00:00Z");
        book.apply(notification("firing", "f1"), mon.config().alert_conditions, t);
        auto e = mon.evaluate_alerts(t, book);
        CHECK(e->record.action == decision::Action::trigger);
        CHECK(e->record.conditions[0].detail.find("= 3, below 10") != std::string::npos);
    }

    TEST_CASE("a confirming Prometheus that is down is no data: a read error and neither a "
              "confirmation nor the incident's recovery") {
        auto text = k_confirmed;
        const std::string cooldown = "cooldown = \"1h\"";
        text.replace(text.find(cooldown), cooldown.size(), cooldown + "\nmode = \"confirm\"");
        monitor::Monitor mon(config::parse(text, "rollback.toml", "/etc/rb"));
        decision::Sample answer = decision::Sample::make_value({}, 0.9);
        mon.set_confirm_query([&](const config::SourceConfig& src, util::SystemTime now) {
            if (src.query.starts_with("timestamp(") && answer.kind == decision::SampleKind::value) {
                return sample_time(now);
            }
            decision::Sample s = answer;
            s.time = now;
            return s;
        });
        monitor::AlertBook book;
        auto t = at("2026-12-05T17:00:00Z");
        book.apply(notification("firing", "f1"), mon.config().alert_conditions, t);
        auto e = mon.evaluate_alerts(t, book);
        REQUIRE(e->record.conditions.size() == 1);
        CHECK(e->record.conditions[0].verdict == decision::Verdict::firing);
        const auto since = e->record.conditions[0].incident_since;
        REQUIRE(since);
        CHECK(mon.read_errors().count("errors") == 0);

        answer = decision::Sample::make_missing({}, decision::SampleKind::unavailable,
                                                "connect: Connection refused");
        for (int i = 1; i <= 6; ++i) { // a minute without the confirming Prometheus
            e = mon.evaluate_alerts(t + seconds(10 * i), book);
            const auto& c = e->record.conditions[0];
            CHECK(c.verdict == decision::Verdict::no_data);
            CHECK(c.incident_since == since); // not resolved: missing data is no recovery
            CHECK(c.detail.find("gave no number (no data: connect: Connection refused)") !=
                  std::string::npos);
        }
        CHECK(mon.read_errors().at("errors") == 6);

        answer = decision::Sample::make_value({}, 0.9); // back: the same incident, still firing
        e = mon.evaluate_alerts(t + seconds(70), book);
        CHECK(e->record.conditions[0].verdict == decision::Verdict::firing);
        CHECK(e->record.conditions[0].incident_since == since);
        CHECK(e->record.action != decision::Action::trigger); // one incident, one decision
    }

    TEST_CASE("a sample older than the alert never confirms it: no data until a fresh one") {
        monitor::Monitor mon(config::parse(k_confirmed, "rollback.toml", "/etc/rb"));
        const auto t = at("2026-12-05T17:00:00Z");
        auto sampled = t - seconds(17); // before Prometheus restarted, its target down since
        mon.set_confirm_query([&](const config::SourceConfig& src, util::SystemTime now) {
            if (src.query == "timestamp(shop:error_ratio)") {
                return sample_time(now, sampled);
            }
            return decision::Sample::make_value(now, 0.9);
        });
        monitor::AlertBook book;
        book.apply(notification("firing", "f1"), mon.config().alert_conditions, t + seconds(3));
        auto e = mon.evaluate_alerts(t + seconds(3), book);
        CHECK(e->record.action != decision::Action::trigger); // no data: escalated, no run
        CHECK(e->record.conditions[0].verdict == decision::Verdict::no_data);
        CHECK(e->record.conditions[0].detail.find(
                  "gave no fresh number (0.9, stale: its sample is from 2026-12-05T16:59:43") !=
              std::string::npos);
        CHECK(mon.read_errors().count("errors") == 0);

        sampled = t + seconds(12); // a fresh scrape
        e = mon.evaluate_alerts(t + seconds(13), book);
        CHECK(e->record.action == decision::Action::trigger);
        CHECK(e->record.conditions[0].detail.find("confirmed: source errors") == 0);
    }

    TEST_CASE("a confirming query ending in a comment confirms: timestamp( is closed after it") {
        auto text = k_confirmed;
        const std::string q = "query = \"shop:error_ratio\"";
        text.replace(text.find(q), q.size(), "query = \"shop:error_ratio # ratio of 5xx\"");
        monitor::Monitor mon(config::parse(text, "rollback.toml", "/etc/rb"));
        std::vector<std::string> asked;
        mon.set_confirm_query([&](const config::SourceConfig& src, util::SystemTime now) {
            asked.push_back(src.query);
            // As Prometheus reads it: a comment runs to the end of its line.
            if (const auto r = config::read_promql(src.query); !r.problem.empty()) {
                return decision::Sample::make_missing(now, decision::SampleKind::error,
                                                      "bad_data: " + r.problem);
            }
            return src.query.starts_with("timestamp(") ? sample_time(now)
                                                       : decision::Sample::make_value(now, 0.5);
        });
        monitor::AlertBook book;
        const auto t = at("2026-12-05T17:00:00Z");
        book.apply(notification("firing", "f1"), mon.config().alert_conditions, t);
        auto e = mon.evaluate_alerts(t, book);
        REQUIRE(asked.size() == 2);
        CHECK(asked[1] == "timestamp(shop:error_ratio # ratio of 5xx\n)");
        CHECK(e->record.action == decision::Action::trigger);
        CHECK(e->record.conditions[0].detail.find("confirmed: source errors") == 0);
    }

    TEST_CASE("alerts that cannot be known are no data for every alert condition — never 0") {
        monitor::Monitor mon(config::parse(k_confirmed, "rollback.toml", "/etc/rb"));
        int queries = 0;
        mon.set_confirm_query([&](const config::SourceConfig&, util::SystemTime now) {
            ++queries;
            return decision::Sample::make_value(now, 0.9);
        });
        const auto t = at("2026-12-05T17:00:00Z");
        auto e = mon.evaluate_alerts_unknown(t, "the active alerts cannot be read: alerts.json: "
                                                "not valid JSON");
        REQUIRE(e);
        REQUIRE(e->record.conditions.size() == 1);
        const auto& c = e->record.conditions[0];
        CHECK(c.verdict == decision::Verdict::no_data);
        CHECK(c.detail == "source \"alerts:shop-errors\" unavailable: the active alerts cannot be "
                          "read: alerts.json: not valid JSON");
        CHECK(e->record.action != decision::Action::trigger);
        CHECK(queries == 0); // nothing to confirm
        monitor::Monitor plain(config::parse(
            "[source.p]\nkind = \"command\"\nargv = [\"true\"]\n[[condition]]\nname = \"c\"\n"
            "signal = \"p.value\"\nabove = 1\n",
            "rollback.toml", "/etc/rb"));
        CHECK_FALSE(plain.evaluate_alerts_unknown(t, "x"));
    }
}

TEST_SUITE("monitor") {
    TEST_CASE("the book is kept and restored: alerts matching no condition are left out") {
        auto cfg = config::parse(k_config, "rollback.toml", "/etc/rb");
        const auto& conds = cfg.alert_conditions;
        monitor::AlertBook book;
        const auto t = at("2026-12-05T17:00:05Z");
        book.apply(notification("firing", "f2"), conds, t);
        book.apply(notification("firing", "f1"), conds, t + seconds(1));
        auto kept = book.alerts();
        REQUIRE(kept.size() == 2);
        CHECK(kept[0].fingerprint == "f1");
        CHECK(kept[0].received == t + seconds(1));
        CHECK(book.fingerprints(conds[0]) == std::vector<std::string>{"f1", "f2"});

        kept.push_back({"f3", {{"alertname", "Other"}}, "", t, "", std::nullopt});
        monitor::AlertBook restarted;
        CHECK(restarted.restore(kept, conds) == 1);
        CHECK(restarted.size() == 2);
        CHECK(restarted.describe(conds[0]) == book.describe(conds[0]));
        using K = monitor::AlertChange::Kind;
        CHECK(restarted.apply(notification("firing", "f1"), conds, t)[0].kind == K::repeated);
        CHECK(restarted.apply(notification("resolved", "f2"), conds, t)[0].kind == K::resolved);
        CHECK(restarted.size() == 1);
    }

    TEST_CASE("a generic webhook's alert without startsAt fires again after its resolution") {
        // Uptime Kuma: down, up, down again: the second outage is a new incident (brk28 01).
        auto cfg = config::parse(k_config, "rollback.toml", "/etc/rb");
        const auto& conds = cfg.alert_conditions;
        server::WebhookSpec u;
        u.name = "uptime";
        u.status = "heartbeat.status";
        u.firing = {"0"};
        u.resolved = {"1"};
        u.fingerprint = "monitor.id";
        u.labels = {{"alertname", "monitor.name"}, {"service", "monitor.service"}};
        const std::string down =
            R"({"heartbeat":{"status":0},"monitor":{"id":3,"name":"HighErrorRate","service":"shop"}})";
        const std::string up =
            R"({"heartbeat":{"status":1},"monitor":{"id":3,"name":"HighErrorRate","service":"shop"}})";
        std::string why;
        monitor::AlertBook book;
        using K = monitor::AlertChange::Kind;
        const auto t = at("2026-12-05T17:50:00Z");
        CHECK(book.apply(*server::parse_webhook(down, u, why, t), conds, t)[0].kind == K::fired);
        CHECK(book.apply(*server::parse_webhook(up, u, why, t), conds, t + seconds(60))[0].kind ==
              K::resolved);
        // Kept across a restart, as before: the resolution does not make the next outage stale.
        monitor::AlertBook restarted;
        CHECK(restarted.restore(book.alerts(), conds) == 0);
        CHECK(restarted.apply(*server::parse_webhook(down, u, why, t), conds, t + seconds(600))[0]
                  .kind == K::fired);
        CHECK(restarted.active(conds[0]) == 1);
    }

    TEST_CASE("an alert of a source that never resolves expires after expire_after") {
        // Sentry (status = ""): each issue alert lasts expire_after unless re-sent, so a later
        // issue is a new incident (brk28 09).
        auto cfg = config::parse(k_config, "rollback.toml", "/etc/rb");
        const auto& conds = cfg.alert_conditions;
        server::WebhookSpec s;
        s.name = "sentry";
        s.fingerprint = "id";
        s.labels = {{"alertname", "title"}, {"service", "project"}};
        s.expire_after = std::chrono::minutes(10);
        std::string why;
        monitor::AlertBook book;
        using K = monitor::AlertChange::Kind;
        const auto t = at("2026-12-05T17:50:00Z");
        auto issue = [&](const std::string& id, util::SystemTime when) {
            return *server::parse_webhook(
                R"({"id":")" + id + R"(","title":"HighErrorRate","project":"shop"})", s, why, when);
        };
        auto first = issue("42", t);
        CHECK(first.alerts[0].ends_at == "2026-12-05T18:00:00.000Z");
        CHECK(book.apply(first, conds, t)[0].kind == K::fired);
        // Re-sent: the same incident, its end pushed back.
        CHECK(book.apply(issue("42", t + seconds(300)), conds, t + seconds(300))[0].kind ==
              K::repeated);
        CHECK(book.expire(t + seconds(700)).empty());
        const auto gone = book.expire(t + seconds(900));
        REQUIRE(gone.size() == 1);
        CHECK(gone[0].kind == K::expired);
        CHECK(book.active(conds[0]) == 0);
        // The same issue (no startsAt) or a later one fires anew.
        CHECK(book.apply(issue("42", t + seconds(1000)), conds, t + seconds(1000))[0].kind ==
              K::fired);
        CHECK(book.apply(issue("77", t + seconds(1000)), conds, t + seconds(1000))[0].kind ==
              K::fired);
    }

    TEST_CASE("a generic webhook selecting startsAt keeps the stale rule of Alertmanager") {
        // Grafana: firing, resolved, the same incident re-sent late (stale), a new startsAt fires.
        auto cfg = config::parse(k_config, "rollback.toml", "/etc/rb");
        const auto& conds = cfg.alert_conditions;
        server::WebhookSpec g;
        g.name = "grafana";
        g.alerts = "alerts";
        g.status = "status";
        g.fingerprint = "fingerprint";
        g.starts_at = "startsAt";
        g.ends_at = "endsAt";
        g.labels = {{"alertname", "labels.alertname"}, {"service", "labels.service"}};
        auto body = [](const std::string& status, const std::string& starts) {
            return R"({"alerts":[{"status":")" + status +
                   R"(","fingerprint":"9c1f","labels":{"alertname":"HighErrorRate",)"
                   R"("service":"shop"},"startsAt":")" +
                   starts + R"(","endsAt":"0001-01-01T00:00:00Z"}]})";
        };
        std::string why;
        monitor::AlertBook book;
        using K = monitor::AlertChange::Kind;
        const auto t = at("2026-12-05T17:50:00Z");
        const std::string first = "2026-12-05T17:45:00+00:00";
        auto n = server::parse_webhook(body("firing", first), g, why, t);
        REQUIRE(n);
        CHECK(n->alerts[0].starts_at == "2026-12-05T17:45:00.000Z");
        CHECK(book.apply(*n, conds, t)[0].kind == K::fired);
        CHECK(book.apply(*server::parse_webhook(body("resolved", first), g, why, t), conds,
                         t + seconds(60))[0]
                  .kind == K::resolved);
        CHECK(book.apply(*n, conds, t + seconds(61))[0].kind == K::stale);
        CHECK(book.apply(*server::parse_webhook(body("firing", "2026-12-05T18:10:00Z"), g, why, t),
                         conds, t + seconds(1300))[0]
                  .kind == K::fired);
        CHECK_FALSE(server::parse_webhook(body("firing", "yesterday"), g, why, t));
        CHECK(why.rfind("alerts.0.startsAt: ", 0) == 0);
    }
}
