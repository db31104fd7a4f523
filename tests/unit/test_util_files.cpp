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

TEST_SUITE("util") {
    TEST_CASE(
        "diagnostics: a long source line is shown around the column with the caret under it") {
        test::TempDir dir;
        // A 200 KB line with the fault at byte 100,001 (a minified or generated file).
        std::string line(100'000, 'a');
        line += 'X';
        line += std::string(100'000, 'b');
        const auto f = dir.write("long.toml", "k = 1\n" + line + "\n");
        util::Diagnostic d{{f.string(), 2, 100'001}, "", "bad", ""};
        const std::string out = util::format_diagnostic(d);
        CHECK(out.size() < 400);
        // "    " + excerpt, then "    " + pad + "^": the caret stands under the X.
        const auto nl = out.find('\n');
        const auto src_end = out.find('\n', nl + 1);
        const std::string src = out.substr(nl + 1, src_end - nl - 1);
        const std::string caret =
            out.substr(src_end + 1, out.find('\n', src_end + 1) - src_end - 1);
        REQUIRE(caret.find('^') != std::string::npos);
        CHECK(src[caret.find('^')] == 'X');
        CHECK(src.find("    ...a") == 0);
        CHECK(src.substr(src.size() - 4) == "b...");
        // Near the start: no leading cut; multi-byte characters never split.
        std::string utf(300, ' ');
        for (size_t i = 0; i < utf.size(); i += 2) {
            utf.replace(i, 2, "\xce\xbc"); // μ
        }
        const auto g = dir.write("utf.toml", utf + "\n");
        const std::string u = util::format_diagnostic({{g.string(), 1, 3}, "", "bad", ""});
        CHECK(u.find("    \xce\xbc") != std::string::npos);
        CHECK(u.find("\xce...") == std::string::npos);
    }

    TEST_CASE("diagnostics: a located error in a FIFO or a missing file shows no source line") {
        test::TempDir dir;
        const auto fifo = dir / "fifo";
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
        // Opening a FIFO for reading would block until a writer comes: it must not be opened.
        CHECK(util::format_diagnostic({{fifo.string(), 3, 1}, "", "bad", ""}) ==
              fifo.string() + ":3:1: error: bad\n");
        CHECK(util::format_diagnostic({{(dir / "none").string(), 1, 1}, "", "bad", ""}) ==
              (dir / "none").string() + ":1:1: error: bad\n");
    }
}
