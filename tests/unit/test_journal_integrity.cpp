// SPDX-License-Identifier: MIT
// A journal read for status, report or resume: a broken hash chain is named (and refused for
// appending), and a journal that is not a regular file is refused at once.
#include "journal/reader.hpp"
#include "journal/state.hpp"
#include "journal/writer.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <fstream>
#include <functional>
#include <sys/stat.h>

using namespace rollback;
using namespace rollback::journal;

namespace {

std::filesystem::path write_sample(const test::TempDir& tmp) {
    auto file = tmp / "runs/20261126T143500Z-3fa9c1.jsonl";
    auto w = Writer::create(
        file, {{"run_id", "20261126T143500Z-3fa9c1"}, {"created", "2026-11-26T14:35:00.000Z"}});
    w.append({{"type", "run_started"},
              {"reason", "p95 x3"},
              {"trigger", {{"kind", "manual"}}},
              {"steps", boost::json::array{}}});
    w.append({{"type", "step_started"}, {"step", "notify"}, {"attempt", 1}});
    return file;
}

void write_raw(const std::filesystem::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

int exit_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const util::Error& e) {
        return util::to_int(e.code());
    }
    return 0;
}

} // namespace

TEST_SUITE("journal") {
    TEST_CASE("an intact journal has no chain problem") {
        test::TempDir tmp;
        auto j = read(write_sample(tmp));
        CHECK(j.chain_problem.empty());
        CHECK(j.warnings.empty());
        CHECK(fold(j, false).journal_problem.empty());
    }

    TEST_CASE("an edited middle record breaks the chain: named and warned and not appended to") {
        test::TempDir tmp;
        auto file = write_sample(tmp);
        std::string content = util::read_file(file);
        auto at = content.find("\"manual\"");
        REQUIRE(at != std::string::npos);
        content.replace(at, 8, "\"webhook\"");
        write_raw(file, content);
        auto j = read(file);
        CHECK(j.chain_problem.rfind("line 2 (seq 1): hash mismatch", 0) == 0);
        REQUIRE(j.warnings.size() == 1);
        CHECK(j.warnings[0].find("is NOT intact: line 2 (seq 1)") != std::string::npos);
        CHECK(j.warnings[0].find("rollback audit verify") != std::string::npos);
        CHECK(fold(j, false).journal_problem == j.chain_problem);
        const auto before = util::read_file(file);
        CHECK(exit_of([&] { Writer::open_existing(file); }) == 2);
        CHECK(util::read_file(file) == before); // nothing appended, nothing cut
    }

    TEST_CASE("a duplicated last record breaks the chain") {
        test::TempDir tmp;
        auto file = write_sample(tmp);
        std::string content = util::read_file(file);
        auto lines = util::split(content, '\n');
        write_raw(file, content + lines[lines.size() - 2] + "\n");
        auto j = read(file);
        CHECK(j.chain_problem.rfind("line 4 (seq 3): seq 3 expected, found 2", 0) == 0);
        CHECK(exit_of([&] { Writer::open_existing(file); }) == 2);
    }

    TEST_CASE("a torn last record is not a broken chain") {
        test::TempDir tmp;
        auto file = write_sample(tmp);
        write_raw(file, util::read_file(file) + "{\"seq\":3,\"ti");
        auto j = read(file);
        CHECK(j.chain_problem.empty());
        CHECK(j.warnings.size() == 1);
    }

    TEST_CASE("a journal that is a FIFO or a link to /dev/zero or a directory is refused at once") {
        test::TempDir tmp;
        std::filesystem::create_directories(tmp / "runs");
        const auto fifo = tmp / "runs/fifo.jsonl";
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
        const auto zero = tmp / "runs/zero.jsonl";
        std::filesystem::create_symlink("/dev/zero", zero);
        const auto dir = tmp / "runs/dir.jsonl";
        std::filesystem::create_directories(dir);
        for (const auto& p : {fifo, zero, dir}) {
            CAPTURE(p);
            const auto start = std::chrono::steady_clock::now();
            CHECK(exit_of([&] { read(p); }) == 2);
            CHECK(exit_of([&] { verify(p); }) == 2);
            CHECK(exit_of([&] { Writer::open_existing(p); }) == 2);
            CHECK(exit_of([&] { util::read_file(p); }) == 2);
            CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
        }
        try {
            read(zero);
        } catch (const util::Error& e) {
            CHECK(std::string(e.what()).find("not a regular file") != std::string::npos);
        }
    }
}
