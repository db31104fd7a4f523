// SPDX-License-Identifier: MIT
#include "util/log.hpp"

#include "support/temp_dir.hpp"
#include "util/files.hpp"

#include <cstdlib>
#include <doctest/doctest.h>

using namespace rollback;

TEST_SUITE("util") {
    TEST_CASE("log: the file is rotated by size and keeps max_files older files") {
        test::TempDir dir;
        ::setenv("ROLLBACK_LOG", "file", 1);
        const auto file = dir.path() / "rollback.log";
        log::init(file, {.verbose = false, .max_bytes = 2048, .max_files = 2});
        CHECK(log::target() == "file");
        for (int i = 0; i < 200; ++i) {
            log::info("message {} with some padding to fill the file quickly", i);
        }
        log::shutdown();
        ::unsetenv("ROLLBACK_LOG");
        CHECK(std::filesystem::exists(file));
        CHECK(std::filesystem::exists(dir.path() / "rollback.1.log"));
        CHECK(std::filesystem::exists(dir.path() / "rollback.2.log"));
        CHECK_FALSE(std::filesystem::exists(dir.path() / "rollback.3.log"));
        CHECK(std::filesystem::file_size(file) <= 2048);
        // The newest message is in the current file, an older one in the rotated one.
        CHECK(util::read_file(file).find("message 199 ") != std::string::npos);
        CHECK(util::read_file(dir.path() / "rollback.1.log").find("message 199 ") ==
              std::string::npos);
        CHECK(log::target() == "none");
    }

    TEST_CASE("log: JOURNAL_STREAM counts only when stderr is that stream") {
        test::TempDir dir;
        ::unsetenv("ROLLBACK_LOG");
        // A device:inode that is not stderr's: logging stays in the file.
        ::setenv("JOURNAL_STREAM", "1:1", 1);
        log::init(dir.path() / "rollback.log");
        CHECK(log::target() == "file");
        log::shutdown();
        ::setenv("JOURNAL_STREAM", "not a stream", 1);
        log::init(dir.path() / "rollback.log");
        CHECK(log::target() == "file");
        log::shutdown();
        ::unsetenv("JOURNAL_STREAM");
    }

    TEST_CASE("log: ROLLBACK_LOG=journal without journald keeps the file") {
        test::TempDir dir;
        ::setenv("ROLLBACK_LOG", "journal", 1);
        log::init(dir.path() / "rollback.log");
        std::error_code ec;
        const bool journald = std::filesystem::exists("/run/systemd/journal/socket", ec);
        CHECK(log::target() == (journald ? "journal" : "file"));
        log::info("kept somewhere");
        log::shutdown();
        if (!journald) {
            CHECK(util::read_file(dir.path() / "rollback.log").find("kept somewhere") !=
                  std::string::npos);
        }
        // An unknown value is not a target: as unset (the file here).
        ::setenv("ROLLBACK_LOG", "jounral", 1);
        log::init(dir.path() / "rollback.log");
        CHECK(log::target() == "file");
        log::shutdown();
        ::unsetenv("ROLLBACK_LOG");
    }
}
