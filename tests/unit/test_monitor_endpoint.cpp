// SPDX-License-Identifier: MIT
// The monitor's HTTP side without sockets (Endpoint::handle) and through one (a real listener on
// 127.0.0.1, an ephemeral port): routes, the inbox that wakes the loop, and the times /metrics
// derives from the state directory and the backup catalog.
#include "monitor/endpoint.hpp"

#include "config/config.hpp"
#include "db/backup_catalog.hpp"
#include "db/rehearsal.hpp"
#include "monitor/monitor.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/http_client.hpp"
#include "util/time.hpp"

#include <doctest/doctest.h>
#include <thread>

using namespace rollback;

namespace {

config::ServerConfig loopback(const std::string& token = {}) {
    config::ServerConfig sc;
    sc.host = "127.0.0.1";
    sc.port = 0; // any free port
    sc.token = token;
    sc.max_body = 4096;
    return sc;
}

server::Request post(const std::string& body) {
    return {"POST", std::string(monitor::k_alertmanager_path), body};
}

const char* k_firing = R"({"version":"4","status":"firing","groupKey":"g","alerts":[
  {"status":"firing","labels":{"alertname":"A"},"fingerprint":"f1"}]})";

struct RestoreStep {
    std::string id;
    std::string database;
    std::string catalog; ///< relative to the playbook
};

void write_playbook(const std::filesystem::path& file, const std::vector<RestoreStep>& steps) {
    std::string text = "[playbook]\nname = \"revert\"\n";
    for (const auto& st : steps) {
        text += "[[step]]\nid = \"" + st.id +
                "\"\naction = \"pg_restore\"\ndsn = \"host=/tmp dbname=" + st.database +
                "\"\ncatalog = \"" + st.catalog + "\"\n";
    }
    util::write_file_atomic(file, text);
}

/// One `rollback rehearse` invocation `id` of `playbook` as it records it: a record per step
/// (ok or not), `of` steps announced (default: as many as recorded).
void save_drill(const std::filesystem::path& dir, const std::string& id,
                const std::filesystem::path& playbook,
                const std::vector<std::pair<std::string, bool>>& steps, util::SystemTime started,
                int of = 0, const std::vector<std::string>& only = {}) {
    int n = 0;
    for (const auto& [step, ok] : steps) {
        db::Rehearsal r;
        r.step_id = step;
        r.ok = ok;
        r.time = util::format_time(started + std::chrono::minutes(n++));
        r.rehearse_id = id;
        r.of = of != 0 ? of : static_cast<int>(steps.size());
        r.playbook = playbook.string();
        r.only = only;
        db::save_rehearsal(dir / "state", r);
    }
}

/// A Unix time as /metrics gives it, to compare: within a second (manifests and rehearsal
/// records keep milliseconds).
doctest::Approx epoch(util::SystemTime t) {
    return doctest::Approx(std::chrono::duration<double>(t.time_since_epoch()).count())
        .epsilon(1e-9);
}

double value_of(const std::string& text, const std::string& series) {
    auto at = text.find("\n" + series + " ");
    REQUIRE(at != std::string::npos);
    return std::stod(text.substr(at + series.size() + 2));
}

/// Keeps `m` in the catalog `dir` beside an archive of the size it records: a restore (and the
/// series) passes over a backup without one.
void save_backup(const std::filesystem::path& dir, db::BackupManifest m) {
    const std::string archive = "PGDMP test archive\n";
    util::write_file_atomic(dir / m.file, archive);
    m.size = archive.size();
    db::BackupCatalog(dir).save(m);
}

std::string backup_series(const std::filesystem::path& catalog, const std::string& database) {
    return "rollback_last_good_backup_timestamp_seconds{catalog=\"" + catalog.string() +
           "\",database=\"" + database + "\"}";
}

} // namespace

TEST_SUITE("monitor") {
    TEST_CASE("the webhook hands notifications to the loop and answers 400 with a reason") {
        test::TempDir dir;
        monitor::Endpoint ep(loopback(), dir.path());
        auto r = ep.handle(post("{nope"));
        CHECK(r.status == 400);
        CHECK(r.body.find("\"error\":\"not JSON") != std::string::npos);
        CHECK(ep.take_alerts().empty());
        r = ep.handle(post(k_firing));
        CHECK(r.status == 200);
        CHECK(r.body == "{\"accepted\":1}\n");
        auto got = ep.take_alerts();
        REQUIRE(got.size() == 1);
        CHECK(got[0].alerts[0].fingerprint == "f1");
        CHECK(ep.handle({"GET", std::string(monitor::k_alertmanager_path), ""}).status == 405);
        CHECK(ep.handle({"GET", "/elsewhere", ""}).status == 404);
    }

    TEST_CASE("a notification wakes the waiting loop at once") {
        test::TempDir dir;
        monitor::Endpoint ep(loopback(), dir.path());
        const auto start = std::chrono::steady_clock::now();
        std::thread sender([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(150));
            ep.handle(post(k_firing));
        });
        const bool woke = ep.wait_until(std::chrono::system_clock::now() + std::chrono::seconds(20),
                                        [] { return false; });
        sender.join();
        CHECK(woke);
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
        // Nothing waiting and the deadline passed: false.
        ep.take_alerts();
        CHECK_FALSE(ep.wait_until(std::chrono::system_clock::now(), [] { return false; }));
    }

    TEST_CASE("metrics show the times of the last rehearsal and good backup only when known") {
        test::TempDir dir;
        write_playbook(dir.path() / "pb.toml", {{"restore-db", "shop", "catalog"}});
        monitor::Endpoint ep(loopback(), dir.path() / "state");
        ep.set_decision_playbook(dir.path() / "pb.toml");
        auto text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(text.find("\nrollback_last_successful_rehearsal_timestamp_seconds ") ==
              std::string::npos);
        CHECK(text.find("\nrollback_last_good_backup_timestamp_seconds{") == std::string::npos);
        CHECK(text.find("# TYPE rollback_last_good_backup_timestamp_seconds gauge") !=
              std::string::npos);

        const auto now = std::chrono::system_clock::now();
        save_drill(dir.path(), "r1", dir.path() / "pb.toml", {{"restore-db", true}},
                   now - std::chrono::hours(48));
        save_drill(dir.path(), "r2", dir.path() / "pb.toml", {{"restore-db", false}},
                   now - std::chrono::hours(1));

        std::filesystem::create_directories(dir.path() / "catalog");
        db::BackupManifest m;
        m.id = "shop-20261201T000000Z";
        m.file = "shop.dump";
        m.database = "shop";
        m.time = now - std::chrono::hours(3);
        m.verified = true;
        m.good = true;
        save_backup(dir.path() / "catalog", m);
        m.id = "shop-20261202T000000Z";
        m.time = now - std::chrono::minutes(10);
        m.good = false; // newer, not marked good
        save_backup(dir.path() / "catalog", m);

        text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(value_of(text, "rollback_last_successful_rehearsal_timestamp_seconds") ==
              epoch(now - std::chrono::seconds(48 * 3600)));
        CHECK(value_of(text, backup_series(dir.path() / "catalog", "shop")) ==
              epoch(now - std::chrono::seconds(3 * 3600)));
    }

    TEST_CASE(
        "the last good backup is per database: another database's fresh backup hides nothing") {
        test::TempDir dir;
        const auto now = std::chrono::system_clock::now();
        write_playbook(dir.path() / "pb.toml", {{"restore-db", "shop", "catalog"}});
        std::filesystem::create_directories(dir.path() / "catalog");
        db::BackupManifest m;
        m.id = "shop-20261201T000000Z";
        m.file = "shop.dump";
        m.database = "shop";
        m.time = now - std::chrono::hours(30);
        m.verified = true;
        m.good = true;
        save_backup(dir.path() / "catalog", m);
        m.id = "analytics-20261202T000000Z";
        m.file = "analytics.dump";
        m.database = "analytics";
        m.time = now - std::chrono::minutes(1);
        save_backup(dir.path() / "catalog", m);
        monitor::Endpoint ep(loopback(), dir.path() / "state");
        ep.set_decision_playbook(dir.path() / "pb.toml");
        const auto text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(value_of(text, backup_series(dir.path() / "catalog", "shop")) ==
              epoch(now - std::chrono::seconds(30 * 3600)));
        CHECK(text.find("database=\"analytics\"") == std::string::npos);
    }

    TEST_CASE("a foreign or damaged manifest in the catalog is skipped and the series goes on") {
        test::TempDir dir;
        write_playbook(dir.path() / "pb.toml", {{"restore-db", "shop", "catalog"}});
        std::filesystem::create_directories(dir.path() / "catalog");
        db::BackupManifest m;
        m.id = "shop-20261201T000000Z";
        m.file = "shop.dump";
        m.database = "shop";
        m.time = std::chrono::system_clock::now() - std::chrono::hours(2);
        m.verified = true;
        m.good = true;
        save_backup(dir.path() / "catalog", m);
        util::write_file_atomic(dir.path() / "catalog" / "notes.json", "{\"hello\":1}\n");
        monitor::Endpoint ep(loopback(), dir.path() / "state");
        ep.set_decision_playbook(dir.path() / "pb.toml");
        const auto text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(value_of(text, backup_series(dir.path() / "catalog", "shop")) == epoch(m.time));
    }

    TEST_CASE("the last good backup on metrics is the one a restore picks and the entries it "
              "passes over are counted") {
        test::TempDir dir;
        write_playbook(dir.path() / "pb.toml", {{"restore-db", "shop", "catalog"}});
        const auto cat = dir.path() / "catalog";
        std::filesystem::create_directories(cat);
        const auto now = std::chrono::system_clock::now();
        db::BackupManifest m;
        m.id = "shop-20261201T000000Z";
        m.file = "shop.dump";
        m.database = "shop";
        m.time = now - std::chrono::hours(26);
        m.verified = true;
        m.good = true;
        save_backup(cat, m);
        // Newer, and no manifest the restore could read: a file cut short, a foreign one.
        util::write_file_atomic(cat / "shop-20261202T000000Z.json",
                                "{\"format\":1,\"id\":\"shop-20261202T000000Z\",\"time\":\"" +
                                    util::format_time(now) + "\"");
        util::write_file_atomic(cat / "notes.json", "{\"hello\":1}\n");
        monitor::Endpoint ep(loopback(), dir.path() / "state");
        ep.set_decision_playbook(dir.path() / "pb.toml");
        auto text = ep.handle({"GET", "/metrics", ""}).body;
        std::vector<std::string> passed;
        const auto picked = db::BackupCatalog(cat).select("last_good", "shop", passed);
        CHECK(picked.id == m.id);
        CHECK(value_of(text, backup_series(cat, "shop")) == epoch(picked.time));
        CHECK(value_of(text, "rollback_backup_catalog_unreadable_manifests{catalog=\"" +
                                 cat.string() + "\"}") == 2);
        // Moved out: 0, the series stays.
        std::filesystem::remove(cat / "notes.json");
        std::filesystem::remove(cat / "shop-20261202T000000Z.json");
        std::filesystem::last_write_time(cat, std::filesystem::file_time_type::clock::now() +
                                                  std::chrono::seconds(5));
        text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(value_of(text, "rollback_backup_catalog_unreadable_manifests{catalog=\"" +
                                 cat.string() + "\"}") == 0);
        CHECK(value_of(text, backup_series(cat, "shop")) == epoch(m.time));
    }

    TEST_CASE("the last good backup on metrics is one whose archive is there with its size") {
        // break-it 42/04: with every .dump pruned (a retention script) the series stayed fresh
        // while plan and `backup verify` said "archive ... is missing".
        test::TempDir dir;
        write_playbook(dir.path() / "pb.toml", {{"restore-db", "shop", "catalog"}});
        const auto cat = dir.path() / "catalog";
        std::filesystem::create_directories(cat);
        const auto now = std::chrono::system_clock::now();
        db::BackupManifest m;
        m.database = "shop";
        m.verified = true;
        m.good = true;
        m.id = "shop-20261201T000000Z";
        m.file = m.id + ".dump";
        m.time = now - std::chrono::hours(30);
        save_backup(cat, m);
        const auto older = m.time;
        m.id = "shop-20261202T000000Z";
        m.file = m.id + ".dump";
        m.time = now - std::chrono::hours(2);
        save_backup(cat, m);
        monitor::Endpoint ep(loopback(), dir.path() / "state");
        ep.set_decision_playbook(dir.path() / "pb.toml");
        auto text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(value_of(text, backup_series(cat, "shop")) == epoch(m.time));

        // The newer archive gone: the series is the older backup, the one a restore takes.
        std::filesystem::remove(cat / m.file);
        text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(value_of(text, backup_series(cat, "shop")) == epoch(older));
        std::vector<std::string> passed;
        CHECK(db::BackupCatalog(cat).select("last_good", "shop", passed).id ==
              "shop-20261201T000000Z");
        REQUIRE(passed.size() == 1);
        CHECK(passed[0] ==
              "backup " + m.id + ": archive " + (cat / m.file).string() + " is missing");

        // The older one cut short in place (the directory unchanged): no restorable good
        // backup, no series — absent() alerts on it (docs/metrics.md).
        std::filesystem::resize_file(cat / "shop-20261201T000000Z.dump", 5);
        text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(text.find(backup_series(cat, "shop")) == std::string::npos);
        CHECK(value_of(text, "rollback_backup_catalog_unreadable_manifests{catalog=\"" +
                                 cat.string() + "\"}") == 0); // the manifests read well
    }

    TEST_CASE("a new decision playbook (a reload) or an edited one changes the catalogs") {
        test::TempDir dir;
        const auto now = std::chrono::system_clock::now();
        for (const char* cat : {"old", "new"}) {
            std::filesystem::create_directories(dir.path() / cat);
            db::BackupManifest m;
            m.id = "shop-20261201T000000Z";
            m.file = "shop.dump";
            m.database = "shop";
            m.time = now - std::chrono::hours(std::string(cat) == "old" ? 5 : 1);
            m.verified = true;
            m.good = true;
            save_backup(dir.path() / cat, m);
        }
        write_playbook(dir.path() / "a.toml", {{"restore-db", "shop", "old"}});
        write_playbook(dir.path() / "b.toml", {{"restore-db", "shop", "new"}});
        monitor::Endpoint ep(loopback(), dir.path() / "state");
        ep.set_decision_playbook(dir.path() / "a.toml");
        auto text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(text.find(backup_series(dir.path() / "old", "shop")) != std::string::npos);
        ep.set_decision_playbook(dir.path() / "b.toml"); // what Loop::reload() does
        text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(text.find(backup_series(dir.path() / "old", "shop")) == std::string::npos);
        CHECK(value_of(text, backup_series(dir.path() / "new", "shop")) ==
              epoch(now - std::chrono::seconds(3600)));
        // The same file edited to restore from the old catalog (its mtime moves forward).
        write_playbook(dir.path() / "b.toml", {{"restore-db", "shop", "old"}});
        std::filesystem::last_write_time(dir.path() / "b.toml",
                                         std::filesystem::file_time_type::clock::now() +
                                             std::chrono::seconds(5));
        text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(text.find(backup_series(dir.path() / "new", "shop")) == std::string::npos);
        CHECK(value_of(text, backup_series(dir.path() / "old", "shop")) ==
              epoch(now - std::chrono::seconds(5 * 3600)));
    }

    TEST_CASE("only a drill whose every step succeeded counts as a successful rehearsal") {
        test::TempDir dir;
        const auto now = std::chrono::system_clock::now();
        write_playbook(dir.path() / "pb.toml", {{"restore-an", "analytics", "catalog"},
                                                {"restore-shop", "shop", "catalog"}});
        write_playbook(dir.path() / "other.toml", {{"restore-shop", "shop", "catalog"}});
        monitor::Endpoint ep(loopback(), dir.path() / "state");
        ep.set_decision_playbook(dir.path() / "pb.toml");
        save_drill(dir.path(), "good", dir.path() / "pb.toml",
                   {{"restore-an", true}, {"restore-shop", true}}, now - std::chrono::hours(10));
        // Newer: one step failed; one drill cut short (1 of 2 recorded); another playbook's.
        save_drill(dir.path(), "half", dir.path() / "pb.toml",
                   {{"restore-an", true}, {"restore-shop", false}}, now - std::chrono::hours(3));
        save_drill(dir.path(), "cut", dir.path() / "pb.toml", {{"restore-an", true}},
                   now - std::chrono::hours(2), 2);
        save_drill(dir.path(), "other", dir.path() / "other.toml", {{"restore-shop", true}},
                   now - std::chrono::hours(1));
        auto text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(value_of(text, "rollback_last_successful_rehearsal_timestamp_seconds") ==
              epoch(now - std::chrono::seconds(10 * 3600)));
    }

    TEST_CASE("a drill of a selection of steps (rehearse --only) is not the playbook's drill") {
        test::TempDir dir;
        const auto now = std::chrono::system_clock::now();
        write_playbook(dir.path() / "pb.toml", {{"restore-an", "analytics", "catalog"},
                                                {"restore-shop", "shop", "catalog"}});
        monitor::Endpoint ep(loopback(), dir.path() / "state");
        ep.set_decision_playbook(dir.path() / "pb.toml");
        save_drill(dir.path(), "whole", dir.path() / "pb.toml",
                   {{"restore-an", true}, {"restore-shop", true}}, now - std::chrono::hours(30));
        // Newer, every step it rehearsed ok and recorded: one step, then both named by --only.
        save_drill(dir.path(), "one", dir.path() / "pb.toml", {{"restore-shop", true}},
                   now - std::chrono::hours(2), 0, {"restore-shop"});
        save_drill(dir.path(), "named", dir.path() / "pb.toml",
                   {{"restore-an", true}, {"restore-shop", true}}, now - std::chrono::hours(1), 0,
                   {"restore-an", "restore-shop"});
        auto text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(value_of(text, "rollback_last_successful_rehearsal_timestamp_seconds") ==
              epoch(now - std::chrono::seconds(30 * 3600)));
    }

    TEST_CASE("a drill of the playbook spelled through a symbolic link counts") {
        test::TempDir dir;
        const auto now = std::chrono::system_clock::now();
        write_playbook(dir.path() / "pb.toml", {{"restore-shop", "shop", "catalog"}});
        std::filesystem::create_symlink("pb.toml", dir.path() / "current.toml");
        monitor::Endpoint ep(loopback(), dir.path() / "state");
        ep.set_decision_playbook(dir.path() / "pb.toml");
        save_drill(dir.path(), "linked", dir.path() / "current.toml", {{"restore-shop", true}},
                   now - std::chrono::hours(4));
        auto text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(value_of(text, "rollback_last_successful_rehearsal_timestamp_seconds") ==
              epoch(now - std::chrono::seconds(4 * 3600)));
    }

    TEST_CASE("the rehearsal time is absent again when no successful record is left") {
        test::TempDir dir;
        const auto now = std::chrono::system_clock::now();
        write_playbook(dir.path() / "pb.toml", {{"restore-db", "shop", "catalog"}});
        monitor::Endpoint ep(loopback(), dir.path() / "state");
        ep.set_decision_playbook(dir.path() / "pb.toml");
        save_drill(dir.path(), "good", dir.path() / "pb.toml", {{"restore-db", true}},
                   now - std::chrono::hours(10));
        auto text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(text.find("\nrollback_last_successful_rehearsal_timestamp_seconds ") !=
              std::string::npos);
        std::filesystem::remove_all(dir.path() / "state" / "rehearsals"); // pruned
        text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(text.find("\nrollback_last_successful_rehearsal_timestamp_seconds ") ==
              std::string::npos);
        save_drill(dir.path(), "bad", dir.path() / "pb.toml", {{"restore-db", false}},
                   now - std::chrono::hours(1));
        text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(text.find("\nrollback_last_successful_rehearsal_timestamp_seconds ") ==
              std::string::npos);
        // A second endpoint (a restarted monitor) on the same files gives the same answer.
        monitor::Endpoint again(loopback(), dir.path() / "state");
        again.set_decision_playbook(dir.path() / "pb.toml");
        CHECK(again.handle({"GET", "/metrics", ""})
                  .body.find("\nrollback_last_successful_rehearsal_timestamp_seconds ") ==
              std::string::npos);
    }

    TEST_CASE("condition values are in one family per unit and in base units") {
        test::TempDir dir;
        monitor::Endpoint ep(loopback(), dir.path());
        monitor::Monitor mon(config::parse(R"TOML(
[target]
name = "shop"
[source.probe]
kind = "command"
argv = ["probe"]
[[condition]]
name = "v"
signal = "probe.value"
above = 10
[[condition]]
name = "shop-errors"
kind = "alert"
match = { alertname = "HighErrorRate" }
[server]
listen = "127.0.0.1:9095"
)TOML",
                                           "rollback.toml", dir.path()));
        auto cond = [](std::string name, std::string unit, std::optional<double> observed) {
            decision::ConditionRecord c;
            c.name = std::move(name);
            c.unit = std::move(unit);
            c.observed = observed;
            return c;
        };
        decision::Evaluation e;
        e.record.conditions = {cond("p95", "ms", 736),     cond("down", "s", 55),
                               cond("err", "ratio", 0.25), cond("reqs", "requests", 40),
                               cond("v", "", 1500),        cond("quiet", "ms", std::nullopt)};
        ep.tick_done(e, 0.01, mon);
        decision::Evaluation alerts;
        alerts.record.conditions = {cond("shop-errors", "", 2)};
        ep.alerts_evaluated(alerts, mon, monitor::AlertBook{});
        auto text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(value_of(text, "rollback_condition_value_seconds{condition=\"p95\"}") ==
              doctest::Approx(0.736));
        CHECK(value_of(text, "rollback_condition_value_seconds{condition=\"down\"}") == 55);
        CHECK(value_of(text, "rollback_condition_value_ratio{condition=\"err\"}") == 0.25);
        CHECK(value_of(text, "rollback_condition_value_requests{condition=\"reqs\"}") == 40);
        CHECK(value_of(text, "rollback_condition_value{condition=\"v\"}") == 1500);
        CHECK(value_of(text, "rollback_condition_value_alerts{condition=\"shop-errors\"}") == 2);
        // One family each: no condition appears in another, nothing observed is absent.
        CHECK(text.find("rollback_condition_value{condition=\"p95\"}") == std::string::npos);
        CHECK(text.find("rollback_condition_value{condition=\"shop-errors\"}") ==
              std::string::npos);
        CHECK(text.find("{condition=\"quiet\"} ") == std::string::npos);
        for (const char* family :
             {"rollback_condition_value_seconds", "rollback_condition_value_ratio",
              "rollback_condition_value_requests", "rollback_condition_value_alerts",
              "rollback_condition_value"}) {
            CHECK_MESSAGE(text.find("# TYPE " + std::string(family) + " gauge\n") !=
                              std::string::npos,
                          family);
        }
        // The alert condition's confirmation gave no number: its value is absent, not 0.
        alerts.record.conditions = {cond("shop-errors", "", std::nullopt)};
        ep.alerts_evaluated(alerts, mon, monitor::AlertBook{});
        text = ep.handle({"GET", "/metrics", ""}).body;
        CHECK(text.find("{condition=\"shop-errors\"} 2") == std::string::npos);
    }

    TEST_CASE("over a socket: healthz is open and the rest needs the token") {
        test::TempDir dir;
        monitor::Endpoint ep(loopback("tok-51d0"), dir.path());
        ep.start();
        const std::string base = "http://127.0.0.1:" + std::to_string(ep.port());
        util::RealHttpClient http;
        auto send = [&](const std::string& method, const std::string& path,
                        const std::string& token, const std::string& body = {}) {
            util::HttpRequest req;
            req.method = method;
            req.url = base + path;
            req.body = body;
            if (!token.empty()) {
                req.headers.emplace_back("Authorization", "Bearer " + token);
            }
            req.timeout = std::chrono::seconds(5);
            return http.send(req);
        };
        CHECK(send("GET", "/healthz", "").status == 200);
        CHECK(send("GET", "/metrics", "").status == 401);
        CHECK(send("GET", "/metrics", "tok-51d1").status == 401);
        CHECK(send("GET", "/metrics", "tok-51d0").status == 200);
        CHECK(send("POST", "/api/v1/alertmanager", "tok-51d0", std::string(5000, 'x')).status ==
              413);
        CHECK(send("POST", "/api/v1/alertmanager", "tok-51d0", k_firing).status == 200);
        const auto text = send("GET", "/metrics", "tok-51d0").body;
        CHECK(text.find("rollback_http_auth_failures_total{reason=\"missing\"} 1\n") !=
              std::string::npos);
        CHECK(text.find("rollback_http_auth_failures_total{reason=\"wrong\"} 1\n") !=
              std::string::npos);
        CHECK(text.find("rollback_webhook_requests_total{outcome=\"too_large\"} 1\n") !=
              std::string::npos);
        ep.stop();
    }

    TEST_CASE("counters with labels known in advance are 0 before their first event") {
        test::TempDir dir;
        monitor::Endpoint ep(loopback("tok-51d0"), dir.path());
        const auto text = ep.metrics().render();
        for (const char* series : {
                 "rollback_http_connections_refused_total 0\n",
                 "rollback_http_connections_evicted_total 0\n",
                 "rollback_http_auth_failures_total{reason=\"missing\"} 0\n",
                 "rollback_http_auth_failures_total{reason=\"wrong\"} 0\n",
                 "rollback_webhook_requests_total{outcome=\"accepted\"} 0\n",
                 "rollback_webhook_requests_total{outcome=\"unavailable\"} 0\n",
                 "rollback_alert_notifications_total{outcome=\"fired\"} 0\n",
                 "rollback_alert_notifications_total{outcome=\"expired\"} 0\n",
                 "rollback_runs_total{state=\"succeeded\"} 0\n",
                 "rollback_runs_total{state=\"needs_attention\"} 0\n",
             }) {
            CHECK_MESSAGE(text.find(series) != std::string::npos, series);
        }
        CHECK(text.find("rollback_runs_total{state=\"running\"}") == std::string::npos);
    }
}
