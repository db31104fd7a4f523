// SPDX-License-Identifier: MIT
// A tailer that reads from the start adopts the file's predecessor (break-it 40/01: a monitor
// restarted just after a logrotate saw an empty file and nothing of the last hour): logrotate's
// names only, uncompressed, written since the given time, never the file itself.
#include "sources/tailer.hpp"

#include "support/temp_dir.hpp"

#include <ctime>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <utime.h>
#include <vector>

using rollback::sources::LogTailer;
namespace fs = std::filesystem;

namespace {

int64_t now_s() {
    return static_cast<int64_t>(std::time(nullptr));
}

void set_mtime(const fs::path& p, int64_t t) {
    utimbuf times{static_cast<time_t>(t), static_cast<time_t>(t)};
    REQUIRE(::utime(p.c_str(), &times) == 0);
}

struct Lines {
    std::vector<std::string> got;
    std::function<void(std::string_view)> sink() {
        return [this](std::string_view l) { got.emplace_back(l); };
    }
};

} // namespace

TEST_SUITE("sources") {
    TEST_CASE("tailer: the predecessor is read first - then followed while the server writes it") {
        rollback::test::TempDir dir;
        const auto path = dir.write("access.log", "c\n");
        dir.write("access.log.1", "a\nb\n");
        dir.write("access.log.2.gz", "not a log\n");
        LogTailer tail(path, /*from_start=*/true, now_s() - 3600);
        Lines l;
        auto p = tail.poll(l.sink());
        CHECK(p.predecessor == dir.path() / "access.log.1");
        CHECK(p.readable);
        CHECK(l.got == std::vector<std::string>{"a", "b", "c"});
        // The server was not told to reopen its log: it still writes to the renamed file.
        std::ofstream(dir.path() / "access.log.1", std::ios::app) << "d\n";
        p = tail.poll(l.sink());
        CHECK(p.from_old);
        CHECK(p.predecessor.empty()); // adopted once, at the first poll
        CHECK(l.got.back() == "d");
    }

    TEST_CASE("tailer: dateext names - the newest uncompressed one - a stale or linked one never") {
        rollback::test::TempDir dir;
        const auto path = dir.write("access.log", "");
        const int64_t t = now_s();
        set_mtime(dir.write("access.log-20261205", "old\n"), t - 7200);
        set_mtime(dir.write("access.log-20261206", "new\n"), t - 60);
        set_mtime(dir.write("access.log-20261207.gz", "gz\n"), t);
        set_mtime(dir.write("access.log.bak", "bak\n"), t);
        set_mtime(dir.write("access.log-x1", "x\n"), t);
        SUBCASE("the newest written since the windows' start") {
            LogTailer tail(path, true, t - 3600);
            Lines l;
            CHECK(tail.poll(l.sink()).predecessor == dir.path() / "access.log-20261206");
            CHECK(l.got == std::vector<std::string>{"new"});
        }
        SUBCASE("a dashed dateformat is a dateext name too") {
            set_mtime(dir.write("access.log-2026-12-06", "dashed\n"), t - 10);
            LogTailer tail(path, true, t - 3600);
            Lines l;
            CHECK(tail.poll(l.sink()).predecessor == dir.path() / "access.log-2026-12-06");
            CHECK(l.got == std::vector<std::string>{"dashed"});
        }
        SUBCASE("none written since: nothing adopted") {
            LogTailer tail(path, true, t - 30);
            Lines l;
            CHECK(tail.poll(l.sink()).predecessor.empty());
            CHECK(l.got.empty());
        }
        SUBCASE("a tailer that starts at the end adopts nothing") {
            LogTailer tail(path, false, t - 3600);
            Lines l;
            CHECK(tail.poll(l.sink()).predecessor.empty());
        }
        SUBCASE("a hard link to the file itself is not its predecessor") {
            fs::remove(dir.path() / "access.log-20261206");
            fs::remove(dir.path() / "access.log-20261205");
            std::ofstream(path) << "self\n";
            fs::create_hard_link(path, dir.path() / "access.log.1");
            LogTailer tail(path, true, t - 3600);
            Lines l;
            CHECK(tail.poll(l.sink()).predecessor.empty());
            CHECK(l.got == std::vector<std::string>{"self"});
        }
    }

    TEST_CASE("tailer: no file at the path - a recent predecessor is read - until it stays idle") {
        // Rotated without `create`, the server not reopened yet: it writes to access.log.1.
        rollback::test::TempDir dir;
        const auto path = dir.path() / "access.log";
        dir.write("access.log.1", "a\n");
        LogTailer tail(path, true, now_s() - 600);
        Lines l;
        auto p = tail.poll(l.sink());
        CHECK(p.readable);
        CHECK(l.got == std::vector<std::string>{"a"});
        int readable = 0;
        for (int i = 0; i < 10; ++i) {
            readable += tail.poll(l.sink()).readable;
        }
        CHECK(readable == LogTailer::k_old_idle_polls - 1); // then the missing path: no data
        // The server reopens: the new file is followed from its start.
        dir.write("access.log", "b\n");
        CHECK(tail.poll(l.sink()).readable);
        CHECK(l.got == std::vector<std::string>{"a", "b"});
    }
}
