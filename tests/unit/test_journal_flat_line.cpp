// SPDX-License-Identifier: MIT
// The journal's plain-line reader (journal/flat_line.hpp): a line it takes reads as the same
// record as through Boost.JSON; a line it refuses is left to Boost.JSON.
#include "journal/flat_line.hpp"

#include "journal/reader.hpp"
#include "journal/writer.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>
#include <sstream>

using namespace rollback;
using namespace rollback::journal;

namespace {

/// The entry through Boost.JSON, as every line was read before FlatLine.
Entry parsed(std::string_view line) {
    return read_entry(boost::json::parse(line).as_object());
}

/// Whether both readings give the same entry: seq, time and the record's JSON.
void check_same(std::string_view line) {
    INFO(line);
    FlatLine flat;
    REQUIRE(flat.scan(line));
    const Entry a = read_entry(flat);
    const Entry b = parsed(line);
    CHECK(a.seq == b.seq);
    CHECK(a.time == b.time);
    CHECK(a.type() == b.type());
    CHECK(boost::json::serialize(to_json(a.record)) == boost::json::serialize(to_json(b.record)));
}

} // namespace

TEST_SUITE("journal") {
    TEST_CASE("flat line: every plain line of the fixtures reads as through Boost.JSON") {
        std::size_t plain = 0;
        for (const char* name : {"every_record_type.jsonl", "full_disk.jsonl"}) {
            INFO(name);
            std::istringstream lines(
                util::read_file(test::source_dir() / "tests" / "fixtures" / "journals" / name));
            std::string line;
            while (std::getline(lines, line)) {
                FlatLine flat;
                if (flat.scan(line)) {
                    ++plain;
                    check_same(line);
                }
            }
        }
        CHECK(plain > 50); // nearly every line the writer writes is plain
    }

    TEST_CASE("flat line: nested values escapes and every scalar read as through Boost.JSON") {
        check_same(R"({"seq":3,"time":"t","type":"step_finished","step":"a\"b\\c\/d",)"
                   R"("attempt":1,"status":"failed","exit_code":-2,"duration_ms":0,)"
                   R"("summary":"x\b\f\n\r\ty","output_tail":"","details":{"rows":[1,2,)"
                   R"({"k":null}],"ok":true},"left_running":[{"pid":7,"command":"sleep 9",)"
                   R"("left_group":true},"no object",{"pid":"8"}],"recovered":false})");
        check_same(R"({"seq":1,"type":"run_started","run_id":"r","trigger":{"kind":"condition",)"
                   R"("condition":"c","severity":"critical","decision_id":"d"},"pid":12,)"
                   R"("dry_run":true,"steps":[{"id":"a","phase":"code","action":"exec",)"
                   R"("idempotent":true,"has_probe":false,"finally":false},7,{"id":"z",)"
                   R"("finally":true}],"selection":{"only":["a",3],"skip":[],"from":"z"}})");
        check_same(R"({"seq":5,"type":"step_progress","step":"s","stage":"copy","rows":10,)"
                   R"("files":["a","b"],"done":{"x":1},"note":"n\"","none":null,"yes":true})");
        check_same(R"({"seq":6,"type":"step_host_finished","step":"s","attempt":1,"host":"h",)"
                   R"("status":"succeeded","exit_code":0,"duration_ms":12,"summary":"",)"
                   R"("output_tail":"","remote_groups":[4,"5",6]})");
        check_same(R"({"seq":8,"type":"run_handed_over","signal":"SIGTERM","during":"steps",)"
                   R"("step":"s","attempt":2,"step_status":"interrupted","step_summary":"x",)"
                   R"("to":"next_leader","generation":4,"resume":"rollback resume r -c /a b"})");
        check_same(R"({"seq":8,"type":"run_handed_over","signal":"SIGINT","during":"finally",)"
                   R"("attempt":"2","to":"next_leader","generation":"4","resume":"r"})");
        check_same(R"({"seq":9,"type":"run_abandoned","new_run":"r2","by":"a","host":"h",)"
                   R"("pid":5})");
        check_same(R"({"seq":10,"type":"step_sessions","step":"s","attempt":1,"server":"h",)"
                   R"("found":[{"pid":9,"name":"rollback/r/s/1","database":"d","user":"u",)"
                   R"("state":"idle in transaction"},"x"],"outcome":"remain","waited_ms":10000,)"
                   R"("remaining":[{"pid":9}],"why":"pid 9: permission denied"})");
        check_same(R"({"seq":7,"type":"step_teleported","step":"s"})");
        check_same(R"({"type":12,"seq":"8"})");
        check_same(R"({})");
    }

    TEST_CASE("flat line: any other line is refused and left to Boost.JSON") {
        for (const char* line : {R"({"seq": 1})",                  // white space
                                 R"({"s":"\u0041"})",              // a \u escape
                                 "{\"s\":\"caf\xc3\xa9\"}",        // a byte above 0x7F
                                 "{\"s\":\"a\x01\"}",              // a control byte (not JSON)
                                 R"({"n":1.5})",                   // a fraction
                                 R"({"n":1e3})",                   // an exponent
                                 R"({"n":-0})",                    // minus zero
                                 R"({"n":012})",                   // a leading zero (not JSON)
                                 R"({"n":1234567890123456789})",   // more than 18 digits
                                 R"({"n":-18446744073709551616})", // over 64 bits (fuzz_journal)
                                 R"({"a":[{"n":123456789012345678901234567890}]})", // nested
                                 R"({"a":1,"a":2})",             // a duplicate key
                                 R"({"o":{"a":1,"a":2}})",       // a duplicate key nested
                                 R"({"a":[[[[[[[[[1]]]]]]]]]})", // deeper than 8
                                 R"({"a\"b":1})",                // an escaped key
                                 R"({"s":"\x"})",                // an unknown escape (not JSON)
                                 R"({"a":1})"
                                 " ",                 // after the object
                                 R"({"a":1,})",       // a trailing comma (not JSON)
                                 R"({"a" 1})",        // no colon (not JSON)
                                 R"({"a":tru})",      // a cut word (not JSON)
                                 R"({"a":"open)",     // a cut string (not JSON)
                                 R"([1,2])",          // not an object
                                 R"({"a":[1,]})",     // a trailing comma nested (not JSON)
                                 R"({"a":{"b":1)",    // an unclosed object
                                 R"({"a":1}{"b":2})", // two objects
                                 ""}) {
            INFO(line);
            FlatLine flat;
            CHECK(!flat.scan(line));
        }
        // 32 keys are read; a 33rd makes it Boost.JSON's.
        std::string wide = "{";
        for (int i = 0; i < 33; ++i) {
            wide += (i > 0 ? "," : "") + ("\"k" + std::to_string(i) + "\":" + std::to_string(i));
            if (i == 31) {
                FlatLine flat;
                CHECK(flat.scan(wide + "}"));
            }
        }
        FlatLine flat;
        CHECK(!flat.scan(wide + "}"));
    }

    TEST_CASE("flat line: a journal reads the same whichever way each line goes") {
        // The same records, one line plain and the next not (white space, a non-ASCII byte):
        // both readers see the same records, and a break in the chain is found as before.
        test::TempDir dir;
        const auto file = dir.path() / "j.jsonl";
        {
            Writer w = Writer::create(file, {{"run_id", "r"}});
            w.append(to_json(StepStarted{"a", 1}));
            w.append(to_json(Note{"caf\xc3\xa9"}));
            w.append(to_json(Note{"plain"}));
        }
        const Journal j = read(file);
        REQUIRE(j.records.size() == 3);
        CHECK(std::get<Note>(j.records[1].record).text == "caf\xc3\xa9");
        CHECK(std::get<Note>(j.records[2].record).text == "plain");
        CHECK(j.chain_problem.empty());
        CHECK(j.text == util::read_file(file));
        CHECK(j.line(3).find("\"plain\"") != std::string_view::npos);

        std::string text = util::read_file(file);
        const std::size_t at = text.find("\"plain\"");
        REQUIRE(at != std::string::npos);
        text.replace(at, 7, "\"plane\"");
        util::write_file_atomic(file, text);
        const Journal broken = read(file);
        CHECK(broken.chain_problem ==
              "line 4 (seq 3): hash mismatch: the record's bytes were changed");
        CHECK(std::get<Note>(broken.records[2].record).text == "plane");
    }
}
