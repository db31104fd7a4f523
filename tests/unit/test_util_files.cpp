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
    TEST_CASE("files: write_file_atomic replaces the whole file and leaves no temp file") {
        test::TempDir dir;
        const auto file = dir / "state.json";
        util::write_file_atomic(file, "one\n");
        util::write_file_atomic(file, "two\n");
        CHECK(util::read_file(file) == "two\n");
        size_t entries = 0;
        for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) {
            ++entries;
        }
        CHECK(entries == 1);
        const mode_t old_mask = ::umask(027);
        util::write_file_atomic(dir / "masked", "x");
        ::umask(old_mask);
        struct stat st {};
        REQUIRE(::stat((dir / "masked").c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0640);
    }

    TEST_CASE("files: write_file_atomic with keep_mode keeps the replaced file's bits exactly") {
        test::TempDir dir;
        const auto secret = dir.write("secret.env", "TOKEN=old\n");
        REQUIRE(::chmod(secret.c_str(), 0640) == 0);
        util::write_file_atomic(secret, "TOKEN=new\n", {0644, true});
        struct stat st {};
        REQUIRE(::stat(secret.c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0640);
        CHECK(util::read_file(secret) == "TOKEN=new\n");
        // A new file gets the given bits, whatever the umask.
        const mode_t old_mask = ::umask(077);
        util::write_file_atomic(dir / "new.env", "A=1\n", {0604, true});
        ::umask(old_mask);
        REQUIRE(::stat((dir / "new.env").c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0604);
    }

    TEST_CASE("files: write_file_atomic into a missing directory throws and writes nothing") {
        test::TempDir dir;
        CHECK_THROWS_AS(util::write_file_atomic(dir / "no" / "such" / "f", "x"), util::Error);
        CHECK_FALSE(std::filesystem::exists(dir / "no"));
    }

    TEST_CASE("files: read_directory_files reads every record in name order and names the "
              "ones it cannot read") {
        test::TempDir dir;
        dir.write("recs/b.json", "B");
        dir.write("recs/a.json", "A");
        dir.write("recs/a.json.tmp.12.34", "half-written"); // a temp file: another name
        dir.write("recs/notes.txt", "no record");
        std::filesystem::create_directory(dir / "recs/sub.json"); // a directory: no record
        std::filesystem::create_symlink("/nonexistent/c.json", dir / "recs/c.json");
        std::vector<std::string> skipped;
        const auto files = util::read_directory_files(dir / "recs", ".json", skipped);
        REQUIRE(files.size() == 2);
        CHECK(files[0].path == dir / "recs/a.json");
        CHECK(files[0].text == "A");
        CHECK(files[1].text == "B");
        REQUIRE(skipped.size() == 1);
        CHECK(skipped[0] ==
              "cannot read " + (dir / "recs/c.json").string() + ": No such file or directory");
        skipped.clear();
        CHECK(util::read_directory_files(dir / "missing", ".json", skipped).empty());
        CHECK(skipped.empty()); // no directory: no records, nothing wrong
    }

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
