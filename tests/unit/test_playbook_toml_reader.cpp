// SPDX-License-Identifier: MIT
#include "playbook/toml_reader.hpp"

#include <doctest/doctest.h>

using rollback::playbook::TomlReader;

TEST_SUITE("playbook") {
    TEST_CASE("toml reader: syntax error is one located diagnostic") {
        TomlReader r("conf/x.toml");
        CHECK_FALSE(r.parse("a = 1\nb = = 2\n"));
        REQUIRE(r.diagnostics().size() == 1);
        const auto& d = r.diagnostics()[0];
        CHECK(d.where.file == "conf/x.toml");
        CHECK(d.where.line == 2);
        CHECK(d.where.column >= 1);
        CHECK(d.subject == "syntax");
        CHECK_FALSE(d.problem.empty());
    }

    TEST_CASE("toml reader: unknown keys with did-you-mean — located at the key") {
        TomlReader r("c.toml");
        auto t = r.parse("[s]\ntimeout = \"1s\"\n  timout = 3\nzzzzzzzz = 1\n");
        REQUIRE(t);
        CHECK_FALSE(r.check_keys(*t->root().get_table("s"), "[s]", {"timeout", "retries"}));
        REQUIRE(r.diagnostics().size() == 2);
        CHECK(r.diagnostics()[0].problem == R"(unknown key "timout" (did you mean "timeout"?))");
        CHECK(r.diagnostics()[0].where.line == 3);
        CHECK(r.diagnostics()[0].where.column == 3);
        CHECK(r.diagnostics()[0].subject == "[s]");
        CHECK(r.diagnostics()[1].problem == R"(unknown key "zzzzzzzz")");
    }

    TEST_CASE("toml reader: typed getters report and keep going") {
        TomlReader r("c.toml");
        auto parsed = r.parse("n = \"3\"\nm = 200\nok = 7\nd = \"5 s\"\ne = \"1m30s\"\n"
                              "b = 1\na = [\"x\", 2]\ns = [\"p\", \"q\"]\ntb = 4\n");
        REQUIRE(parsed);
        const auto& t = parsed->root();
        CHECK_FALSE(r.get_int(t, "n", "x", 0, 100));
        CHECK_FALSE(r.get_int(t, "m", "x", 0, 100));
        CHECK(r.get_int(t, "ok", "x", 0, 100) == 7);
        CHECK_FALSE(r.get_int(t, "absent", "x", 0, 100));
        CHECK_FALSE(r.get_duration(t, "d", "x"));
        CHECK(r.get_duration(t, "e", "x") == rollback::util::Millis(90'000));
        CHECK_FALSE(r.get_bool(t, "b", "x"));
        CHECK_FALSE(r.get_string_array(t, "a", "x"));
        CHECK(r.get_string_array(t, "s", "x") == std::vector<std::string>{"p", "q"});
        CHECK(r.get_table(t, "tb", "x") == nullptr);
        CHECK_FALSE(r.require(t, "must", "x", r.where(t)));
        std::vector<std::string> problems;
        for (const auto& d : r.diagnostics()) {
            problems.push_back(d.problem);
        }
        CHECK(problems == std::vector<std::string>{
                              R"(key "n": expected an integer, got a string)",
                              R"(key "m": 200 is out of range (0..100))",
                              R"(key "d": invalid duration "5 s")",
                              R"(key "b": expected a boolean, got an integer)",
                              R"(key "a": expected an array of strings, element 2 is an integer)",
                              R"(key "tb": expected a table, got an integer)",
                              R"(missing required key "must")",
                          });
        CHECK(r.diagnostics()[0].where.line == 1);
        CHECK(r.diagnostics()[0].where.column == 5);
        CHECK_THROWS_AS(r.throw_if_errors(), rollback::util::InvalidInput);
    }
}

TEST_SUITE("playbook") {
    TEST_CASE("toml reader: nesting past the bound is one located error before toml++ runs") {
        using rollback::playbook::k_max_toml_depth;
        for (int levels : {20000, 100000}) {
            std::string deep = "x = 1\n";
            for (int i = 0; i < levels; ++i) {
                deep += i == 0 ? "a" : ".a";
            }
            deep += " = 1\n";
            TomlReader r("deep.toml");
            CHECK_FALSE(r.parse(deep));
            REQUIRE(r.diagnostics().size() == 1);
            CHECK(r.diagnostics()[0].where.line == 2);
            CHECK(r.diagnostics()[0].where.column == 2 * k_max_toml_depth);
            CHECK(r.diagnostics()[0].problem == "nested deeper than 64 levels");
        }
        for (const char* open : {"[", "{a="}) {
            std::string text = "v = ";
            for (int i = 0; i < 100000; ++i) {
                text += open;
            }
            TomlReader r("deep.toml");
            CHECK_FALSE(r.parse(text));
            REQUIRE(r.diagnostics().size() == 1);
            CHECK(r.diagnostics()[0].problem == "nested deeper than 64 levels");
        }
        std::string header = "[";
        for (int i = 0; i < 1000; ++i) {
            header += i == 0 ? "t" : ".t";
        }
        TomlReader r("deep.toml");
        CHECK_FALSE(r.parse(header + "]\nk = 1\n"));
        REQUIRE(r.diagnostics().size() == 1);
    }

    TEST_CASE("toml reader: the depth counts headers — keys and values together") {
        auto parses = [](const std::string& text) {
            TomlReader r("d.toml");
            return r.parse(text).has_value();
        };
        auto dotted = [](int n) {
            std::string k = "k0";
            for (int i = 1; i < n; ++i) {
                k += ".k" + std::to_string(i);
            }
            return k;
        };
        CHECK(parses(dotted(64) + " = 1\n"));
        CHECK_FALSE(parses(dotted(65) + " = 1\n"));
        CHECK(parses("[" + dotted(32) + "]\n" + dotted(32) + " = 1\n"));
        CHECK_FALSE(parses("[" + dotted(32) + "]\n" + dotted(33) + " = 1\n"));
        CHECK_FALSE(parses("[" + dotted(32) + "]\n" + dotted(32) + " = [1]\n"));
        // Dots in strings, quoted keys, floats and dates are not levels.
        CHECK(parses(dotted(60) +
                     " = [1.5, \"a.b.c.d.e.f\", 1979-05-27T07:32:00.5Z]\n"
                     "\"" +
                     dotted(200) + "\" = 'x.y'\n"));
    }

    TEST_CASE("toml reader: a non-ASCII byte outside strings and comments is an error") {
        TomlReader r("u.toml");
        CHECK_FALSE(r.parse("a = 1\nμ = \"x\"\n"));
        REQUIRE(r.diagnostics().size() == 1);
        CHECK(r.diagnostics()[0].where.line == 2);
        CHECK(r.diagnostics()[0].where.column == 1);
        CHECK(r.diagnostics()[0].problem == "non-ASCII character outside a string or a comment");
        TomlReader ok("u.toml");
        auto t = ok.parse("# μ-service\n\"μ\" = \"€ 5\" # ünïcode\nm = '''\nμ\n'''\n");
        REQUIRE(t);
        CHECK(t->root().get("μ")->value<std::string>() == "€ 5");
        TomlReader bom("bom.toml");
        CHECK(bom.parse("\xEF\xBB\xBF"
                        "a = 1\n"));
    }
}
