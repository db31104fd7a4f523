// SPDX-License-Identifier: MIT
// Bytes that are not UTF-8 (a Latin-1 "é" from a legacy program, binary output, a C1 byte) in any
// journaled field: the journal stays JSON every reader reads, and `audit verify` holds
// (break-it 26/15). The written form of such a byte is the text \xHH (util::valid_utf8).
#include "journal/line.hpp"
#include "journal/reader.hpp"
#include "journal/records.hpp"
#include "journal/writer.hpp"
#include "support/temp_dir.hpp"
#include "util/encode.hpp"
#include "util/files.hpp"
#include "util/json_text.hpp"
#include "util/secrets.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>
#include <random>

using namespace rollback;
namespace json = boost::json;

namespace {

std::string random_bytes(std::mt19937& rng, size_t max_len) {
    std::uniform_int_distribution<size_t> len(0, max_len);
    std::uniform_int_distribution<int> byte(0, 255);
    std::string s(len(rng), '\0');
    for (auto& c : s) {
        c = static_cast<char>(byte(rng));
    }
    return s;
}

/// Every line of `text` parses as JSON with the strict (UTF-8 checking) parser.
void check_strict_lines(const std::string& text) {
    for (const auto& line : util::split(text, '\n')) {
        if (line.empty()) {
            continue;
        }
        CHECK(util::is_valid_utf8(line));
        boost::system::error_code ec;
        (void)json::parse(line, ec);
        CHECK_MESSAGE(!ec, ec.message());
    }
}

} // namespace

TEST_SUITE("journal") {
    TEST_CASE("random bytes in every journaled field give a readable journal that verifies") {
        std::mt19937 rng(2615);
        for (int round = 0; round < 60; ++round) {
            test::TempDir tmp;
            const auto file = tmp / "runs/20261206T101500Z-0a0b0c.jsonl";
            const std::string a = random_bytes(rng, 40), b = random_bytes(rng, 300),
                              c = random_bytes(rng, 12);
            CAPTURE(util::visible_controls(a));
            {
                auto w = journal::Writer::create(
                    file, {{"run_id", "20261206T101500Z-0a0b0c"}, {"created", "x"}}, nullptr);
                journal::StepFinished f;
                f.step = "s";
                f.attempt = 1;
                f.status = "succeeded";
                f.summary = a;
                f.output_tail = b;
                f.details = {{c, a}};
                w.append(journal::to_json(f));
                w.append(journal::to_json(journal::Note{a + c}));
                journal::Hook h;
                h.event = "after-step";
                h.hook = c;
                h.status = "failed";
                h.reason = a;
                h.output_tail = b;
                w.append(journal::to_json(h));
                w.append({{"type", "note"}, {"text", b}, {c.empty() ? "k" : c, json::array{a, b}}});
            }
            const std::string text = util::read_file(file);
            check_strict_lines(text);
            const auto v = journal::verify(file);
            CHECK(v.ok);
            CHECK(v.problem == "");
            const auto j = journal::read(file);
            CHECK(j.records.size() == 4);
            CHECK(j.chain_problem == "");
            // The note keeps its text: valid UTF-8 as it was, each other byte as \xHH.
            const auto lines = util::split(text, '\n');
            auto note = json::parse(lines[2]).as_object();
            CHECK(std::string(note["text"].as_string()) ==
                  util::valid_utf8(util::mask_secrets(a + c)));
        }
    }

    TEST_CASE("a journal line an earlier rollback wrote with raw Latin-1 bytes still reads") {
        // Written before the writer made strings valid UTF-8: the hash covers the raw bytes.
        test::TempDir tmp;
        const auto file = tmp / "runs/20261206T101500Z-0a0b0c.jsonl";
        {
            auto w = journal::Writer::create(
                file, {{"run_id", "20261206T101500Z-0a0b0c"}, {"created", "x"}}, nullptr);
            w.append(journal::to_json(journal::Note{"rewritten below as an old writer wrote it"}));
        }
        // Rebuild line 2 as an old writer did: the raw byte inside the string, hash recomputed.
        auto lines = util::split(util::read_file(file), '\n');
        json::object o = json::parse(lines[1]).as_object();
        o.erase("hash");
        o["text"] = "r\xe9sum\xe9";
        std::string body = json::serialize(o); // Boost writes the bytes as they are
        lines[1] = journal::make_line(o, std::string(o["prev"].as_string()));
        CHECK(util::is_valid_utf8(lines[1])); // today's make_line never writes a raw byte
        std::string raw_line = body.substr(0, body.size() - 1);
        CHECK_FALSE(util::is_valid_utf8(raw_line));
        // make_line's hash of the raw form, as the old writer computed it:
        raw_line += ",\"hash\":\"" + util::sha256_hex(body) + "\"}";
        util::write_file_atomic(file, lines[0] + "\n" + raw_line + "\n");
        CHECK(journal::verify(file).ok);
        const auto j = journal::read(file);
        CHECK(j.records.size() == 1);
    }

    TEST_CASE("a journal line that cannot be parsed but whose hash matches is unreadable") {
        test::TempDir tmp;
        const auto file = tmp / "runs/20261206T101500Z-0a0b0c.jsonl";
        {
            auto w = journal::Writer::create(
                file, {{"run_id", "20261206T101500Z-0a0b0c"}, {"created", "x"}}, nullptr);
            w.append(journal::to_json(journal::Note{"one"}));
        }
        auto lines = util::split(util::read_file(file), '\n');
        // A body the writer could never produce (a bare word), hashed as the writer hashes.
        const std::string body = lines[1].substr(0, lines[1].find(",\"hash\":\"")) + ",\"x\":nope}";
        const std::string line =
            body.substr(0, body.size() - 1) + ",\"hash\":\"" + util::sha256_hex(body) + "\"}";
        util::write_file_atomic(file, lines[0] + "\n" + line + "\n" + lines[1] + "\n");
        const auto v = journal::verify(file);
        CHECK_FALSE(v.ok);
        CHECK(v.unreadable);
        CHECK(v.bad_line == 2);
        CHECK(v.problem.find("not valid JSON") != std::string::npos);
        CHECK(v.problem.find("its hash matches") != std::string::npos);
        // A changed line is still a changed line.
        util::write_file_atomic(file, lines[0] + "\n" + lines[1].substr(0, 20) + "X" +
                                          lines[1].substr(21) + "\n");
        const auto changed = journal::verify(file);
        CHECK_FALSE(changed.ok);
        CHECK_FALSE(changed.unreadable);
    }
}

TEST_SUITE("journal") {
    TEST_CASE("line: the hash tail is 64 lower-case hex digits checked at every position") {
        const std::string body = R"({"seq":1,"prev":"x")";
        const std::string good(64, 'a');
        const std::string digits = "0123456789abcdef";
        std::size_t taken = 0;
        for (std::size_t at = 0; at < 64; ++at) {
            for (int v = 0; v < 256; ++v) {
                std::string hash = good;
                hash[at] = static_cast<char>(v);
                const std::string line = body + ",\"hash\":\"" + hash + "\"}";
                const bool hex = digits.find(static_cast<char>(v)) != std::string::npos;
                const auto split = rollback::journal::line::split_hash(line);
                if (split.has_value() != hex) {
                    FAIL("byte " << v << " at " << at << ": " << (hex ? "refused" : "taken"));
                }
                taken += split ? 1 : 0;
            }
        }
        CHECK(taken == 64 * 16);
    }
}
