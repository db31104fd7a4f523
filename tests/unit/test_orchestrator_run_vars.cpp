// SPDX-License-Identifier: MIT
// The variables a run journals and what a resume does with them (docs/playbook.md, "Variables of
// a resumed run"): the run's values, a difference from an explicit source refused, secrets only
// by fingerprint.
#include "orchestrator/run_vars.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

using namespace rollback;

namespace {

playbook::Variable var(std::string name, std::string value, std::string origin,
                       bool secret = false) {
    playbook::Variable v;
    v.name = std::move(name);
    v.value = std::move(value);
    v.origin = std::move(origin);
    v.secret = secret;
    return v;
}

} // namespace

TEST_SUITE("orchestrator") {
    TEST_CASE(
        "run_vars: the run's values win over defaults and an explicit other value is refused") {
        test::TempDir dir;
        const auto key = orchestrator::run_vars_key(dir.path() / "run", true);
        REQUIRE(key);
        CHECK(key->size() == 32);
        struct stat st {};
        REQUIRE(::stat((dir.path() / "run" / "vars.key").c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
        CHECK(orchestrator::run_vars_key(dir.path() / "run", false) == key); // read back

        playbook::Playbook at_run;
        at_run.variables = {var("release", "v1", "--var"), var("region", "eu", "env REGION"),
                            var("token", "s3cret-token", "env TOKEN", true)};
        journal::RunStarted started;
        started.vars = orchestrator::recorded_vars(at_run, *key);
        started.has_vars = true;
        REQUIRE(started.vars.size() == 3);
        CHECK(started.vars[0].value == "v1");
        CHECK(started.vars[2].value.empty()); // a secret: never in clear
        CHECK(started.vars[2].fingerprint.rfind("hmac-sha256:", 0) == 0);
        CHECK(started.vars[2].fingerprint.find("s3cret") == std::string::npos);

        // Same values now: nothing to say.
        auto same = orchestrator::vars_at_resume(started, at_run, key);
        CHECK(same.differences.empty());
        CHECK(same.run_values.empty());

        // From defaults now (another terminal): the run's values, said.
        playbook::Playbook now;
        now.variables = {var("release", "v0", "default"), var("region", "eu", "env REGION"),
                         var("token", "s3cret-token", "env TOKEN", true)};
        auto by_default = orchestrator::vars_at_resume(started, now, key);
        CHECK(by_default.differences.empty());
        CHECK(by_default.run_values == std::map<std::string, std::string>{{"release", "v1"}});
        REQUIRE(by_default.notes.size() == 1);

        // An explicit other value, and a secret that differs: refused, both origins named, no
        // secret value.
        now.variables = {var("release", "v2", ".env TARGET_RELEASE"),
                         var("region", "eu", "env REGION"),
                         var("token", "other-token", "env TOKEN", true)};
        auto differ = orchestrator::vars_at_resume(started, now, key);
        CHECK(differ.changed == std::vector<std::string>{"release", "token"});
        REQUIRE(differ.differences.size() == 2);
        CHECK(differ.differences[0] ==
              "\"release\": \"v1\" at the run (--var), \"v2\" now (.env TARGET_RELEASE)");
        CHECK(differ.differences[1] ==
              "\"token\": secret differs (from env TOKEN at the run, env TOKEN now)");
        CHECK(differ.differences[1].find("other") == std::string::npos);

        // Without the run's key (a monitor on another host taking over) a secret cannot be
        // compared: taken from this resume's source and said so, never a refusal that would
        // leave the run unfinished.
        now.variables = at_run.variables;
        auto no_key = orchestrator::vars_at_resume(started, now, std::nullopt);
        CHECK(no_key.changed.empty());
        CHECK(no_key.differences.empty());
        REQUIRE(no_key.notes.size() == 1);
        CHECK(no_key.notes[0].find("token: secret taken from env TOKEN without comparing") == 0);

        // A journal written before vars were kept: nothing is compared.
        started.has_vars = false;
        CHECK(orchestrator::vars_at_resume(started, now, std::nullopt).differences.empty());
    }
}
