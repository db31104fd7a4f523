// SPDX-License-Identifier: MIT
// The tailer against a reference model: whatever a writer does (appends in pieces, overlong
// lines, rotation, copytruncate that writes more than was read before the next poll), every
// complete line appended after the start is delivered once, in order, unless it is overlong
// (then counted); nothing else is delivered. And paths that are not files are never opened.
#include "sources/tailer.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <random>
#include <sys/stat.h>

using rollback::sources::LogTailer;

TEST_SUITE("sources") {
    TEST_CASE("tailer: generated writers — every line once and in order") {
        for (unsigned seed = 1; seed <= 60; ++seed) {
            rollback::test::TempDir dir;
            const auto path = dir.path() / "access.log";
            std::ofstream(path) << "before start\n";
            LogTailer tail(path);
            std::mt19937 rng(seed);
            std::vector<std::string> want, got;
            uint64_t overlong_want = 0, overlong_got = 0;
            auto collect = [&](std::string_view l) { got.emplace_back(l); };
            auto poll = [&] { overlong_got += tail.poll(collect).overlong; };
            poll();
            std::string pending; // written, not yet ended by a newline
            int serial = 0;
            for (int op = 0; op < 40; ++op) {
                const int kind = static_cast<int>(rng() % 10);
                if (kind < 6) { // append lines, the last one maybe cut in two writes
                    std::string text;
                    const int n = 1 + static_cast<int>(rng() % 5);
                    for (int i = 0; i < n; ++i) {
                        std::string line =
                            "line " + std::to_string(++serial) + " seed " + std::to_string(seed);
                        if (rng() % 15 == 0) {
                            line.append(LogTailer::k_max_line + rng() % 70000, '\0');
                            ++overlong_want;
                        } else {
                            want.push_back(pending + line);
                        }
                        text += line + "\n";
                        pending.clear();
                    }
                    if (rng() % 3 == 0) {
                        pending = "partial " + std::to_string(++serial);
                        text += pending;
                    }
                    std::ofstream(path, std::ios::app) << text;
                } else if (kind < 7) { // rotation: the old file moves away, a new one starts
                    // At most one rotation between polls (a second one would move the first
                    // new file away unseen: lost for any follower, as for tail -F).
                    poll();
                    std::filesystem::rename(path, dir.path() / "access.log.1");
                    std::ofstream(path) << "";
                    // The old file's unfinished line never ends: it is not a line.
                    pending.clear();
                } else if (kind < 8) { // copytruncate, then more written than before the poll
                    // What was appended after the last poll is in the copy, not in the file:
                    // lost for any follower (logrotate(8) says so of copytruncate). The model
                    // polls first; the point is what is written after the truncation.
                    poll();
                    std::string text;
                    for (int i = 0; i < 30; ++i) {
                        std::string line = "after truncate " + std::to_string(++serial);
                        want.push_back(line);
                        text += line + "\n";
                    }
                    std::ofstream(path, std::ios::trunc) << text;
                    pending.clear();
                } else {
                    poll();
                }
            }
            poll();
            INFO("seed " << seed);
            CHECK(got == want);
            CHECK(overlong_got == overlong_want);
        }
    }

    TEST_CASE("tailer: a FIFO or a device is never opened") {
        rollback::test::TempDir dir;
        const auto fifo = dir.path() / "fifo";
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
        LogTailer tail(fifo, true);
        auto p = tail.poll([](std::string_view) {});
        CHECK_FALSE(p.readable);
        CHECK(p.error.find("not a regular file (a FIFO)") != std::string::npos);
        LogTailer zero("/dev/zero", true);
        p = zero.poll([](std::string_view) {});
        CHECK_FALSE(p.readable);
        CHECK(p.error.find("a device") != std::string::npos);
    }
}

TEST_SUITE("sources") {
    TEST_CASE("tailer: rotation without create - the old file is read by its descriptor until the "
              "server reopens") {
        // Break-it finding 07: mv access.log access.log.1; the server keeps writing to the
        // renamed file for a while (no file at the path), then reopens (a new file). Every line
        // written to either is delivered; the path missing while the old file is read is not "no
        // data".
        rollback::test::TempDir dir;
        const auto path = dir.path() / "access.log";
        std::ofstream(path) << "";
        LogTailer tail(path);
        std::vector<std::string> got;
        auto collect = [&](std::string_view l) { got.emplace_back(l); };
        tail.poll(collect);
        std::ofstream server(path, std::ios::app); // the server's descriptor
        server << "1\n" << std::flush;
        CHECK(tail.poll(collect).lines == 1);
        std::filesystem::rename(path, dir.path() / "access.log.1");
        server << "2\n" << std::flush;
        auto p = tail.poll(collect);
        CHECK(p.readable);
        CHECK(p.rotated);
        server << "3\n4\n" << std::flush;
        p = tail.poll(collect);
        CHECK(p.readable);
        CHECK(p.from_old);
        CHECK(p.lines == 2);
        // The server reopens: a new file; a last line reaches the old one after it.
        std::ofstream(path, std::ios::app) << "5\n";
        server << "4b\n" << std::flush;
        p = tail.poll(collect);
        CHECK(p.readable);
        server.close();
        for (int i = 0; i < LogTailer::k_old_idle_polls + 1; ++i) {
            std::ofstream(path, std::ios::app) << "n" << i << "\n";
            CHECK(tail.poll(collect).readable);
        }
        CHECK(got ==
              std::vector<std::string>{"1", "2", "3", "4", "4b", "5", "n0", "n1", "n2", "n3"});
    }

    TEST_CASE("tailer: the renamed file stays silent - closed after k_old_idle_polls - then the "
              "path missing is no data") {
        rollback::test::TempDir dir;
        const auto path = dir.path() / "access.log";
        std::ofstream(path) << "";
        LogTailer tail(path);
        auto ignore = [](std::string_view) {};
        tail.poll(ignore);
        std::filesystem::rename(path, dir.path() / "access.log.1");
        CHECK(tail.poll(ignore).readable); // retired: read by its descriptor
        int readable = 0;
        for (int i = 0; i < 10; ++i) {
            readable += tail.poll(ignore).readable;
        }
        CHECK(readable == LogTailer::k_old_idle_polls - 1);
    }
}
