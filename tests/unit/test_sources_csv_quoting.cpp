// SPDX-License-Identifier: MIT
// RFC 4180 quoting in a `timestamp,value` CSV (docs/decision.md, "Spreadsheet exports read as
// written"): a field in double quotes reads as the same field unquoted, and a quoting error is a
// located bad row, never a misread value.
#include "sources/csv.hpp"

#include "util/error.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

using namespace rollback::sources;

namespace {

// A field as an export may write it: plain, quoted, quoted with blanks around.
std::string dress(const std::string& field, std::mt19937& rng) {
    switch (rng() % 4) {
    case 0:
        return field;
    case 1:
        return "\"" + field + "\"";
    case 2:
        return " \"" + field + "\" ";
    default:
        return "\"" + field + "\"\t";
    }
}

std::string iso(int i) {
    const int minutes = i * 5;
    char buf[32];
    std::snprintf(buf, sizeof buf, "2026-03-01 %02d:%02d:00", (minutes / 60) % 24, minutes % 60);
    return buf;
}

} // namespace

TEST_SUITE("sources: csv quoting") {
    TEST_CASE("csv: every row quoted at random reads as the plain file") {
        std::mt19937 rng(4180);
        for (int round = 0; round < 200; ++round) {
            std::string plain = "timestamp,value\n";
            std::string dressed = rng() % 2 ? "\"timestamp\",\"value\"\r\n" : "timestamp,value\n";
            const int rows = 1 + static_cast<int>(rng() % 200);
            for (int i = 0; i < rows; ++i) {
                const std::string when = iso(i);
                const std::string value = std::to_string(static_cast<int>(rng() % 2000) - 1000) +
                                          "." + std::to_string(rng() % 1000);
                plain += when + "," + value + "\n";
                dressed += dress(when, rng) + "," + dress(value, rng) + "\r\n";
            }
            CsvStats a, b;
            const auto want = parse_value_csv(plain, "plain.csv", &a);
            const auto got = parse_value_csv(dressed, "quoted.csv", &b);
            REQUIRE(got.size() == want.size());
            for (size_t i = 0; i < got.size(); ++i) {
                CHECK(got[i].time == want[i].time);
                CHECK(got[i].value == want[i].value);
            }
            CHECK(b.bad == 0);
        }
    }

    TEST_CASE("csv: a quoting error is a located bad row and costs only that row") {
        const std::string text = "\"timestamp\",\"value\"\n"
                                 "\"2026-03-01 00:00:00\",\"1\"\n"
                                 "\"2026-03-01 00:05:00,9\n"             // unterminated
                                 "\"2026-03-01 00:10:00\"x,\"9\"\n"      // text after the quote
                                 "2026-03-01 00:15:00,9\"\n"             // quote in a plain field
                                 "\"2026-03-01 00:20:00\",\"9\",\"1\"\n" // three fields
                                 "\"2026-03-01 00:25:00\",\"1,5\"\n"     // a decimal comma
                                 "\"2026-03-01 00:30:00\",\"2\"\n";
        CsvStats st;
        const auto rows = parse_value_csv(text, "q.csv", &st);
        REQUIRE(rows.size() == 2);
        CHECK(rows[0].value == 1);
        CHECK(rows[1].value == 2);
        CHECK(st.bad == 5);
        CHECK(st.first_bad == "q.csv:3:1: row: a quote at column 1 is not closed");
    }

    TEST_CASE("csv: a quoted decimal comma is refused with a hint") {
        const std::string text = "timestamp,value\n\"2026-03-01 00:00:00\",\"1,5\"\n";
        try {
            parse_value_csv(text, "eu.csv");
            FAIL("expected InvalidInput");
        } catch (const rollback::util::InvalidInput& e) {
            REQUIRE(e.diagnostics().size() == 1);
            const auto& d = e.diagnostics()[0];
            CHECK(d.where.column == 23);
            CHECK(d.problem == "not a number: \"1,5\"");
            CHECK(d.hint == "write the decimal separator as a point (1.5)");
        }
    }

    TEST_CASE("csv: a doubled quote inside a quoted field is one quote") {
        // A value "9""" is the text 9" — not a number, so a bad row; the header reads as written.
        const std::string text = "\"timestamp\",\"value\"\n"
                                 "\"2026-03-01 00:00:00\",\"9\"\"\"\n"
                                 "\"2026-03-01 00:05:00\",\"7\"\n";
        CsvStats st;
        const auto rows = parse_value_csv(text, "d.csv", &st);
        REQUIRE(rows.size() == 1);
        CHECK(rows[0].value == 7);
        CHECK(st.first_bad == "d.csv:2:23: value: not a number: \"9\\\"\"");
    }
}
