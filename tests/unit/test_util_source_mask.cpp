// SPDX-License-Identifier: MIT
// Secrets never appear (DESIGN.md, trust invariant 6) in the source line a diagnostic echoes: a
// .env line shows its name only, a TOML line that did not parse its structure only.
#include "util/source_mask.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

using namespace rollback;

TEST_SUITE("util") {
    TEST_CASE("source mask: a .env line keeps its name — the value is ***") {
        struct Case {
            std::string line;
            int column;
            std::string shown;
            int shown_column;
        };
        for (const auto& c : std::vector<Case>{
                 {"TOKEN=\"Zq8SecretCanaryXy71", 7, "TOKEN=\"***", 7},
                 {"TOKEN='Zq8SecretCanaryXy71", 7, "TOKEN='***", 7},
                 {"export  TOKEN Zq8SecretCanaryXy71", 1, "export  TOKEN ***", 1},
                 {"  TOKEN = Zq8Secret # note", 3, "  TOKEN = ***", 3},
                 {"Zq8SecretCanaryXy71", 1, "***", 1},
                 {"Zq8+Secret==x", 1, "***", 1},
                 {"9Zq8Secret=x", 1, "***", 1},
                 {"TOKEN=\"Zq8Secret", 12, "TOKEN=\"***", 8},
             }) {
            int column = c.column;
            INFO(c.line);
            CHECK(util::dotenv_line_masked(c.line, column) == c.shown);
            CHECK(column == c.shown_column);
        }
    }

    TEST_CASE("source mask: a TOML line shows its structure — strings and comments are ***") {
        const std::string text =
            "[state]\n"
            "dsn = \"postgresql://rb:Sekr3tPassw0rdQ@db/rb\" x\n"
            "a = 'lit' # Sekr3tComment\n"
            "m = \"\"\"first\n"
            "Sekr3tMiddle \\\" still\n"
            "end\"\"\" y\n"
            "pw = { env = \"PW\", secret = true, default = \"Sekr3tDef\" x }\n";
        int column = 47;
        CHECK(util::toml_line_masked(text, 2, column) == "dsn = \"***\" x");
        CHECK(column == 13);
        column = 1;
        CHECK(util::toml_line_masked(text, 3, column) == "a = '***' #***");
        column = 3;
        CHECK(util::toml_line_masked(text, 5, column) == "***");
        CHECK(column == 1);
        column = 8;
        CHECK(util::toml_line_masked(text, 6, column) == "***\"\"\" y");
        CHECK(column == 8);
        column = 60;
        CHECK(util::toml_line_masked(text, 7, column) ==
              "pw = { env = \"***\", secret = true, default = \"***\" x }");
        column = 1;
        CHECK(util::toml_line_masked(text, 99, column).empty());
    }

    TEST_CASE("source mask: format_diagnostic echoes by the diagnostic's rule") {
        test::TempDir dir;
        auto env = dir.write(".env", "A=1\nTOKEN=\"Zq8SecretCanaryXy71\n");
        auto toml =
            dir.write("r.toml", "[state]\ndsn = \"postgresql://rb:Sekr3tPassw0rdQ@db/rb\" x\n");
        std::string shown = util::format_diagnostic(
            {{env.string(), 2, 7}, ".env", "unterminated", "", util::SourceEcho::dotenv});
        CHECK(shown.find("Zq8") == std::string::npos);
        CHECK(shown.find("    TOKEN=\"***\n          ^\n") != std::string::npos);
        shown = util::format_diagnostic(
            {{toml.string(), 2, 47}, "syntax", "expected", "", util::SourceEcho::toml_masked});
        CHECK(shown.find("Sekr3t") == std::string::npos);
        CHECK(shown.find("    dsn = \"***\" x\n                ^\n") != std::string::npos);
        // The plain rule shows the line (what is registered is masked when it is printed),
        // but the userinfo of a URL in it: the engine refuses it before registering it.
        shown = util::format_diagnostic({{toml.string(), 2, 47}, "x", "y", ""});
        CHECK(shown.find("Sekr3tPassw0rdQ") == std::string::npos);
        CHECK(shown.find("    dsn = \"postgresql://rb:***@db/rb\" x\n") != std::string::npos);
        auto other = dir.write("o.toml", "[step]\nflag = \"x\"\n");
        shown = util::format_diagnostic({{other.string(), 2, 1}, "x", "y", ""});
        CHECK(shown.find("    flag = \"x\"\n    ^\n") != std::string::npos);
    }

    TEST_CASE("source mask: the userinfo of every URL on a line is *** — the caret follows") {
        // break-it 23/03: the diagnostic refusing user:password@ quoted the password.
        struct Case {
            std::string line;
            int column;
            std::string shown;
            int shown_column;
        };
        for (const auto& c : std::vector<Case>{
                 {"url = \"http://deploy:HttpUserinfoSecret66@127.0.0.1:8000/health\"", 7,
                  "url = \"http://deploy:***@127.0.0.1:8000/health\"", 7},
                 {"url = \"http://deploy:HttpUserinfoSecret66@127.0.0.1:8000/health\" # x", 68,
                  "url = \"http://deploy:***@127.0.0.1:8000/health\" # x", 51},
                 {"a = 'https://TokenOnly99@github.com/x' b = \"postgres://u:p%40ss@h/db\"", 1,
                  "a = 'https://***@github.com/x' b = \"postgres://u:***@h/db\"", 1},
                 {"u = \"http://user:pa@ss@host/\"", 1, "u = \"http://user:***@host/\"", 1},
                 {"u = \"http://host/path@x:y\"", 1, "u = \"http://host/path@x:y\"", 1},
                 {"u = \"http://host:8080/\"", 1, "u = \"http://host:8080/\"", 1},
                 {"u = \"http://user:@host/\"", 1, "u = \"http://user:@host/\"", 1},
                 {"no url here: a@b c:d", 5, "no url here: a@b c:d", 5},
             }) {
            int column = c.column;
            INFO(c.line);
            CHECK(util::url_userinfo_masked(c.line, column) == c.shown);
            CHECK(column == c.shown_column);
        }
    }
}
