// SPDX-License-Identifier: MIT
// Formatting many diagnostics of one file (break-it 45 F4): each file is read once for all its
// diagnostics (reading it again for each one made `validate` quadratic: 42 s for 20,000 errors),
// and at most k_max_shown_per_file of a file are shown, then one line counts the rest.
#include "util/error.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace rollback;

namespace {

std::vector<util::Diagnostic> one_per_line(const std::string& file, int lines) {
    std::vector<util::Diagnostic> ds;
    for (int i = 1; i <= lines; ++i) {
        ds.push_back({{file, i, 1}, "step \"s" + std::to_string(i) + "\"", "unknown key", ""});
    }
    return ds;
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

} // namespace

TEST_SUITE("util") {
    TEST_CASE("diagnostics: each file is read once however many diagnostics it has") {
        test::TempDir dir;
        std::string text;
        for (int i = 1; i <= 300; ++i) {
            text += "bogus" + std::to_string(i) + " = 1\n";
        }
        const std::string a = dir.write("a.toml", text);
        const std::string b = dir.write("b.toml", text);
        std::vector<util::Diagnostic> ds = one_per_line(a, 80);
        const std::vector<util::Diagnostic> more = one_per_line(b, 80);
        ds.insert(ds.end(), more.begin(), more.end());
        ds.push_back({{a, 300, 1}, "", "last", ""}); // a again, after b
        const size_t before = util::source_reads();
        const std::string shown = util::format_diagnostics(ds);
        CHECK(util::source_reads() - before == 2);
        // Every line still echoed as before, the last line of the file too.
        CHECK(shown.find("a.toml:1:1: error: step \"s1\": unknown key\n    bogus1 = 1\n    ^\n") !=
              std::string::npos);
        CHECK(shown.find("a.toml:300:1: error: last\n    bogus300 = 1\n") != std::string::npos);
        CHECK(shown.find("b.toml:80:1: error: step \"s80\": unknown key\n    bogus80 = 1\n") !=
              std::string::npos);
    }

    TEST_CASE("diagnostics: at most 100 of a file are shown and then how many more") {
        test::TempDir dir;
        std::string text;
        for (int i = 1; i <= 250; ++i) {
            text += "x = 1\n";
        }
        const std::string a = dir.write("a.toml", text);
        std::vector<util::Diagnostic> ds = one_per_line(a, 250);
        ds.push_back({{dir.write("b.toml", "y = 2\n"), 1, 1}, "", "other file", ""});
        const std::string shown = util::format_diagnostics(ds);
        CHECK(count(shown, "a.toml:") == util::k_max_shown_per_file + 1); // and the count line
        CHECK(shown.find("a.toml:100:1: error: step \"s100\"") != std::string::npos);
        CHECK(shown.find("a.toml:101:1:") == std::string::npos);
        CHECK(shown.find("b.toml:1:1: error: other file") != std::string::npos); // its own cap
        CHECK(shown.ends_with(a + ": and 150 more errors not shown (the first 100 of a file are; "
                                  "validate --json lists all)\n"));
        // The exception keeps every diagnostic (validate --json prints them all).
        try {
            throw util::InvalidInput(ds);
        } catch (const util::InvalidInput& e) {
            CHECK(e.diagnostics().size() == 251);
            CHECK(std::string(e.what()) == shown);
        }
        // Warnings are counted as warnings.
        CHECK(util::format_diagnostics(one_per_line(a, 101), "warning")
                  .ends_with(a + ": and 1 more warning not shown (the first 100 of a file are; "
                                 "validate --json lists all)\n"));
    }
}
