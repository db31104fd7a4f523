// SPDX-License-Identifier: MIT
// Journals written before the records were typed (tests/fixtures/journals/README.md): they
// verify, fold and report as they did, and every record written again gives its line byte for
// byte.
#include "journal/paths.hpp"
#include "journal/reader.hpp"
#include "journal/records.hpp"
#include "journal/state.hpp"
#include "journal/writer.hpp"
#include "report/run_report.hpp"
#include "state/local_store.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/sha256.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>
#include <set>

using namespace rollback;
using namespace rollback::journal;

namespace {

std::filesystem::path fixture(const std::string& name) {
    return test::source_dir() / "tests" / "fixtures" / "journals" / name;
}

/// The report's text with the journal's path (which names where the fixture was read) cut out.
std::string without_path(std::string text) {
    const std::string key = "\ntimeline (";
    const size_t at = text.find(key);
    REQUIRE(at != std::string::npos);
    const size_t end = text.find("):\n", at);
    REQUIRE(end != std::string::npos);
    return text.erase(at + key.size(), end - at - key.size());
}

} // namespace

TEST_SUITE("journal") {
    TEST_CASE("old journals: every record written again is its line byte for byte") {
        std::set<RecordType> seen;
        for (const char* name : {"every_record_type.jsonl", "full_disk.jsonl"}) {
            INFO(name);
            const Journal j = read(fixture(name));
            CHECK(verify(fixture(name)).ok);
            CHECK(j.warnings.empty());
            std::string prev(k_zero_hash);
            for (size_t i = 1; i <= j.records.size(); ++i) {
                const Entry& e = j.records[i - 1];
                INFO("line " << i + 1 << ": " << j.line(i));
                CHECK(e.type() != RecordType::unknown);
                seen.insert(e.type());
                // What a writer of today appends for this record, at its seq and time, after
                // the line before it.
                prev = util::sha256_hex(j.line(i - 1));
                CHECK(record_line(to_json(e.record), static_cast<std::uint64_t>(e.seq), e.time,
                                  prev) == j.line(i));
                // And the record read back from that JSON is the same record.
                CHECK(to_json(read_entry(to_json(e.record)).record) == to_json(e.record));
            }
        }
        for (auto t = RecordType::run_started; t != RecordType::unknown;
             t = static_cast<RecordType>(static_cast<int>(t) + 1)) {
            INFO("record type " << to_string(t));
            if (t == RecordType::step_process_exited || t == RecordType::step_host_started ||
                t == RecordType::step_host_finished || t == RecordType::run_handed_over ||
                t == RecordType::run_abandoned || t == RecordType::step_sessions) {
                continue; // newer than these journals (read back in test_journal_records.cpp and
                          // test_report_run_report.cpp)
            }
            CHECK(seen.count(t) == 1);
        }
    }

    TEST_CASE("old journals: status and report are what they were") {
        for (const std::string name : {"every_record_type", "full_disk"}) {
            INFO(name);
            const Journal j = read(fixture(name + ".jsonl"));
            const RunState s = fold(j, false);
            const report::RunContext ctx;
            // Written by `rollback status RUN_ID --json` of the engine that wrote the journal.
            auto before = boost::json::parse(util::read_file(fixture(name + ".status.json")));
            auto& o = before.as_object();
            for (const char* extra : {"bad_releases", "leftover_databases",
                                      "leftover_databases_not_checked", "awaiting_approval"}) {
                o.erase(extra);
            }
            auto now = report::status_json(s, ctx);
            // Newer than these journals: the checks a person forced past (none here).
            REQUIRE(now.contains("not_verified"));
            CHECK(now.at("not_verified").as_array().empty());
            boost::json::object kept; // in order: object::erase moves the last member
            for (const auto& member : now) {
                if (member.key() != "not_verified") {
                    kept.emplace(member.key(), member.value());
                }
            }
            CHECK(boost::json::serialize(kept) == boost::json::serialize(o));
            // Written by `rollback report RUN_ID` of that engine.
            CHECK(without_path(report::format_report(j, s, ctx)) ==
                  without_path(util::read_file(fixture(name + ".report.txt"))));
        }
    }

    TEST_CASE("old journals: the report written as the journal is read is what it was") {
        for (const std::string name : {"every_record_type", "full_disk"}) {
            INFO(name);
            test::TempDir dir;
            const Journal j = read(fixture(name + ".jsonl"));
            const std::string run_id = j.run_id();
            std::filesystem::create_directories(dir / "runs");
            std::filesystem::copy_file(fixture(name + ".jsonl"),
                                       journal::journal_path(dir.path(), run_id));
            // Its records not kept: each folded and written into the timeline as it comes.
            CHECK(without_path(report::report_text(state::LocalStore(dir.path()), run_id, "")) ==
                  without_path(util::read_file(fixture(name + ".report.txt"))));
        }
    }

    TEST_CASE("old journals: folded as they are read they give the fold of the whole journal") {
        test::TempDir dir;
        // A record of a type this engine does not know (without a hash: the chain is broken
        // there) and a torn last line: warnings of the fold and of the journal, in their order.
        const auto file =
            dir.write("run.jsonl", util::read_file(fixture("every_record_type.jsonl")) +
                                       "{\"seq\":999,\"type\":\"mystery\"}\n{\"seq\":10");
        const Journal whole = read(file);
        Fold fold;
        const RecordSink each = [&fold](Entry&& e) { fold.apply(e); };
        const Journal streamed = read(file, &each);
        CHECK(streamed.records.empty());
        CHECK(streamed.text.empty());
        CHECK(streamed.warnings == whole.warnings);
        CHECK(streamed.valid_bytes == whole.valid_bytes);
        CHECK(streamed.run_id() == whole.run_id());
        const RunState a = fold.finish(streamed, false);
        const RunState b = journal::fold(whole, false);
        CHECK(a.warnings == b.warnings);
        REQUIRE(b.warnings.size() == 3); // not intact, torn last line, unknown type
        CHECK(b.warnings[0].find("is NOT intact: line 53 (seq 52)") != std::string::npos);
        CHECK(b.warnings[2] == "record 999 (mystery) is of an unknown type; ignored");
        const report::RunContext ctx;
        CHECK(boost::json::serialize(report::status_json(a, ctx)) ==
              boost::json::serialize(report::status_json(b, ctx)));
        CHECK(report::format_status(a, ctx) == report::format_status(b, ctx));
    }
}
