// SPDX-License-Identifier: MIT
// The backup catalog read once for every reader: an entry that is no readable manifest is passed
// over and named, never chosen, never a reason to fail choosing the verified good backup beside
// it (no PostgreSQL: manifests written by hand).
#include "db/backup_catalog.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

using namespace rollback;
namespace fs = std::filesystem;

namespace {

db::BackupManifest manifest(const std::string& id, util::SystemTime time, bool good,
                            const std::string& release = "") {
    db::BackupManifest m;
    m.id = id;
    m.file = id + ".dump";
    m.database = "shop";
    m.time = time;
    m.verified = true;
    m.good = good;
    m.release = release;
    return m;
}

/// Keeps `m` in `catalog` beside an archive of the size it records: a backup without one is
/// passed over (archive_problem).
void save(const db::BackupCatalog& catalog, db::BackupManifest m) {
    const std::string archive = "PGDMP archive of " + m.id + "\n";
    util::write_file_atomic(catalog.dir() / m.file, archive);
    m.size = archive.size();
    catalog.save(m);
}

/// Beside the good backups: the entries a catalog can hold that are no readable manifest.
void add_unreadable(const fs::path& cat) {
    util::write_file_atomic(cat / "notes.json", "{\"hello\":1}\n"); // a foreign file
    util::write_file_atomic(cat / "shop-29991231T000000Z.json",
                            "{\"format\":1,\"id\":\"shop-29991231T000000Z\""); // cut short
    fs::create_symlink(cat / "gone" / "x.json", cat / "dangling.json");
    REQUIRE(::mkfifo((cat / "pipe.json").c_str(), 0600) == 0);
    fs::create_directories(cat / "archive.json"); // a directory: no entry at all
}

} // namespace

TEST_SUITE("db") {
    TEST_CASE("a catalog entry that is no readable manifest is passed over and named") {
        test::TempDir dir;
        const fs::path cat = dir.path() / "cat";
        fs::create_directories(cat);
        const auto now = std::chrono::system_clock::now();
        db::BackupCatalog catalog(cat);
        save(catalog, manifest("shop-1", now - std::chrono::hours(5), true, "v1"));
        save(catalog, manifest("shop-2", now - std::chrono::hours(2), true, "v2"));
        add_unreadable(cat);

        std::vector<std::string> unreadable;
        const auto all = catalog.list(unreadable);
        REQUIRE(all.size() == 2);
        CHECK(all[0].id == "shop-1");
        REQUIRE(unreadable.size() == 4);
        CHECK(unreadable[0].rfind("backup manifest " + (cat / "dangling.json").string() +
                                      ": cannot be read: No such file or directory",
                                  0) == 0);
        CHECK(unreadable[1] ==
              "backup manifest " + (cat / "notes.json").string() + ": missing \"format\"");
        CHECK(unreadable[2] == "backup manifest " + (cat / "pipe.json").string() +
                                   ": cannot be read: not a regular file (a FIFO, a device or a "
                                   "socket)");
        CHECK(unreadable[3].rfind("backup manifest " +
                                      (cat / "shop-29991231T000000Z.json").string() +
                                      ": invalid JSON: ",
                                  0) == 0);

        // Every way of choosing picks beside them, and says what it passed over.
        for (const std::string spec : {"last_good", "before_release:v2"}) {
            CAPTURE(spec);
            std::vector<std::string> passed;
            CHECK(catalog.select(spec, "shop", passed).id == "shop-2");
            CHECK(passed == unreadable);
        }
        std::vector<std::string> passed;
        CHECK(catalog.select("before_release:v1", "shop", passed).id == "shop-1");
        CHECK(catalog.get("shop-1").id == "shop-1");
        CHECK(db::unreadable_hint(cat).find("move a file that is no manifest out of " +
                                            cat.string()) != std::string::npos);
    }

    TEST_CASE("nothing to choose: the error counts the entries passed over and names the first") {
        test::TempDir dir;
        const fs::path cat = dir.path() / "cat";
        fs::create_directories(cat);
        db::BackupCatalog catalog(cat);
        catalog.save(manifest("shop-1", std::chrono::system_clock::now(), false));
        util::write_file_atomic(cat / "notes.json", "[]\n");
        util::write_file_atomic(cat / "other.json", "{}\n");
        std::vector<std::string> passed;
        CHECK_THROWS_WITH_AS(catalog.select("last_good", "shop", passed),
                             ("no good backup of database shop in catalog " + cat.string() +
                              " (1 backups, 1 verified; 2 entries are no readable manifest, the "
                              "first: backup manifest " +
                              (cat / "notes.json").string() + ": not a JSON object)")
                                 .c_str(),
                             util::Error);
        CHECK(passed.size() == 2);
        CHECK_THROWS_WITH_AS(catalog.get("shop-9"),
                             ("no backup \"shop-9\" in catalog " + cat.string() +
                              "; 2 entries are no readable manifest, the first: backup manifest " +
                              (cat / "notes.json").string() + ": not a JSON object")
                                 .c_str(),
                             util::Error);
        // A backup named by its path is read as named: its own damage is the error.
        CHECK_THROWS_WITH_AS(
            catalog.select((cat / "other.json").string(), "shop", passed),
            ("backup manifest " + (cat / "other.json").string() + ": missing \"format\"").c_str(),
            util::Error);
    }

    TEST_CASE("a backup whose archive is missing or not of its recorded size is passed over") {
        // break-it 42/04: a retention script that prunes *.dump left the manifests, and the last
        // good backup (on /metrics, in the restore's choice) was one no restore could use.
        test::TempDir dir;
        const fs::path cat = dir.path() / "cat";
        fs::create_directories(cat);
        const auto now = std::chrono::system_clock::now();
        db::BackupCatalog catalog(cat);
        save(catalog, manifest("shop-1", now - std::chrono::hours(30), true, "v1"));
        save(catalog, manifest("shop-2", now - std::chrono::hours(5), true, "v2"));
        save(catalog, manifest("shop-3", now - std::chrono::hours(1), true, "v2"));
        fs::remove(cat / "shop-3.dump");
        fs::resize_file(cat / "shop-2.dump", 3); // cut short

        std::vector<std::string> unreadable;
        const auto all = catalog.list(unreadable);
        REQUIRE(all.size() == 3);
        CHECK(db::archive_problem(all[0]).empty());
        CHECK(db::archive_problem(all[1]) ==
              "backup shop-2: archive " + (cat / "shop-2.dump").string() +
                  " has 3 bytes, its manifest records " + std::to_string(all[1].size) +
                  " (cut short or replaced)");
        CHECK(db::archive_problem(all[2]) ==
              "backup shop-3: archive " + (cat / "shop-3.dump").string() + " is missing");

        std::vector<std::string> passed;
        CHECK(catalog.select("last_good", "shop", passed).id == "shop-1");
        CHECK(passed ==
              std::vector<std::string>{db::archive_problem(all[2]), db::archive_problem(all[1])});
        passed.clear();
        // before_release: the same rule; none left for v2 is an error naming what was passed.
        CHECK_THROWS_WITH_AS(catalog.select("before_release:v2", "shop", passed),
                             ("no verified backup taken before release v2 of database shop in "
                              "catalog " +
                              cat.string() +
                              " (3 backups, 3 verified; passed over for its "
                              "archive: " +
                              db::archive_problem(all[2]) + " (and 1 more))")
                                 .c_str(),
                             util::Error);
        CHECK(passed.size() == 2);
        // A backup named by its path is taken as named: its archive is the restore's check.
        passed.clear();
        CHECK(catalog.select((cat / "shop-3.json").string(), "shop", passed).id == "shop-3");
        CHECK(passed.empty());
    }

    TEST_CASE("a catalog that does not exist is still an error and not an empty catalog") {
        test::TempDir dir;
        std::vector<std::string> unreadable;
        CHECK_THROWS_WITH_AS(
            db::BackupCatalog(dir.path() / "missing").list(unreadable),
            ("backup catalog " + (dir.path() / "missing").string() + " does not exist").c_str(),
            util::Error);
    }
}
