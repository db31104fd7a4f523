// SPDX-License-Identifier: MIT
#include "util/files.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <sys/stat.h>

using namespace rollback;

namespace {

std::string refusal(const std::filesystem::path& p, size_t max = 1024) {
    try {
        util::read_input_file(p, max);
    } catch (const util::Error& e) {
        CHECK(e.code() == util::ExitCode::invalid);
        return e.what();
    }
    FAIL("expected util::Error for " << p);
    return {};
}

} // namespace

TEST_SUITE("util") {
    TEST_CASE("files: read_input_file reads a regular file whole") {
        test::TempDir dir;
        CHECK(util::read_input_file(dir.write("a.toml", "x = 1\n"), 1024) == "x = 1\n");
        CHECK(util::read_input_file(dir.write("empty.toml", ""), 1024).empty());
        CHECK(util::read_input_file(dir.write("max", std::string(1024, 'x')), 1024).size() == 1024);
    }

    TEST_CASE("files: a directory — a FIFO — a device or a large file is refused at once") {
        test::TempDir dir;
        CHECK(refusal(dir.path()) == "cannot read " + dir.path().string() + ": it is a directory");
        const auto fifo = dir / "fifo";
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
        const auto started = std::chrono::steady_clock::now();
        CHECK(refusal(fifo) == "cannot read " + fifo.string() +
                                   ": not a regular file (a FIFO, a device or a socket)");
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
        CHECK(refusal("/dev/zero").find("not a regular file") != std::string::npos);
        CHECK(refusal(dir.write("big", std::string(1025, 'x'))) ==
              "cannot read " + (dir / "big").string() + ": larger than 1024 bytes");
        CHECK(refusal(dir / "missing").find("No such file") != std::string::npos);
        CHECK_THROWS_AS(util::require_regular_file(fifo), util::Error);
        CHECK_NOTHROW(util::require_regular_file(dir.write("f", "1")));
    }
}
