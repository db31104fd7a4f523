// SPDX-License-Identifier: MIT
#include "journal/reader.hpp"
#include "journal/writer.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <boost/json/parse.hpp>
#include <doctest/doctest.h>
#include <fstream>

using namespace rollback;
using namespace rollback::journal;

namespace {

std::filesystem::path write_sample(const test::TempDir& tmp) {
    auto file = tmp / "runs/20261126T143500Z-3fa9c1.jsonl";
    auto w = Writer::create(
        file, {{"run_id", "20261126T143500Z-3fa9c1"}, {"created", "2026-11-26T14:35:00.000Z"}});
    w.append({{"type", "run_started"}, {"reason", "p95 x3"}, {"steps", boost::json::array{}}});
    w.append({{"type", "step_started"}, {"step", "notify"}, {"attempt", 1}});
    w.append({{"type", "step_finished"},
              {"step", "notify"},
              {"attempt", 1},
              {"status", "succeeded"},
              {"exit_code", 0},
              {"duration_ms", 12}});
    w.append({{"type", "run_finished"}, {"state", "succeeded"}, {"exit_code", 0}});
    return file;
}

void write_raw(const std::filesystem::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

/// The file as lines, each with its newline.
std::vector<std::string> lines_of(const std::string& content) {
    auto parts = util::split(content, '\n');
    parts.pop_back(); // after the final newline
    for (auto& p : parts) {
        p += '\n';
    }
    return parts;
}

} // namespace

TEST_SUITE("journal") {
    TEST_CASE("verify passes on an untouched journal") {
        test::TempDir tmp;
        auto file = write_sample(tmp);
        auto v = verify(file);
        CHECK(v.ok);
        CHECK(v.lines == 5);
        CHECK(v.bad_line == 0);
        CHECK(v.problem.empty());
    }

    TEST_CASE("verify fails when any single byte is changed") {
        test::TempDir tmp;
        auto file = write_sample(tmp);
        const std::string original = util::read_file(file);
        int undetected = 0;
        for (size_t i = 0; i < original.size(); ++i) {
            std::string changed = original;
            changed[i] = static_cast<char>(changed[i] ^ 0x01);
            write_raw(file, changed);
            if (verify(file).ok) {
                ++undetected;
                MESSAGE("undetected flip at byte " << i);
            }
        }
        CHECK(undetected == 0);

        // And the report names the record: a flip inside line 3 is reported as line 3 (seq 2).
        auto lines = lines_of(original);
        size_t at = lines[0].size() + lines[1].size() + 20;
        std::string changed = original;
        changed[at] = static_cast<char>(changed[at] ^ 0x01);
        write_raw(file, changed);
        auto v = verify(file);
        CHECK_FALSE(v.ok);
        CHECK(v.bad_line == 3);
        CHECK(v.bad_seq == 2);
        CHECK(v.problem == "hash mismatch: the record's bytes were changed");
    }

    TEST_CASE("verify fails on a deleted — reordered — inserted or torn record") {
        test::TempDir tmp;
        auto file = write_sample(tmp);
        auto lines = lines_of(util::read_file(file));
        REQUIRE(lines.size() == 5);
        auto join = [](const std::vector<std::string>& ls) {
            std::string s;
            for (const auto& l : ls) {
                s += l;
            }
            return s;
        };

        SUBCASE("deleted record") {
            auto ls = lines;
            ls.erase(ls.begin() + 2);
            write_raw(file, join(ls));
            auto v = verify(file);
            CHECK_FALSE(v.ok);
            CHECK(v.bad_line == 3);
            CHECK(v.problem == "seq 2 expected, found 3 (a record was deleted, inserted or moved)");
        }
        SUBCASE("deleted header") {
            auto ls = lines;
            ls.erase(ls.begin());
            write_raw(file, join(ls));
            auto v = verify(file);
            CHECK_FALSE(v.ok);
            CHECK(v.bad_line == 1);
        }
        SUBCASE("reordered records") {
            auto ls = lines;
            std::swap(ls[2], ls[3]);
            write_raw(file, join(ls));
            auto v = verify(file);
            CHECK_FALSE(v.ok);
            CHECK(v.bad_line == 3);
            CHECK(v.bad_seq == 2);
        }
        SUBCASE("a record duplicated") {
            auto ls = lines;
            ls.insert(ls.begin() + 2, ls[2]);
            write_raw(file, join(ls));
            auto v = verify(file);
            CHECK_FALSE(v.ok);
            CHECK(v.bad_line == 4);
        }
        SUBCASE("a record re-hashed after editing breaks the next record's prev") {
            auto ls = lines;
            std::string text = ls[2].substr(0, ls[2].size() - 1);
            auto split = text.find("\"attempt\":1");
            REQUIRE(split != std::string::npos);
            text.replace(split, 11, "\"attempt\":2");
            // Re-serialize with a correct own hash: only the chain can tell.
            auto obj = boost::json::parse(text).as_object();
            std::string prev(obj.at("prev").as_string());
            obj.erase("prev");
            obj.erase("hash");
            ls[2] = make_line(obj, prev) + "\n";
            write_raw(file, join(ls));
            auto v = verify(file);
            CHECK_FALSE(v.ok);
            CHECK(v.bad_line == 4);
            CHECK(v.problem == "\"prev\" is not the SHA-256 of line 3 (a record before it was "
                               "changed, deleted or moved)");
        }
        SUBCASE("torn last line") {
            write_raw(file, join(lines) + "{\"seq\":5,\"ti");
            auto v = verify(file);
            CHECK_FALSE(v.ok);
            CHECK(v.bad_line == 6);
            CHECK(v.problem == "the last record is incomplete (crash while writing?)");
        }
        SUBCASE("empty file") {
            write_raw(file, "");
            auto v = verify(file);
            CHECK_FALSE(v.ok);
            CHECK(v.problem == "the journal is empty");
        }
    }
}
