// SPDX-License-Identifier: MIT
#include "util/output_file.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace rollback;

namespace {

util::OutputRule notes_rule(const std::filesystem::path& records) {
    util::OutputRule rule;
    rule.what = "the notes";
    rule.kind = "a notes file";
    rule.replaceable = [](std::string_view head) { return head.substr(0, 6) == "NOTES\n"; };
    rule.protected_dirs.push_back({records, "the records " + records.string()});
    return rule;
}

// The refusal's message; fails the test when `path` was written.
std::string refusal(const std::filesystem::path& path, const util::OutputRule& rule) {
    try {
        util::write_output_file(path, "NOTES\nnew\n", rule);
    } catch (const util::Error& e) {
        CHECK(e.code() == util::ExitCode::invalid);
        CHECK(std::string(e.hint()).find("-o - to write the notes to standard output") !=
              std::string::npos);
        return e.what();
    }
    FAIL("written: " << path);
    return {};
}

} // namespace

TEST_SUITE("util") {
    TEST_CASE("output_file: a new file and an empty one and one of its kind are written") {
        test::TempDir dir;
        const auto rule = notes_rule(dir / "records");
        util::write_output_file(dir / "new.txt", "NOTES\none\n", rule);
        CHECK(util::read_file(dir / "new.txt") == "NOTES\none\n");
        util::write_output_file(dir / "new.txt", "NOTES\ntwo\n", rule); // an earlier output
        CHECK(util::read_file(dir / "new.txt") == "NOTES\ntwo\n");
        util::write_file_atomic(dir / "empty.txt", "");
        util::write_output_file(dir / "empty.txt", "NOTES\n", rule);
        CHECK(util::read_file(dir / "empty.txt") == "NOTES\n");
    }

    TEST_CASE("output_file: what is not a regular file of its kind is never replaced") {
        test::TempDir dir;
        const auto rule = notes_rule(dir / "records");
        util::write_file_atomic(dir / "other.txt", "my own text\n");
        CHECK(refusal(dir / "other.txt", rule).find("it exists and is not a notes file") !=
              std::string::npos);
        CHECK(util::read_file(dir / "other.txt") == "my own text\n");

        REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
        CHECK(refusal(dir / "fifo", rule).find("not a regular file") != std::string::npos);
        struct stat st {};
        CHECK((::lstat((dir / "fifo").c_str(), &st) == 0 && S_ISFIFO(st.st_mode)));

        util::write_file_atomic(dir / "target.txt", "NOTES\nkept\n");
        std::filesystem::create_symlink("target.txt", dir / "link.txt");
        CHECK(refusal(dir / "link.txt", rule).find("symbolic link") != std::string::npos);
        CHECK(std::filesystem::is_symlink(dir / "link.txt"));
        CHECK(util::read_file(dir / "target.txt") == "NOTES\nkept\n");

        std::filesystem::create_directory(dir / "sub");
        CHECK(refusal(dir / "sub", rule).find("it is a directory") != std::string::npos);
    }

    TEST_CASE("output_file: nothing is written into a protected directory however it is named") {
        test::TempDir dir;
        const auto records = dir / "records";
        std::filesystem::create_directories(records / "runs");
        std::filesystem::create_directory_symlink(records, dir / "alias");
        const auto rule = notes_rule(records);
        for (const auto& p : {records / "runs" / "new.txt", dir / "alias" / "x.txt",
                              records / ".." / "records" / "y.txt"}) {
            CAPTURE(p);
            CHECK(refusal(p, rule).find("it is in the records " + records.string()) !=
                  std::string::npos);
        }
        CHECK(std::filesystem::is_empty(records / "runs"));
        // Beside it is fine.
        util::write_output_file(dir / "records.txt", "NOTES\n", rule);
    }

    TEST_CASE("output_file: a directory that cannot be written is exit 2 with the hint") {
        test::TempDir dir;
        const auto rule = notes_rule(dir / "records");
        CHECK(refusal(dir / "missing" / "x.txt", rule).find("cannot write the notes") !=
              std::string::npos);
    }
}
