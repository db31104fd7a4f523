// SPDX-License-Identifier: MIT
// Options of the same kind as those already refused (break-it 45 F3): every action of find that
// runs a program (-exec, -execdir, -ok, -okdir) takes its program as code, and dc's -e,
// --expression, -f, --file and program file, m4's input files and -D bodies are code; find's
// -fprint/-fls files and an argument of the program find runs stay data.
#include "playbook/loader.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <map>
#include <string>
#include <vector>

using namespace rollback;

namespace {

const std::string k_head = "[vars]\nv = \"x\"\n[[step]]\nid = \"s\"\naction = \"exec\"\n";

std::string problems(const test::TempDir& dir, const std::string& argv) {
    std::map<std::string, std::string> env;
    playbook::LoadOptions options;
    options.environment = &env;
    try {
        playbook::load(dir.write("p.toml", k_head + "argv = " + argv + "\n"), options);
    } catch (const util::InvalidInput& e) {
        std::string all;
        for (const auto& d : e.diagnostics()) {
            all += d.problem + "\n";
        }
        return all;
    }
    return {};
}

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("every find action that runs a program takes its program as code") {
        test::TempDir dir;
        for (const std::string action : {"-exec", "-execdir", "-ok", "-okdir"}) {
            for (const std::string before :
                 {"", "\"sudo\", \"-u\", \"app\", ", "\"timeout\", \"5\", \"nice\", "}) {
                const std::string argv = "[" + before + "\"find\", \"/srv\", \"-maxdepth\", " +
                                         "\"1\", \"" + action + "\", \"{{v}}\", \";\"]";
                CAPTURE(argv);
                CHECK(problems(dir, argv).find("{{v}} inside find " + action + " code") !=
                      std::string::npos);
            }
            // An argument of the program it runs is data.
            CHECK(problems(dir, "[\"find\", \"/srv\", \"" + action +
                                    "\", \"rm\", \"-f\", \"{{v}}\", \";\"]")
                      .empty());
        }
        for (const std::string action : {"-fprint", "-fprint0", "-fls", "-name", "-path"}) {
            CAPTURE(action);
            CHECK(problems(dir, "[\"find\", \"/srv\", \"" + action + "\", \"{{v}}\"]").empty());
        }
    }

    TEST_CASE("dc and m4 code and program files are refused and data stays data") {
        test::TempDir dir;
        for (const std::string argv :
             {"[\"dc\", \"-e\", \"{{v}}\"]", "[\"dc\", \"--expression\", \"{{v}}\"]",
              "[\"dc\", \"--expression={{v}}\"]", "[\"dc\", \"-e{{v}}\"]",
              "[\"dc\", \"-f\", \"{{v}}\"]", "[\"dc\", \"--file\", \"{{v}}\"]",
              "[\"dc\", \"{{v}}\"]", "[\"m4\", \"{{v}}\"]", "[\"m4\", \"-Dx={{v}}\", \"f.m4\"]",
              "[\"m4\", \"--define\", \"x={{v}}\", \"f.m4\"]",
              "[\"m4\", \"-I\", \"{{v}}\", \"f.m4\"]", "[\"sudo\", \"dc\", \"-e\", \"{{v}}\"]"}) {
            CAPTURE(argv);
            CHECK_FALSE(problems(dir, argv).empty());
        }
        CHECK(problems(dir, "[\"dc\", \"-e\", \"2 3 + p\"]").empty());
        CHECK(problems(dir, "[\"m4\", \"-Dx=1\", \"{{playbook_dir}}/f.m4\"]").empty());
    }
}
