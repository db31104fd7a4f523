// SPDX-License-Identifier: MIT
#include "actions/release_switch.hpp"

#include "support/action_harness.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"

#include <atomic>
#include <doctest/doctest.h>
#include <fstream>
#include <sys/stat.h>
#include <thread>

using namespace rollback;
namespace fs = std::filesystem;

namespace {

// deploy_root with releases v1..vN (each with app.txt and a config snapshot of
// shared/config/shop.env), `current` -> releases/<current>, shared config as the current release's.
fs::path make_layout(const test::TempDir& tmp, int n, const std::string& current,
                     bool with_history = true) {
    fs::path root = tmp / "shop";
    std::string history;
    for (int i = 1; i <= n; ++i) {
        std::string v = "v" + std::to_string(i);
        tmp.write("shop/releases/" + v + "/app.txt", "code " + v + "\n");
        tmp.write("shop/releases/" + v + "/.rollback-config/shared/config/shop.env",
                  "RELEASE=" + v + "\n");
        history += "2026-11-2" + std::to_string(i) + "T10:00:00Z " + v + "\n";
    }
    if (with_history) {
        tmp.write("shop/deploys.log", history);
    }
    tmp.write("shop/shared/config/shop.env", "RELEASE=" + current + "\n");
    fs::create_directory_symlink("releases/" + current, root / "current");
    return root;
}

std::string current_of(const fs::path& root) {
    return fs::read_symlink(root / "current").string();
}

} // namespace

TEST_SUITE("actions") {
    TEST_CASE("release_switch to previous by deploy history — config restored — from marked bad") {
        test::TempDir tmp;
        fs::path root = make_layout(tmp, 3, "v3");
        ::chmod((root / "shared/config/shop.env").c_str(), 0640);
        test::ActionHarness h(
            tmp.path(), "release_switch",
            R"({"deploy_root": ")" + root.string() +
                R"(", "to": "previous", "config_files": ["shared/config/shop.env"]})");
        CHECK(h.validate().empty());
        CHECK(test::first_failed(h.preflight()) == "");

        auto r = h.run();
        CHECK(r.status == actions::Status::succeeded);
        CHECK(r.summary == "switched v3 -> v2");
        CHECK(r.details.at("from") == "v3");
        CHECK(r.details.at("to") == "v2");
        CHECK(current_of(root) == "releases/v2");
        CHECK(util::read_file(root / "current/app.txt") == "code v2\n");
        CHECK(util::read_file(root / "shared/config/shop.env") == "RELEASE=v2\n");
        struct stat st {};
        REQUIRE(::stat((root / "shared/config/shop.env").c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0640);

        auto bad = h.store.bad_releases();
        REQUIRE(bad.size() == 1);
        CHECK(bad[0].release == "v3");
        CHECK(bad[0].location == root.string());
        CHECK(bad[0].run_id == "run-1");
        CHECK(bad[0].switched_to == "v2");
        CHECK(bad[0].marked_bad_at.size() == 24);

        SUBCASE("a retry in the same run does not go one release further back") {
            auto again = h.run();
            CHECK(again.status == actions::Status::succeeded);
            CHECK(again.summary == "already on v2");
            CHECK(current_of(root) == "releases/v2");
        }
        SUBCASE("a later run skips the release marked bad") {
            // v2 is current; a newer deploy v4 goes out and is bad too; "previous" of v4 is v2.
            tmp.write("shop/releases/v4/app.txt", "code v4\n");
            tmp.write("shop/releases/v4/.rollback-config/shared/config/shop.env", "RELEASE=v4\n");
            std::ofstream(root / "deploys.log", std::ios::app) << "2026-11-26T10:00:00Z v4\n";
            actions::switch_current(root, "v4");
            h.store.record_bad_release(
                {"v2", root.string(), "2026-11-26T11:00:00.000Z", "run-0", "v1"});
            h.run_id = "run-2";
            auto r2 = h.run();
            CHECK(r2.status == actions::Status::succeeded);
            CHECK(r2.summary == "switched v4 -> v1");
            REQUIRE(r2.details.contains("skipped_bad"));
            CHECK(r2.details.at("skipped_bad").as_array().size() == 2); // v3 and v2
            CHECK(current_of(root) == "releases/v1");
        }
    }

    TEST_CASE("release_switch to a named version — previous by directory mtime without history") {
        test::TempDir tmp;
        fs::path root = make_layout(tmp, 3, "v2", /*with_history=*/false);
        auto t0 = fs::file_time_type::clock::now();
        // v3 is the oldest on disk, v1 the newest: the order is by mtime, not by name.
        fs::last_write_time(root / "releases/v3", t0 - std::chrono::hours(3));
        fs::last_write_time(root / "releases/v2", t0 - std::chrono::hours(1));
        fs::last_write_time(root / "releases/v1", t0);
        SUBCASE("previous") {
            test::ActionHarness h(tmp.path(), "release_switch",
                                  R"({"deploy_root": "../shop", "to": "previous"})");
            auto r = h.run();
            CHECK(r.summary == "switched v2 -> v3");
            CHECK(r.details.at("chosen_by") == "previous by directory mtime");
        }
        SUBCASE("named") {
            test::ActionHarness h(tmp.path(), "release_switch",
                                  R"({"deploy_root": "../shop", "to": "v1"})");
            auto r = h.run();
            CHECK(r.status == actions::Status::succeeded);
            CHECK(current_of(root) == "releases/v1");
            // shop.env untouched: config_files not given
            CHECK(util::read_file(root / "shared/config/shop.env") == "RELEASE=v2\n");
        }
    }

    TEST_CASE("release_switch previous by directory mtime passes over entries it cannot look at") {
        // Dangling links in releases/ (a release removed by hand) are no release: once, the
        // error of the last one looked at failed the whole listing (break-it 42/01).
        test::TempDir tmp;
        fs::path root = make_layout(tmp, 2, "v2", /*with_history=*/false);
        auto t0 = fs::file_time_type::clock::now();
        fs::last_write_time(root / "releases/v1", t0 - std::chrono::hours(2));
        fs::last_write_time(root / "releases/v2", t0 - std::chrono::hours(1));
        for (int i = 0; i < 40; ++i) { // directory order is no order: one of them comes last
            fs::create_symlink("/nonexistent/v0-" + std::to_string(i),
                               root / "releases" / ("gone-" + std::to_string(i)));
        }
        test::ActionHarness h(tmp.path(), "release_switch",
                              R"({"deploy_root": "../shop", "to": "previous"})");
        auto r = h.run();
        CHECK(r.status == actions::Status::succeeded);
        CHECK(r.summary == "switched v2 -> v1");
        CHECK(current_of(root) == "releases/v1");
    }

    TEST_CASE(
        "release_switch refuses a missing or incomplete target — and leaves everything as is") {
        test::TempDir tmp;
        fs::path root = make_layout(tmp, 2, "v2");
        std::string base = R"({"deploy_root": ")" + root.string() + R"(", )";
        SUBCASE("missing release") {
            test::ActionHarness h(tmp.path(), "release_switch", base + R"("to": "v9"})");
            auto checks = h.preflight();
            CHECK(test::first_failed(checks) ==
                  "target release v9 (named): release \"v9\" does not exist (no directory " +
                      (root / "releases/v9").string() + ")");
            auto r = h.run();
            CHECK(r.status == actions::Status::failed);
            CHECK(r.summary == "release \"v9\" does not exist (no directory " +
                                   (root / "releases/v9").string() + ")");
        }
        SUBCASE("marker missing") {
            test::ActionHarness h(tmp.path(), "release_switch",
                                  base + R"("to": "previous", "complete_marker": "REVISION"})");
            tmp.write("shop/releases/v2/REVISION", "abc\n");
            auto r = h.run();
            CHECK(r.status == actions::Status::failed);
            CHECK(r.summary == "release \"v1\" is not complete: " +
                                   (root / "releases/v1/REVISION").string() + " is missing");
        }
        SUBCASE("empty release directory") {
            fs::create_directory(root / "releases/v0");
            test::ActionHarness h(tmp.path(), "release_switch", base + R"("to": "v0"})");
            CHECK(h.run().summary == "release \"v0\" is not complete: " +
                                         (root / "releases/v0").string() + " is empty");
        }
        SUBCASE("config snapshot missing") {
            fs::remove(root / "releases/v1/.rollback-config/shared/config/shop.env");
            test::ActionHarness h(
                tmp.path(), "release_switch",
                base + R"("to": "previous", "config_files": ["shared/config/shop.env"]})");
            auto r = h.run();
            CHECK(r.summary.find("release \"v1\" has no snapshot of shared/config/shop.env") == 0);
            CHECK(util::read_file(root / "shared/config/shop.env") == "RELEASE=v2\n");
        }
        SUBCASE("no release before the first") {
            actions::switch_current(root, "v1");
            test::ActionHarness h(tmp.path(), "release_switch", base + R"("to": "previous"})");
            CHECK(h.run().summary ==
                  "no release before \"v1\" in the history " + (root / "deploys.log").string());
        }
        SUBCASE("current is not a symlink") {
            fs::remove(root / "current");
            fs::create_directory(root / "current");
            test::ActionHarness h(tmp.path(), "release_switch", base + R"("to": "v1"})");
            CHECK(test::first_failed(h.preflight()) ==
                  "target release v1: " + (root / "current").string() + " is not a symlink");
        }
        CHECK_FALSE(fs::exists(tmp / "state/releases.json"));
    }

    TEST_CASE("release_switch validation reports every bad key at its place") {
        test::TempDir tmp;
        test::ActionHarness h(tmp.path(), "release_switch",
                              R"({"deploy_root": "/srv/shop", "to": 3,
                                  "config_files": ["../etc/passwd"], "complete_marker": "/abs"})");
        h.step.param_where["to"] = {h.playbook.file.string(), 7, 1};
        auto ds = h.validate();
        REQUIRE(ds.size() == 3);
        CHECK(ds[0].problem == "key \"to\": expected a string");
        CHECK(ds[0].where.line == 7);
        CHECK(ds[0].subject == "step \"release_switch-step\"");
        CHECK(ds[1].problem == "key \"complete_marker\": expected a file name inside the release "
                               "(no '..', not absolute)");
        CHECK(ds[2].problem == "key \"config_files\": \"../etc/passwd\" must be relative to "
                               "deploy_root, without '..'");
        CHECK(h.action().describe(h.step) == "/srv/shop/current -> ?, restore ../etc/passwd");
    }

    TEST_CASE("switching `current` is atomic: a concurrent reader never sees it missing") {
        test::TempDir tmp;
        fs::path root = make_layout(tmp, 2, "v1");
        std::atomic<bool> done{false};
        std::atomic<long> reads{0}, misses{0};
        std::thread reader([&] {
            while (!done) {
                // What a web server does on each request: resolve the link, open a file inside.
                std::ifstream in(root / "current/app.txt");
                std::string line;
                if (!in || !std::getline(in, line) || (line != "code v1" && line != "code v2")) {
                    ++misses;
                }
                ++reads;
            }
        });
        for (int i = 0; i < 1000; ++i) {
            actions::switch_current(root, i % 2 == 0 ? "v2" : "v1");
        }
        done = true;
        reader.join();
        CHECK(misses == 0);
        CHECK(reads > 100);
        CHECK(current_of(root) == "releases/v1");
        // no temporary links left behind
        int entries = 0;
        for ([[maybe_unused]] const auto& e : fs::directory_iterator(root)) {
            ++entries;
        }
        CHECK(entries == 4); // releases, shared, deploys.log, current
    }

    TEST_CASE("bad releases file: absent is empty — a record replaces the same release") {
        test::TempDir tmp;
        state::LocalStore store(tmp.path());
        CHECK(store.bad_releases().empty());
        store.record_bad_release({"v2", "/srv/shop", "t1", "run-1", "v1"});
        store.record_bad_release({"v3", "/srv/shop", "t2", "run-2", "v1"});
        store.record_bad_release({"v2", "/srv/shop", "t3", "run-3", "v1"});
        auto bad = store.bad_releases();
        REQUIRE(bad.size() == 2);
        CHECK(bad[0].release == "v3");
        CHECK(bad[1].release == "v2");
        CHECK(bad[1].run_id == "run-3");
        tmp.write("releases.json", "{not json");
        CHECK_THROWS_AS(store.bad_releases(), util::Error);
    }
}
