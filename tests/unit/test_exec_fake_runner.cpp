// SPDX-License-Identifier: MIT
#include "support/fake_runner.hpp"

#include <doctest/doctest.h>

using namespace rollback;
using exec::Command;
using exec::Ending;

namespace {
Command command(std::vector<std::string> argv) {
    Command c;
    c.argv = std::move(argv);
    return c;
}
} // namespace

TEST_SUITE("exec") {
    TEST_CASE("FakeProcessRunner records calls and answers from its script") {
        test::FakeProcessRunner fake;
        fake.outcomes["systemctl"] = test::FakeProcessRunner::exited(3, "", "unit not found\n");
        fake.outcomes["slow"] = test::FakeProcessRunner::ended(Ending::timed_out);

        CHECK(fake.run(command({"echo", "hi"})).ok()); // default: exit 0
        auto failed = fake.run(command({"systemctl", "restart", "shop"}));
        CHECK(failed.ending == Ending::exited);
        CHECK(failed.exit_code == 3);
        CHECK(failed.stderr_tail == "unit not found\n");
        CHECK(failed.stderr_bytes == 15);
        CHECK(fake.run(command({"slow"})).ending == Ending::timed_out);

        REQUIRE(fake.calls.size() == 3);
        CHECK(fake.calls[1].argv == std::vector<std::string>{"systemctl", "restart", "shop"});
        CHECK(fake.programs() == std::vector<std::string>{"echo", "systemctl", "slow"});
    }

    TEST_CASE("FakeProcessRunner: a responder wins and output reaches on_output") {
        test::FakeProcessRunner fake;
        fake.outcomes["x"] = test::FakeProcessRunner::exited(1);
        fake.responder = [](const Command& c) {
            return test::FakeProcessRunner::exited(0, "ran " + c.argv.at(0) + "\n");
        };
        std::string streamed;
        Command cmd = command({"x"});
        cmd.on_output = [&](std::string_view chunk, bool is_stderr) {
            if (!is_stderr) {
                streamed += chunk;
            }
        };
        auto o = fake.run(cmd);
        CHECK(o.ok());
        CHECK(o.stdout_tail == "ran x\n");
        CHECK(streamed == "ran x\n");
    }
}
