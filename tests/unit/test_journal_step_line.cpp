// SPDX-License-Identifier: MIT
// read_step_line (journal/step_line.hpp) against FlatLine and read_entry: a line it reads gives
// the record, seq, time and "prev" the general way gives; every other line it leaves alone.
#include "journal/flat_line.hpp"
#include "journal/records.hpp"
#include "journal/step_line.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"

#include <boost/json/parse.hpp>
#include <doctest/doctest.h>
#include <random>

using namespace rollback;
using namespace rollback::journal;

namespace {

const std::string k_hash(64, 'a');
const std::string k_prev = "01d8730efdba369577faf62a564871f484f417812eafc513d455ed83305c6308";

std::string line(const std::string& body) {
    return "{\"seq\":7,\"time\":\"2026-12-07T04:58:30.365Z\",\"type\":\"step_" + body +
           ",\"prev\":\"" + k_prev + "\",\"hash\":\"" + k_hash + "\"}";
}

/// Lines of both records in each layout the writer gives them.
const std::vector<std::string> k_written{
    line("started\",\"step\":\"s1\",\"attempt\":1"),
    line("started\",\"step\":\"restore-db.v2\",\"attempt\":12"),
    line("finished\",\"step\":\"s1\",\"attempt\":1,\"status\":\"succeeded\",\"exit_code\":0,"
         "\"duration_ms\":0,\"summary\":\"waited 0ms\",\"output_tail\":\"\",\"details\":{}"),
    line("finished\",\"step\":\"x\",\"attempt\":3,\"status\":\"failed\",\"exit_code\":-9,"
         "\"duration_ms\":120034,\"summary\":\"exit 1 after 2 s\",\"output_tail\":\"line one, "
         "line two {not json} [x]\",\"details\":{}"),
    line("finished\",\"step\":\"h\",\"attempt\":1,\"status\":\"succeeded\",\"duration_ms\":5,"
         "\"summary\":\"GET / 200\",\"output_tail\":\"\",\"details\":{}"),
    line("finished\",\"step\":\"w\",\"attempt\":1,\"status\":\"skipped\",\"summary\":\"when\","
         "\"output_tail\":\"\",\"details\":{}"),
};

/// What the general way reads of `text`, or nothing when FlatLine does not take it.
struct General {
    bool read = false;
    Entry entry;
    std::string prev;
};

General general(const std::string& text) {
    General g;
    FlatLine flat;
    if (!flat.scan(text)) {
        return g;
    }
    g.read = true;
    g.entry = read_entry(flat);
    const FlatValue* p = flat.find("prev");
    g.prev = p != nullptr && p->is_string() && !p->escaped ? std::string(p->text) : "(none)";
    return g;
}

/// "" when read_step_line leaves `text` or reads it as the general way does.
std::string difference(const std::string& text) {
    StepLine s;
    if (!read_step_line(text, s)) {
        return {};
    }
    const General g = general(text);
    if (!g.read) {
        return "FlatLine does not read it";
    }
    if (g.entry.seq != s.entry.seq || g.entry.time != s.entry.time) {
        return "another seq or time";
    }
    if (g.entry.type() != s.entry.type() || to_json(g.entry.record) != to_json(s.entry.record)) {
        return "another record";
    }
    if (g.prev != s.prev) {
        return "another prev";
    }
    return {};
}

} // namespace

TEST_SUITE("journal") {
    TEST_CASE("step line: the writer's step records read as FlatLine reads them") {
        for (const auto& text : k_written) {
            CAPTURE(text);
            StepLine s;
            CHECK(read_step_line(text, s));
            CHECK(difference(text) == "");
        }
        StepLine s;
        REQUIRE(read_step_line(k_written[3], s));
        const auto& f = std::get<StepFinished>(s.entry.record);
        CHECK(f.exit_code == -9);
        CHECK(f.duration_ms == 120034);
        CHECK(f.output_tail == "line one, line two {not json} [x]");
        REQUIRE(read_step_line(k_written[5], s));
        CHECK_FALSE(std::get<StepFinished>(s.entry.record).exit_code);
        CHECK_FALSE(std::get<StepFinished>(s.entry.record).duration_ms);
    }

    TEST_CASE("step line: every other line is left to FlatLine") {
        for (const std::string& text : {
                 line("started\",\"step\":\"s\\u00e9\",\"attempt\":1"), // an escape
                 line("started\",\"step\":\"s1\",\"attempt\":01"),      // a leading zero
                 line("started\",\"step\":\"s1\",\"attempt\":-0"),
                 line("started\",\"step\":\"s1\",\"attempt\":1234567890123456789"),
                 line("started\",\"step\":\"s1\",\"attempt\":1.5"),
                 line("started\",\"step\":\"s1\""),                       // no attempt
                 line("started\",\"attempt\":1,\"step\":\"s1\""),         // another order
                 line("started\",\"step\":\"s1\",\"attempt\":1,\"x\":2"), // another key
                 line("finished\",\"step\":\"s\",\"attempt\":1,\"status\":\"succeeded\","
                      "\"summary\":\"\",\"output_tail\":\"\",\"details\":{\"a\":1}"),
                 line("finished\",\"step\":\"s\",\"attempt\":1,\"status\":\"succeeded\","
                      "\"summary\":\"\",\"output_tail\":\"\",\"details\":{},\"recovered\":true"),
                 line("progress\",\"step\":\"s\",\"stage\":\"x\""),
                 line("started\",\"step\":\"s1\",\"attempt\":1") + " ",
                 line("started\",\"step\":\"s\xC3\xA9\",\"attempt\":1"),
             }) {
            CAPTURE(text);
            StepLine s;
            CHECK_FALSE(read_step_line(text, s));
        }
        std::string quote_in_hash = k_written[0];
        quote_in_hash[quote_in_hash.size() - 10] = '"';
        StepLine s;
        CHECK_FALSE(read_step_line(quote_in_hash, s));
    }

    TEST_CASE("step line: the journals of the fixtures and mutations of step lines agree") {
        std::vector<std::string> lines = k_written;
        size_t taken = 0;
        for (const char* name : {"every_record_type.jsonl", "full_disk.jsonl"}) {
            const std::string text =
                util::read_file(test::source_dir() / "tests" / "fixtures" / "journals" / name);
            for (size_t at = 0; at < text.size();) {
                const size_t nl = text.find('\n', at);
                const std::string one = text.substr(at, nl - at);
                at = nl == std::string::npos ? text.size() : nl + 1;
                CAPTURE(one);
                CHECK(difference(one) == "");
                StepLine s;
                if (read_step_line(one, s)) {
                    ++taken;
                    lines.push_back(one);
                }
            }
        }
        CHECK(taken >= 10); // the fixtures' steps, written by an engine of their day
        const std::vector<std::string> pieces{"\"", "\\",   ",",        ":",      "{", "}",
                                              "[",  "]",    "0",        "1",      "-", " ",
                                              "a",  "\x01", "\xC3\xA9", "\"x\":1"};
        std::mt19937 rng(20261207);
        size_t still_read = 0;
        for (int i = 0; i < 40000; ++i) {
            std::string text = lines[rng() % lines.size()];
            const size_t at = rng() % (text.size() + 1);
            const std::string& piece = pieces[rng() % pieces.size()];
            switch (rng() % 3) {
            case 0:
                text.insert(at, piece);
                break;
            case 1:
                text.erase(at, 1 + rng() % 3);
                break;
            default:
                text.replace(at, 1, piece);
            }
            const std::string d = difference(text);
            if (!d.empty()) {
                CAPTURE(text);
                FAIL(d);
            }
            StepLine s;
            still_read += read_step_line(text, s) ? 1 : 0;
        }
        CHECK(still_read > 1000); // mutations inside strings keep the layout: compared too
    }

    TEST_CASE("step line: a plan's steps read as the writer lays them out or the general way") {
        const std::string head =
            "{\"seq\":1,\"time\":\"2026-12-07T04:58:29.733Z\",\"type\":\"run_started\","
            "\"run_id\":\"r\",\"playbook\":\"/p.toml\",\"steps\":";
        const std::string tail = ",\"prev\":\"" + k_prev + "\",\"hash\":\"" + k_hash + "\"}";
        const std::string a = "{\"id\":\"s1\",\"phase\":\"immediate\",\"action\":\"wait\","
                              "\"idempotent\":true,\"has_probe\":false,\"finally\":false}";
        const std::string b = "{\"id\":\"f\",\"phase\":\"finally\",\"action\":\"exec\","
                              "\"idempotent\":false,\"has_probe\":true,\"finally\":true}";
        std::vector<std::string> arrays{"[]", "[" + a + "]", "[" + a + "," + b + "]",
                                        "[" + a + "," + b + "," + a + "]"};
        std::vector<PlannedStep> steps;
        REQUIRE(read_planned_steps(arrays[2], steps));
        REQUIRE(steps.size() == 2);
        CHECK(steps[1].id == "f");
        CHECK(steps[1].is_finally);
        CHECK(steps[1].has_probe);
        CHECK_FALSE(steps[1].idempotent);
        const std::vector<std::string> pieces{
            "\"", "\\", ",",    ":", "{",        "}",        "[",
            "]",  "1",  "true", " ", "\xC3\xA9", "\"x\":1,", "\"id\":\"y\","};
        std::mt19937 rng(7);
        size_t general = 0;
        for (int i = 0; i < 20000; ++i) {
            std::string arr = arrays[rng() % arrays.size()];
            if (i >= 100) { // the unchanged arrays first, then mutations
                const size_t at = rng() % (arr.size() + 1);
                const std::string& piece = pieces[rng() % pieces.size()];
                rng() % 2 == 0 ? (void)arr.insert(at, piece) : (void)arr.replace(at, 1, piece);
            }
            const std::string text = head + arr + tail;
            FlatLine flat;
            boost::system::error_code ec;
            const auto doc = boost::json::parse(text, ec);
            if (!flat.scan(text) || ec || !doc.is_object()) {
                continue;
            }
            // The line read by FlatLine (with the fast plan reader) and by Boost.JSON agree.
            const Entry fast = read_entry(flat);
            const Entry slow = read_entry(doc.as_object());
            if (to_json(fast.record) != to_json(slow.record)) {
                CAPTURE(text);
                FAIL("the plan read two ways differs");
            }
            steps.clear();
            general += read_planned_steps(arr, steps) ? 0 : 1;
        }
        CHECK(general > 100); // mutations that leave the layout: read the general way
    }
}
