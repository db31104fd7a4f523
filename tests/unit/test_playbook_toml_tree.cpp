// SPDX-License-Identifier: MIT
// The TOML reader's own parse (playbook/toml_tree.hpp) against toml++'s: what parse_plain reads
// it must read as toml++ does — every key, value, type, order and place — and everything else it
// must leave to toml++ (whose messages every bad file still gets).
#include "playbook/toml_reader.hpp"
#include "playbook/toml_tree.hpp"
#include "support/temp_dir.hpp"
#include "toml_tree_compare.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

namespace fs = std::filesystem;
namespace tree = rollback::playbook::tree;
using rollback::fuzz::compare_toml_tree;

namespace {

// Documents of the shape parse_plain reads: each construct of its subset, alone and together.
const std::vector<std::string> k_plain{
    "",
    "# only a comment",
    "a = 1",
    "a = 1\n",
    "a = 1\r\nb = 'x'\r\n",
    "a=1\nb=-2\nc=+3\nd=0\ne=-0\nf=1_000_000\ng=123456789012345678\n",
    "t = true\nf = false # done\n",
    "s = \"plain\"\nl = 'C:\\path\\{{x}}'\ne = \"\"\nq = ''\n",
    "s = \"tab\\there \\\"quoted\\\" back\\\\slash \\b\\f\\n\\r\"\n",
    "u = \"\\u00e9 \\U0001F600 \\u20AC \\u0041\"\n",
    "w = \"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\" # \xC3\xBC\xC3\xAF\nx = 'z\xC3\xA9'",
    "w = { a = \"caf\xC3\xA9\", b = 1, c = '\xE2\x82\xAC', d = [\"\xF0\x9F\x98\x80\", 2] }",
    "nul = \"a\\u0000b\"\n",
    "w = \"caf\xC3\xA9 \xE2\x82\xAC\"\nx = \"after\" # \xE2\x82\xAC\ny = [\"\xC3\xA9\", 'b', 3]\n",
    "bare-key_1 = 1\n\"quoted key\" = 2\n'literal key' = 3\n1234 = 4\ntrue = 5\n",
    "a.b.c = 1\na.b.d = 2\na.e = 3\n\"x\".'y' . z = 4\n",
    "  \t indented = 1\t# tab\n",
    "arr = [1, 2, 3]\nempty = []\nmixed = [1, \"two\", true, [3], {x = 4}]\n",
    "arr = [\n  1, # one\n  2,\n\n  # a comment line\n  3,\n]\n",
    "nested = [[1, 2], [\"a\", ['b']], [], [[[]]]]\n",
    "it = {}\nit2 = { a = 1, b = \"two\", c = [3], d = { e = 5 } }\nit3 = {x.y = 1, x.z = 2}\n",
    "points = [ { x = 1, y = 2 }, { x = 7, y = 8 } ]\n",
    "[t]\na = 1\n[u]\nb = 2\n",
    "[ a . b ]\nc = 1\n[a.d]\ne = 2\n",
    "[a]\nx = 1\n[a.b.c]\ny = 2\n[a.b2]\n",
    "[[step]]\nid = \"one\"\n[[step]]\nid = \"two\"\nneeds = [\"one\"]\n",
    "[[a.b]]\nx = 1\n[[a.b]]\nx = 2\n[a.b.c]\ny = 3\n[[a.b.d]]\nz = 4\n",
    "[[fruit]]\nname = \"apple\"\n[fruit.physical]\ncolor = \"red\"\n[[fruit.variety]]\n"
    "name = \"red delicious\"\n[[fruit]]\nname = \"banana\"\n[[fruit.variety]]\n"
    "name = \"plantain\"\n",
    "[playbook]\nname = \"shop\"\n[playbook.hooks]\non-trigger = [\"notify\"]\n[vars]\n"
    "dsn = { env = \"DSN\", secret = true, default = \"postgresql:///shop\" }\n[[step]]\n"
    "id = \"x\"\naction = \"exec\"\nargv = [\"sh\", \"-c\", \"echo $V\"]\nenv = { V = \"{{dsn}}\" "
    "}\n"
    "timeout = \"30s\"\nretries = 2\n[[finally]]\nid = \"f\"\naction = \"wait\"\n"
    "duration = \"0s\"\n",
    "a = 1 # no line break at the end",
    "[table] # comment\n",
    "[[t]]",
};

// Documents it leaves to toml++ (valid or not).
const std::vector<std::string> k_left{
    "f = 1.5\n",
    "f = 1e3\n",
    "f = inf\n",
    "d = 1979-05-27\n",
    "d = 1979-05-27T07:32:00Z\n",
    "t = 07:32:00\n",
    "h = 0xff\n",
    "big = 1234567890123456789\n",
    "m = \"\"\"\nmulti\n\"\"\"\n",
    "m = '''\nraw\n'''\n",
    "\xEF\xBB\xBF"
    "a = 1\n",
    "\"\" = 1\n",
    "a = 1\na = 2\n",
    "[a.b]\n[a]\nc = 1\n",
    "[a]\nb.c = 1\n[a.b.d]\n",
    "a = {b = 1}\na.c = 2\n",
    "c1 = \"\xC2\x85\"\n",
    "x = \"\\uD800\"\n",
    "deep.a.b.c.d = 1\n",
    "x = [[[[[[[[[1]]]]]]]]]\n",
    "a = 1 b = 2\n",
    "a = { b = 1, }\n",
    "a = { b = 1\n}\n",
    "ctrl = \"\x01\"\n",
    "# bad \x7F\n",
    "lone = 1\rb = 2\n",
};

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("toml tree: a plain document is read as toml++ reads it") {
        for (const auto& doc : k_plain) {
            CAPTURE(doc);
            const auto c = compare_toml_tree(doc);
            CHECK(c.plain);
            CHECK(c.difference == "");
        }
    }

    TEST_CASE("toml tree: what is not plain is left to toml++ which reads it as before") {
        for (const auto& doc : k_left) {
            CAPTURE(doc);
            CHECK_FALSE(tree::parse_plain(std::make_shared<const std::string>(doc)));
        }
        rollback::playbook::TomlReader r("f.toml");
        auto parsed = r.parse("f = 1.5\nd = 1979-05-27\nm = \"\"\"\nab\"\"\"\n[a.b]\n[a]\nc = 1\n");
        REQUIRE(parsed);
        const tree::Table& root = parsed->root();
        CHECK(root.get("f")->floating_point() == 1.5);
        CHECK(root.get("d")->type() == tree::Type::date);
        CHECK(root.get("m")->string() == "ab");
        CHECK(root.get_table("a")->get("c")->integer() == 1);
        CHECK(root.get_table("a")->get_table("b") != nullptr);
        CHECK(r.where(*root.get("m")).line == 3);
        CHECK(r.where(root.find("a")->key).line == 5); // made by [a.b], defined by [a]
        CHECK(r.where(*root.get_table("a")).line == 6);
    }

    TEST_CASE("toml tree: every invalid document of toml-test is left to toml++") {
        const fs::path dir = rollback::test::source_dir() / "tests/data/toml-invalid";
        size_t documents = 0;
        for (const auto& entry : fs::recursive_directory_iterator(dir)) {
            if (entry.path().extension() != ".toml") {
                continue;
            }
            CAPTURE(entry.path());
            const auto c = compare_toml_tree(read(entry.path()));
            CHECK(c.difference == "");
            ++documents;
        }
        CHECK(documents > 500);
    }

    TEST_CASE("toml tree: mutations of plain documents are read as toml++ reads them or left") {
        std::vector<std::string> corpus = k_plain;
        for (const char* f : {"playbooks/ecommerce.toml", "playbooks/code-only.toml",
                              "playbooks/database-only.toml", "examples/hello/hello.toml",
                              "tests/fixtures/journals/every_record_type.toml"}) {
            corpus.push_back(read(rollback::test::source_dir() / f));
            REQUIRE_FALSE(corpus.back().empty());
        }
        const std::vector<std::string> pieces{
            "\"",      "'",           "[",        "]",        "[[",   "]]",     "{",    "}",
            ".",       "=",           ",",        "#",        "\n",   "\r\n",   "\r",   " ",
            "\t",      "a",           "1",        "_",        "-",    "+",      "0",    "\\",
            "\\u00e9", "\\U0001F600", "\xC3\xA9", "\xC2\x85", "\x01", "\"\"\"", "true", "1.5",
            "x.y",     "a = 1\n",     "[a]\n",    "[[a]]\n"};
        std::mt19937 rng(20261207);
        size_t read_alike = 0;
        for (int i = 0; i < 30000; ++i) {
            std::string doc = corpus[rng() % corpus.size()];
            for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
                const size_t at = rng() % (doc.size() + 1);
                const std::string& piece = pieces[rng() % pieces.size()];
                switch (rng() % 3) {
                case 0:
                    doc.insert(at, piece);
                    break;
                case 1:
                    doc.erase(at, 1 + rng() % 3);
                    break;
                default:
                    doc.replace(at, 1, piece);
                }
            }
            const auto c = compare_toml_tree(doc);
            if (!c.difference.empty()) {
                CAPTURE(doc);
                FAIL(c.difference);
            }
            read_alike += c.plain ? 1 : 0;
        }
        // Most mutants are no TOML at all; enough are, for the comparison to mean something.
        CHECK(read_alike > 3000);
    }

    TEST_CASE("toml tree: thousands of keys in one table and steps in one array") {
        std::string doc = "[vars]\n";
        for (int i = 20000; i > 0; --i) {
            doc += "v" + std::to_string(i) + " = \"" + std::to_string(i) + "\"\n";
        }
        for (int i = 1; i <= 20000; ++i) {
            doc += "[[step]]\nid = \"s" + std::to_string(i) + "\"\n";
        }
        auto parsed = tree::parse_plain(std::make_shared<const std::string>(doc));
        REQUIRE(parsed);
        const tree::Table& vars = *parsed->root().get_table("vars");
        REQUIRE(vars.size() == 20000);
        CHECK(vars.get("v1")->string() == "1");
        CHECK(vars.get("v20000")->string() == "20000");
        CHECK(vars.get("v20001") == nullptr);
        CHECK(vars.begin()->key.str() == "v1"); // byte order: v1, v10, v100, ...
        CHECK(std::next(vars.begin())->key.str() == "v10");
        const tree::Array& steps = *parsed->root().get_array("step");
        REQUIRE(steps.size() == 20000);
        CHECK(steps[19999].as_table()->get("id")->string() == "s20000");
        CHECK(steps[19999].source().begin.line == 20002 + 2 * 19999);
        CHECK(compare_toml_tree(doc).difference == "");
    }
}
