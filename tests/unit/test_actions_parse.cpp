// SPDX-License-Identifier: MIT
// Actions parse their keys once (actions/kind_action.hpp): the loader keeps the typed struct with
// the step, and describe, preflight and run read it, never the raw keys again.
#include "actions/action.hpp"
#include "actions/pg_restore_action.hpp"
#include "playbook/loader.hpp"
#include "support/action_harness.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"

#include <doctest/doctest.h>

using namespace rollback;
namespace fs = std::filesystem;

namespace {

playbook::LoadOptions options_with_actions() {
    playbook::LoadOptions options;
    for (const auto& name : actions::action_names()) {
        const actions::Action* a = actions::find_action(name);
        options.actions.push_back({name, a->keys(), a->required_keys(), a->encodings()});
    }
    options.validate_step = actions::parse_step;
    return options;
}

} // namespace

TEST_SUITE("actions") {
    TEST_CASE("parse: the loader keeps every step's parsed keys — describe shows them as written") {
        test::TempDir tmp;
        const auto file = tmp.write("pb.toml", R"(
[[step]]
id = "switch"
phase = "code"
action = "release_switch"
deploy_root = "srv/shop"
to = "previous"
config_files = ["shop.env"]

[[step]]
id = "restore"
phase = "database"
action = "pg_restore"
dsn = "postgresql://rb@127.0.0.1/shop"
catalog = "backups/../catalog"

[[step]]
id = "health"
phase = "verify"
action = "http"
url = "http://127.0.0.1:1/health/"
expect_status = [200, 204]

[[finally]]
id = "say"
action = "exec"
argv = ["true"]
)");
        const auto pb = playbook::load(file, options_with_actions());
        for (const auto* list : {&pb.steps, &pb.finally}) {
            for (const auto& step : *list) {
                INFO(step.id);
                CHECK(step.parsed != nullptr);
            }
        }
        auto describe = [&](const std::string& id) {
            const auto* step = pb.find_step(id);
            REQUIRE(step != nullptr);
            return actions::find_action(step->action)->describe(*step);
        };
        CHECK(describe("switch") == "srv/shop/current -> previous, restore shop.env");
        CHECK(describe("restore") ==
              "restore last_good from catalog into postgresql://rb@127.0.0.1/shop "
              "(side_swap, jobs 2)");
        CHECK(describe("health") == "GET http://127.0.0.1:1/health/, expect 200 or 204");

        // What run reads is resolved against the playbook's directory once, at load.
        std::string problem;
        auto restore = actions::pg_restore_params(pb, *pb.find_step("restore"), problem);
        REQUIRE(restore != nullptr);
        CHECK(problem.empty());
        CHECK(restore->spec.catalog == tmp.path() / "catalog");
    }

    TEST_CASE("parse: run reads the struct kept with the step and not the raw keys") {
        test::TempDir tmp;
        const std::string log = (tmp / "ops.log").string();
        test::ActionHarness h(tmp.path(), "service",
                              R"({"manager": "command", "op": "reload",
                                  "reload": ["sh", "-c", "echo reloaded >> )" +
                                  log + R"("]})");
        CHECK(h.parse().empty());
        REQUIRE(h.step.parsed != nullptr);
        h.step.params.clear(); // nothing left to read again: the kept struct is all run has
        const auto& action = h.action();
        CHECK(action.describe(h.step).find("command reload: sh -c ") == 0);
        CHECK(test::first_failed(action.preflight(h.context())) == "");
        auto r = action.run(h.context());
        CHECK(r.status == actions::Status::succeeded);
        CHECK(r.summary == "command reload: ok");
        CHECK(util::read_file(log) == "reloaded\n");
    }

    TEST_CASE("parse: keys that do not parse keep nothing — run and preflight report the first "
              "problem") {
        test::TempDir tmp;
        test::ActionHarness h(tmp.path(), "release_switch",
                              R"({"deploy_root": "srv", "to": "../v1"})");
        h.step.param_where["to"] = {h.playbook.file.string(), 7, 6};
        auto ds = h.parse();
        REQUIRE(ds.size() == 1);
        CHECK(ds[0].where.line == 7);
        CHECK(ds[0].where.column == 6);
        CHECK(ds[0].subject == "step \"release_switch-step\"");
        CHECK(ds[0].problem ==
              "key \"to\": expected \"previous\" or a release name (a directory in releases/)");
        CHECK(h.step.parsed == nullptr);
        CHECK(h.validate().size() == 1);
        CHECK(test::first_failed(h.preflight()) == "release_switch keys: " + ds[0].problem);
        auto r = h.run();
        CHECK(r.status == actions::Status::failed);
        CHECK(r.summary == ds[0].problem);
    }

    TEST_CASE("parse: only pg_restore answers probe") {
        for (const auto& name : actions::action_names()) {
            INFO(name);
            CHECK(actions::find_action(name)->has_probe() == (name == "pg_restore"));
        }
    }
}
