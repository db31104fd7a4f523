// SPDX-License-Identifier: MIT
// A journal read in chunks (folded as read, or its chain alone for a writer that continues it)
// reads as the whole journal does: the same warnings, errors, valid bytes and chain problem.
#include "journal/reader.hpp"
#include "journal/writer.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <fstream>

using namespace rollback;
using namespace rollback::journal;

namespace {

class FixedClock final : public util::Clock {
  public:
    util::SystemTime now() const override {
        return util::SystemTime(std::chrono::milliseconds(1'795'000'000'123LL));
    }
};

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const util::Error& e) {
        return e.what();
    }
    return "(no error)";
}

/// A journal whose second record is one line longer than the reader's 256 KiB buffer.
std::string long_journal(const test::TempDir& dir) {
    const auto file = dir / "long.jsonl";
    auto w = Writer::create(file, {{"run_id", "20261206T070000Z-0a1b2c"}});
    w.append({{"type", "step_started"}, {"step", "s1"}, {"attempt", 1}});
    w.append({{"type", "note"}, {"text", std::string(600 * 1024, 'x')}});
    w.append({{"type", "step_finished"}, {"step", "s1"}, {"status", "succeeded"}});
    return util::read_file(file);
}

/// Reads `content` whole, folded as read, and as a chain alone; checks they agree.
void check_alike(const test::TempDir& dir, const std::string& name, const std::string& content) {
    CAPTURE(name);
    const auto file = dir.write(name, content);
    const std::string whole_error = error_of([&] { read(file); });
    std::size_t handed = 0;
    const RecordSink each = [&handed](Entry&&) { ++handed; };
    CHECK(error_of([&] { read(file, &each); }) == whole_error);
    CHECK(error_of([&] { read_chain(file); }) == whole_error);
    if (whole_error != "(no error)") {
        return;
    }
    const Journal whole = read(file);
    handed = 0;
    const Journal streamed = read(file, &each);
    const Journal chain = read_chain(file);
    CHECK(handed == whole.records.size());
    CHECK(chain.records.empty());
    for (const Journal* j : {&streamed, &chain}) {
        CHECK(j->text.empty());
        CHECK(j->warnings == whole.warnings);
        CHECK(j->valid_bytes == whole.valid_bytes);
        CHECK(j->chain_problem == whole.chain_problem);
        CHECK(j->lines == whole.records.size() + 1);
        CHECK(j->run_id() == whole.run_id());
    }
    // A sink that asks for the header is given it once, before any record.
    std::vector<std::string> order;
    const RecordSink with_header([&order](Entry&& e) { order.emplace_back(e.step()); },
                                 [&order, &whole](const Entry& h) {
                                     CHECK(h.time == whole.header.time);
                                     CHECK(h.seq == 0);
                                     order.emplace_back("(header)");
                                 });
    read(file, &with_header);
    REQUIRE(order.size() == whole.records.size() + 1);
    CHECK(order.front() == "(header)");
    CHECK(std::count(order.begin(), order.end(), "(header)") == 1);
    if (whole.chain_problem.empty()) {
        // A writer continuing from a reading (records handed or kept) writes what one that
        // reads the journal again writes: the same cut, seq and chain.
        for (const Journal* as_read : {&streamed, &whole}) {
            const auto again_file = dir.write("again-" + name, content);
            std::vector<std::string> wa, wb;
            const FixedClock clock;
            auto again = Writer::open_existing(again_file, &wa, &clock);
            dir.write(name, content); // as it was read
            auto from = Writer::continue_from(file, *as_read, &wb, &clock);
            CHECK(from.next_seq() == again.next_seq());
            again.append({{"type", "note"}, {"text", "continued"}});
            from.append({{"type", "note"}, {"text", "continued"}});
            REQUIRE(wb.size() == wa.size());
            for (size_t i = 0; i < wa.size(); ++i) {
                CHECK(util::replace_all(wa[i], again_file.string(), file.string()) == wb[i]);
            }
            CHECK(util::read_file(file) == util::read_file(again_file));
        }
        dir.write(name, content);
        const std::string last = util::sha256_hex(whole.line(whole.records.size()));
        CHECK(whole.last_hash == last);
        CHECK(chain.last_hash == last);
        CHECK(streamed.last_hash == last);
    }
}

} // namespace

TEST_SUITE("journal") {
    TEST_CASE("chunked reads: every ending of a journal with a line longer than the buffer") {
        test::TempDir dir;
        const std::string intact = long_journal(dir);
        const std::string bad = "{\"seq\":4,\"type\":\"note\"\n";
        check_alike(dir, "intact.jsonl", intact);
        check_alike(dir, "torn.jsonl", intact + "{\"seq\":4,\"ty");
        check_alike(dir, "bad-last.jsonl", intact + bad);
        check_alike(dir, "bad-then-line.jsonl",
                    intact + bad + intact.substr(0, intact.find('\n') + 1));
        check_alike(dir, "bad-then-torn.jsonl", intact + bad + "{\"seq\"");
        check_alike(dir, "header-only.jsonl", intact.substr(0, intact.find('\n') + 1));
        check_alike(dir, "torn-header.jsonl", intact.substr(0, 40));
        check_alike(dir, "empty.jsonl", "");
        check_alike(dir, "bad-header.jsonl", "{\"seq\":0\n" + intact);
        // One byte of the long record changed: the chain breaks there, in every reading.
        std::string forged = intact;
        forged[forged.find("xxxx") + 300000] = 'y';
        check_alike(dir, "forged.jsonl", forged);
        CHECK(read_chain(dir.write("f2.jsonl", forged)).chain_problem.find("line 3 (seq 2)") == 0);
        // A line cut out of the middle: detected as before.
        const size_t second = intact.find('\n') + 1;
        std::string cut = intact;
        cut.erase(second, intact.find('\n', second) + 1 - second);
        check_alike(dir, "cut.jsonl", cut);
        CHECK(!read_chain(dir.write("c2.jsonl", cut)).chain_problem.empty());
    }
}
