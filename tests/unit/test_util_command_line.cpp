// SPDX-License-Identifier: MIT
// A secret registered while the engine runs is wiped from its own command line (the argv memory
// /proc/PID/cmdline and ps read): break-it 30/11, `--var token=VALUE`.
#include "util/command_line.hpp"
#include "util/secrets.hpp"

#include <cstring>
#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace rollback;

namespace {

/// argv as the kernel lays it out: the arguments one after another in one block, each ended by
/// a NUL. Returns the block as /proc/PID/cmdline shows it (NULs as ' ').
struct FakeArgv {
    std::vector<char> block;
    std::vector<char*> argv;
    explicit FakeArgv(const std::vector<std::string>& args) {
        for (const auto& a : args) {
            block.insert(block.end(), a.begin(), a.end());
            block.push_back('\0');
        }
        size_t at = 0;
        for (const auto& a : args) {
            argv.push_back(block.data() + at);
            at += a.size() + 1;
        }
        argv.push_back(nullptr);
    }
    std::string cmdline() const {
        std::string s(block.begin(), block.end());
        for (char& c : s) {
            c = c == '\0' ? ' ' : c;
        }
        return s;
    }
    int argc() const { return static_cast<int>(argv.size()) - 1; }
};

} // namespace

TEST_SUITE("util") {
    TEST_CASE("a registered secret is wiped from the process's own command line") {
        util::clear_secrets();
        FakeArgv a({"rollback", "run", "-p", "pb.toml", "--var", "tok=VarCanary1234", "--var",
                    "other=x-VarCanary1234-y", "--var=t2=VarCanary1234", "--yes"});
        const size_t size = a.block.size();
        util::remember_command_line(a.argc(), a.argv.data());
        util::register_secret("VarCanary1234");
        util::forget_command_line();
        const std::string shown = a.cmdline();
        CHECK(shown.find("VarCanary") == std::string::npos);
        CHECK(a.block.size() == size); // nothing written past the block
        // Each argument keeps its place; its wiped bytes became NULs at its end.
        CHECK(std::string(a.argv[5]) == "tok=***");
        CHECK(std::string(a.argv[7]) == "other=x-***-y");
        CHECK(std::string(a.argv[8]) == "--var=t2=***");
        CHECK(std::string(a.argv[9]) == "--yes");
        CHECK(std::string(a.argv[3]) == "pb.toml");
        util::clear_secrets();
    }

    TEST_CASE("wiping the command line: two occurrences in one argument and the program name left "
              "alone") {
        FakeArgv a({"/opt/abcdef/rollback", "abcdef:abcdefabcdef", "tail"});
        util::remember_command_line(a.argc(), a.argv.data());
        CHECK(util::hide_in_command_line("abcdef") == 3);
        CHECK(util::hide_in_command_line("ab") == 0); // shorter than the mask: never a secret
        util::forget_command_line();
        CHECK(std::string(a.argv[0]) == "/opt/abcdef/rollback");
        CHECK(std::string(a.argv[1]) == "***:******");
        CHECK(std::string(a.argv[2]) == "tail");
        // Not remembered: nothing to wipe.
        CHECK(util::hide_in_command_line("tail") == 0);
        CHECK(std::string(a.argv[2]) == "tail");
    }
}
