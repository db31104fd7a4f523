// SPDX-License-Identifier: MIT
// Argv-like parameters of actions (service's start/stop/restart/reload with manager = "command")
// take the same rule as exec's argv (DESIGN.md, trust invariant 5): the command string a shell
// runs and another language's code take no value; an argument after them is data. Run by the
// real /bin/sh.
#include "actions/action.hpp"
#include "exec/runner.hpp"
#include "playbook/loader.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <doctest/doctest.h>

using namespace rollback;
namespace fs = std::filesystem;

namespace {

// Quotes, separators, substitutions, line breaks, a reference inside the value.
const std::vector<std::string> k_hostile{
    "'",
    "\"",
    "a\"b'c",
    "v1; touch PWNED; echo x",
    "$(touch PWNED)",
    "`touch PWNED`",
    "line1\r\nline2\n",
    "{{other}}",
    "back\\slash\\",
    "\"$HOME\" '$HOME' \\$HOME",
};

playbook::LoadOptions options_for(const std::map<std::string, std::string>& env) {
    playbook::LoadOptions options;
    options.environment = &env;
    for (const auto& name : actions::action_names()) {
        const actions::Action* a = actions::find_action(name);
        options.actions.push_back({name, a->keys(), a->required_keys(), a->encodings()});
    }
    options.validate_step = [](const playbook::Playbook& pb, const playbook::Step& step) {
        return actions::find_action(step.action)->validate(pb, step);
    };
    return options;
}

std::vector<std::string> strings_of(const boost::json::value& v) {
    std::vector<std::string> out;
    for (const auto& e : v.as_array()) {
        out.emplace_back(e.as_string());
    }
    return out;
}

} // namespace

TEST_SUITE("actions") {
    TEST_CASE("service command arrays: every op's argv takes the argv encoding") {
        const actions::Action* service = actions::find_action("service");
        REQUIRE(service != nullptr);
        const auto enc = service->encodings();
        for (const char* op : {"start", "stop", "restart", "reload"}) {
            INFO("op " << op);
            REQUIRE(enc.count(op) == 1);
            CHECK(enc.at(op) == playbook::Encoding::argv);
        }
    }

    TEST_CASE("service command arrays: a value after sh -c stays data — run by /bin/sh") {
        for (const auto& value : k_hostile) {
            INFO("value: " << value);
            test::TempDir dir;
            std::map<std::string, std::string> env{{"HOSTILE", value}};
            fs::path pb = dir.write("pb.toml", R"TOML([vars]
v = { env = "HOSTILE" }
other = "OTHER"

[[step]]
id = "app"
action = "service"
manager = "command"
op = "restart"
stop = ["sh", "-c", "printf '[%s]' \"$1\" > stop.out", "sh", "{{v}}"]
start = ["env", "X=1", "sh", "-ec", "printf '[%s|%s]' \"$1\" \"$1\" > start.out", "sh", "{{v}}"]
)TOML");
            auto loaded = playbook::load(pb, options_for(env));
            const playbook::Step* step = loaded.find_step("app");
            REQUIRE(step != nullptr);
            auto stop = strings_of(step->params.at("stop"));
            auto start = strings_of(step->params.at("start"));
            REQUIRE(stop.size() == 5);
            CHECK(stop[4] == value); // an argument after the script: data, as it is
            REQUIRE(start.size() == 7);
            CHECK(start[6] == value);
            for (const auto& argv : {stop, start}) {
                exec::Command cmd;
                cmd.argv = argv;
                cmd.cwd = dir.path().string();
                exec::Outcome o = exec::RealProcessRunner().run(cmd);
                INFO("argv[2..]: " << argv.back());
                CHECK(o.ok());
            }
            CHECK(util::read_file(dir / "stop.out") == "[" + value + "]");
            CHECK(util::read_file(dir / "start.out") == "[" + value + "|" + value + "]");
            CHECK_FALSE(fs::exists(dir / "PWNED"));
        }
    }

    TEST_CASE("service command arrays: a value in a shell's command string is refused — located") {
        test::TempDir dir;
        std::map<std::string, std::string> env;
        fs::path pb = dir.write("pb.toml", R"TOML([vars]
v = "x"

[[step]]
id = "app"
action = "service"
manager = "command"
op = "start"
start = ["env", "X=1", "sh", "-ec", "printf %s {{v}} > start.out"]
)TOML");
        try {
            playbook::load(pb, options_for(env));
            FAIL("expected {{v}} in the shell text to be refused");
        } catch (const util::InvalidInput& e) {
            REQUIRE(e.diagnostics().size() == 1);
            CHECK(e.diagnostics()[0].where.line == 9);
            CHECK(e.diagnostics()[0].where.column == 48);
            CHECK(e.diagnostics()[0].problem.find("{{v}} in shell text") == 0);
            CHECK(e.diagnostics()[0].hint.find("env = { V = \"{{v}}\" }") != std::string::npos);
        }
    }

    TEST_CASE("service command arrays: a value in another language's code is refused — located") {
        test::TempDir dir;
        std::map<std::string, std::string> env;
        fs::path pb = dir.write("pb.toml", R"TOML([vars]
v = "x"

[[step]]
id = "app"
action = "service"
manager = "command"
op = "start"
start = ["python3", "-c", "print('{{v}}')"]
)TOML");
        try {
            playbook::load(pb, options_for(env));
            FAIL("expected {{v}} inside python3 code to be refused");
        } catch (const util::InvalidInput& e) {
            REQUIRE(e.diagnostics().size() == 1);
            CHECK(e.diagnostics()[0].where.line == 9);
            CHECK(e.diagnostics()[0].problem.find("{{v}} inside python3 code") !=
                  std::string::npos);
        }
    }

    TEST_CASE("service command arrays: elements outside a script are passed as they are") {
        test::TempDir dir;
        std::map<std::string, std::string> env{{"HOSTILE", k_hostile[3]}};
        fs::path pb = dir.write("pb.toml", R"TOML([vars]
v = { env = "HOSTILE" }

[[step]]
id = "app"
action = "service"
manager = "command"
op = "stop"
stop = ["./stop.sh", "--release={{v}}"]
)TOML");
        auto loaded = playbook::load(pb, options_for(env));
        CHECK(strings_of(loaded.find_step("app")->params.at("stop")) ==
              std::vector<std::string>{"./stop.sh", "--release=" + k_hostile[3]});
    }
}
