// SPDX-License-Identifier: MIT
// The rehearsal records only give a restore its ETA: one that cannot be read is passed over and
// named, never a reason for the restore (or its preflight) to fail — break-it 42/01, where a
// dangling link in rehearsals/ kept every rollback from starting (no PostgreSQL: records written
// by hand).
#include "db/rehearsal.hpp"
#include "db/scratch_record.hpp"

#include "support/temp_dir.hpp"
#include "util/files.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

using namespace rollback;
namespace fs = std::filesystem;

namespace {

db::Rehearsal rehearsal(const std::string& time, double restore_s, bool ok = true) {
    db::Rehearsal r;
    r.step_id = "restore-db";
    r.time = time;
    r.backup = "shop-20261201T000000Z";
    r.database = "shop";
    r.ok = ok;
    r.restore_s = restore_s;
    return r;
}

} // namespace

TEST_SUITE("db") {
    TEST_CASE("last_rehearsal passes over records it cannot read and names each") {
        test::TempDir tmp;
        const fs::path state = tmp / "state";
        db::save_rehearsal(state, rehearsal("2026-12-01T10:00:00.000Z", 12.5));
        db::save_rehearsal(state, rehearsal("2026-12-02T10:00:00.000Z", 99, false));
        const fs::path dir = state / "rehearsals";
        // Newer by name than the good record, each unreadable in its own way.
        fs::create_symlink("/nonexistent/r.json", dir / "2026-12-05-dangling.json");
        REQUIRE(::mkfifo((dir / "2026-12-06-pipe.json").c_str(), 0600) == 0);
        tmp.write("state/rehearsals/2026-12-07-garbage.json", "garbage");
        fs::create_directory(dir / "2026-12-08-dir.json"); // a directory: no record, not named
        tmp.write("state/rehearsals/notes.txt", "not a record");

        std::vector<std::string> skipped;
        auto last = db::last_rehearsal(state, "restore-db", &skipped);
        REQUIRE(last.has_value());
        CHECK(last->time == "2026-12-01T10:00:00.000Z"); // the newest successful one
        CHECK(last->restore_s == doctest::Approx(12.5));
        REQUIRE(skipped.size() == 3);
        CHECK(skipped[0] == "cannot read " + (dir / "2026-12-05-dangling.json").string() +
                                ": No such file or directory");
        CHECK(skipped[1] == "cannot read " + (dir / "2026-12-06-pipe.json").string() +
                                ": not a regular file (a FIFO, a device or a socket)");
        CHECK(skipped[2].rfind("rehearsal record " + (dir / "2026-12-07-garbage.json").string() +
                                   ": invalid JSON",
                               0) == 0);
        // Without `skipped` it says nothing and still answers.
        CHECK(db::last_rehearsal(state, "restore-db").has_value());
        CHECK_FALSE(db::last_rehearsal(state, "other-step").has_value());
        CHECK(db::rehearsal_record_hint(state).find(dir.string()) != std::string::npos);
    }

    TEST_CASE("a scratch record is held while its rehearsal runs and stays when it dies") {
        // break-it 42/03: the record written (and locked) before the scratch database exists
        // is what lets the next rehearsal drop what a kill -9 left — and only that.
        test::TempDir tmp;
        const fs::path state = tmp / "state";
        db::ScratchRecord rec{"shop_rehearse_2026_12_07t04_59_32_18371",
                              "shop",
                              "dbname=postgres host=/run/pg port=5432",
                              "restore-db",
                              "/etc/rollback/playbook.toml",
                              "2026-12-07T04:59:32.000Z",
                              18371,
                              "web1"};
        const fs::path file = state / "rehearsals/scratch" / (rec.name + ".json");
        {
            auto claim = db::ScratchClaim::claim(state, rec);
            CHECK(claim.record().file == file);
            std::vector<std::string> skipped;
            auto all = db::scratch_records(state, skipped);
            REQUIRE(all.size() == 1);
            CHECK(all[0].in_use); // its rehearsal runs: not left over
            CHECK(all[0].server == rec.server);
            CHECK(all[0].pid == 18371);
            CHECK(db::scratch_in_use(state) == std::vector<std::string>{rec.name});
            // The scratch records are no rehearsal records.
            CHECK_FALSE(db::last_rehearsal(state, "restore-db", &skipped).has_value());
            CHECK(skipped.empty());
        } // the rehearsal died: its lock is gone, its record stays
        std::vector<std::string> skipped;
        auto all = db::scratch_records(state, skipped);
        REQUIRE(all.size() == 1);
        CHECK_FALSE(all[0].in_use);
        const std::string drop = all[0].drop_command();
        CHECK(drop.rfind("psql ", 0) == 0);
        CHECK(drop.find("/run/pg") != std::string::npos);
        CHECK(drop.find("DROP DATABASE \"" + rec.name + "\"") != std::string::npos);
        CHECK(db::scratch_in_use(state).empty());

        auto again = db::ScratchClaim::claim(state, rec); // the same name: replaced, held
        again.release();
        CHECK_FALSE(fs::exists(file));
        CHECK(db::scratch_records(state, skipped).empty());

        // A record that names no rehearsal's database is passed over and named, never acted on.
        tmp.write("state/rehearsals/scratch/x.json",
                  R"({"name":"shop","database":"shop","server":"host=/run/pg"})");
        CHECK(db::scratch_records(state, skipped).empty());
        REQUIRE(skipped.size() == 1);
        CHECK(skipped[0].find("names no scratch database of a rehearsal") != std::string::npos);
    }

    TEST_CASE("rehearsal scratch names: the database's own prefix or its first 31 bytes") {
        CHECK(db::is_rehearsal_scratch_name("shop", "shop_rehearse_2026_12_07t04_59_32_1"));
        CHECK_FALSE(db::is_rehearsal_scratch_name("shop", "shop"));
        CHECK_FALSE(db::is_rehearsal_scratch_name("shop", "shop_restore_20261207t045932z_ab"));
        CHECK_FALSE(db::is_rehearsal_scratch_name("shop", "shopx_rehearse_1"));
        CHECK_FALSE(db::is_rehearsal_scratch_name("shop", "shop_rehearse_"));
        const std::string longdb(40, 'a');
        CHECK(db::is_rehearsal_scratch_name(longdb, longdb.substr(0, 31) + "_rehearse_x"));
    }

    TEST_CASE("a verification's scratch record lives in the catalog and is of its own kind") {
        // `backup verify --restore-test` keeps its scratch copy as a rehearsal keeps its own,
        // in `<catalog>/scratch/`: neither kind's reader takes the other's record.
        test::TempDir tmp;
        const fs::path catalog = tmp / "catalog";
        db::ScratchRecord rec{"shop_verify_20261207t045932z18371",
                              "shop",
                              "dbname=postgres host=/run/pg port=5432",
                              "",
                              "",
                              "2026-12-07T04:59:32.000Z",
                              18371,
                              "web1",
                              db::ScratchKind::verification};
        {
            auto claim = db::ScratchClaim::claim(catalog, rec);
            CHECK(claim.record().file == catalog / "scratch" / (rec.name + ".json"));
            CHECK(db::scratch_in_use(catalog, db::ScratchKind::verification) ==
                  std::vector<std::string>{rec.name});
            CHECK(db::scratch_in_use(tmp / "state", catalog) == std::vector<std::string>{rec.name});
            CHECK(db::scratch_in_use(tmp / "state", "").empty());
        }
        std::vector<std::string> skipped;
        auto all = db::scratch_records(catalog, skipped, db::ScratchKind::verification);
        REQUIRE(all.size() == 1);
        CHECK_FALSE(all[0].in_use);
        CHECK(all[0].kind == db::ScratchKind::verification);
        CHECK(skipped.empty());
        // The same file put where rehearsals' records are is not a rehearsal's.
        fs::create_directories(catalog / "rehearsals/scratch");
        fs::copy_file(all[0].file, catalog / "rehearsals/scratch" / (rec.name + ".json"));
        CHECK(db::scratch_records(catalog, skipped).empty());
        REQUIRE(skipped.size() == 1);
        CHECK(skipped[0].find("names no scratch database of a rehearsal") != std::string::npos);

        CHECK(db::is_scratch_name("shop", rec.name, db::ScratchKind::verification));
        CHECK_FALSE(db::is_scratch_name("shop", rec.name, db::ScratchKind::rehearsal));
        CHECK_FALSE(db::is_scratch_name("shop", "shop_verify_", db::ScratchKind::verification));
        CHECK_FALSE(db::is_scratch_name("shop", "shopx_verify_1", db::ScratchKind::verification));
    }

    TEST_CASE("last_rehearsal of a state directory without records or that cannot be listed") {
        test::TempDir tmp;
        std::vector<std::string> skipped;
        CHECK_FALSE(db::last_rehearsal(tmp / "none", "restore-db", &skipped).has_value());
        CHECK(skipped.empty());
        // rehearsals/ is a file: nothing to list, nothing thrown.
        tmp.write("state/rehearsals", "x");
        CHECK_FALSE(db::last_rehearsal(tmp / "state", "restore-db", &skipped).has_value());
        CHECK(skipped.empty());
    }
}
