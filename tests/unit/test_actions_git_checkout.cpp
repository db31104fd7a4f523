// SPDX-License-Identifier: MIT
#include "actions/release_switch.hpp"

#include "support/action_harness.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <doctest/doctest.h>

using namespace rollback;
namespace fs = std::filesystem;

namespace {

// git in `repo` through the real runner, with fixed identities and dates so that tag creation
// order is what the test says, not what the clock happened to say.
std::string git(const fs::path& repo, std::vector<std::string> args, const std::string& date = "") {
    exec::RealProcessRunner runner;
    exec::Command cmd;
    cmd.argv = {"git", "-C", repo.string()};
    cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
    cmd.env = {{"GIT_AUTHOR_NAME", "t"},           {"GIT_AUTHOR_EMAIL", "t@example.com"},
               {"GIT_COMMITTER_NAME", "t"},        {"GIT_COMMITTER_EMAIL", "t@example.com"},
               {"GIT_CONFIG_GLOBAL", "/dev/null"}, {"GIT_CONFIG_NOSYSTEM", "1"}};
    if (!date.empty()) {
        cmd.env["GIT_AUTHOR_DATE"] = date;
        cmd.env["GIT_COMMITTER_DATE"] = date;
    }
    auto o = runner.run(cmd);
    INFO("git ", util::join(args, " "), ": ", o.stderr_tail);
    REQUIRE(o.ok());
    return std::string(util::trim(o.stdout_tail));
}

// A deploy work tree with tags v1, v2, v3 (annotated, one day apart); HEAD at v3.
fs::path make_repo(const test::TempDir& tmp) {
    fs::path repo = tmp / "app";
    fs::create_directories(repo);
    git(repo, {"init", "-q", "-b", "main"});
    for (int i = 1; i <= 3; ++i) {
        std::string v = "v" + std::to_string(i);
        std::string date = "2026-01-0" + std::to_string(i) + "T10:00:00Z";
        tmp.write("app/app.txt", "code " + v + "\n");
        git(repo, {"add", "app.txt"}, date);
        git(repo, {"commit", "-q", "-m", "release " + v}, date);
        git(repo, {"tag", "-a", v, "-m", v}, date);
    }
    return repo;
}

std::string head(const fs::path& repo) {
    return git(repo, {"rev-parse", "HEAD"});
}
std::string commit_of(const fs::path& repo, const std::string& tag) {
    return git(repo, {"rev-parse", tag + "^{commit}"});
}

} // namespace

TEST_SUITE("actions") {
    TEST_CASE("git_checkout previous: the tag before the current one — which is marked bad") {
        test::TempDir tmp;
        fs::path repo = make_repo(tmp);
        test::ActionHarness h(tmp.path(), "git_checkout",
                              R"({"repo": "../app", "ref": "previous"})");
        CHECK(h.validate().empty());
        CHECK(test::first_failed(h.preflight()) == "");
        auto r = h.run();
        CHECK(r.status == actions::Status::succeeded);
        CHECK(r.summary == "checked out v2 (was v3)");
        CHECK(head(repo) == commit_of(repo, "v2"));
        CHECK(util::read_file(repo / "app.txt") == "code v2\n");
        auto bad = h.store.bad_releases();
        REQUIRE(bad.size() == 1);
        CHECK(bad[0].release == "v3");
        CHECK(bad[0].location == repo.string());
        CHECK(bad[0].switched_to == "v2");

        SUBCASE("a retry in the same run stays on v2") {
            auto again = h.run();
            CHECK(again.summary == "already at v2");
            CHECK(head(repo) == commit_of(repo, "v2"));
        }
        SUBCASE("the next run skips nothing it does not have to: v2 -> v1") {
            h.run_id = "run-2";
            CHECK(h.run().summary == "checked out v1 (was v2)");
        }
    }

    TEST_CASE("git_checkout skips bad tags and handles HEAD past the last tag") {
        test::TempDir tmp;
        fs::path repo = make_repo(tmp);
        test::ActionHarness h(tmp.path(), "git_checkout",
                              R"({"repo": "../app", "ref": "previous"})");
        SUBCASE("bad tag skipped") {
            h.store.record_bad_release({"v2", repo.string(), "t", "run-0", "v1"});
            auto r = h.run();
            CHECK(r.summary == "checked out v1 (was v3)");
            CHECK(r.details.at("skipped_bad").as_array().size() == 1);
        }
        SUBCASE("untagged commit after v3: previous is v3") {
            tmp.write("app/app.txt", "hotfix\n");
            git(repo, {"commit", "-q", "-am", "hotfix"}, "2026-01-05T10:00:00Z");
            auto r = h.run();
            CHECK(r.status == actions::Status::succeeded);
            CHECK(r.details.at("to") == "v3");
            CHECK(head(repo) == commit_of(repo, "v3"));
        }
        SUBCASE("named tag") {
            test::ActionHarness named(tmp.path(), "git_checkout",
                                      R"({"repo": "../app", "ref": "v1"})");
            CHECK(named.run().summary == "checked out v1 (was v3)");
        }
    }

    TEST_CASE("git_checkout refuses a dirty tree — unknown refs and non-repositories") {
        test::TempDir tmp;
        fs::path repo = make_repo(tmp);
        SUBCASE("dirty") {
            tmp.write("app/app.txt", "edited on the server\n");
            tmp.write("app/untracked.log", "does not count\n");
            test::ActionHarness h(tmp.path(), "git_checkout",
                                  R"({"repo": "../app", "ref": "previous"})");
            std::string expected =
                "work tree " + repo.string() + " has uncommitted changes: M app.txt";
            CHECK(test::first_failed(h.preflight()) == "work tree is clean: " + expected);
            auto r = h.run();
            CHECK(r.status == actions::Status::failed);
            CHECK(r.summary == expected);
            CHECK(head(repo) == commit_of(repo, "v3"));
            CHECK_FALSE(fs::exists(h.state_dir / "releases.json"));
        }
        SUBCASE("unknown ref") {
            test::ActionHarness h(tmp.path(), "git_checkout", R"({"repo": "../app", "ref": "v9"})");
            auto r = h.run();
            CHECK(r.status == actions::Status::failed);
            CHECK(r.summary == "ref \"v9\" does not resolve to a commit in " + repo.string());
        }
        SUBCASE("not a repository") {
            fs::create_directories(tmp / "plain");
            test::ActionHarness h(tmp.path(), "git_checkout",
                                  R"({"repo": "../plain", "ref": "v1"})");
            CHECK(test::first_failed(h.preflight())
                      .find("is not a git work tree: fatal: not a git repository") !=
                  std::string::npos);
        }
        SUBCASE("a tag read back from the repository that begins with - is never an option") {
            // break-it 23/01's kind: `git tag` refuses such a name, update-ref does not.
            git(repo, {"update-ref", "refs/tags/-f", commit_of(repo, "v2")});
            git(repo, {"tag", "-d", "v2"});
            test::ActionHarness h(tmp.path(), "git_checkout",
                                  R"({"repo": "../app", "ref": "previous"})");
            const std::string problem =
                "ref \"-f\" begins with '-': git would read it as an option, not a ref";
            CHECK(test::first_failed(h.preflight()).find(problem) != std::string::npos);
            auto r = h.run();
            CHECK(r.status == actions::Status::failed);
            CHECK(r.summary.find(problem) != std::string::npos);
            CHECK(head(repo) == commit_of(repo, "v3"));
        }
        SUBCASE("validation") {
            test::ActionHarness h(tmp.path(), "git_checkout", R"({"repo": 1, "ref": "--force"})");
            auto ds = h.validate();
            REQUIRE(ds.size() == 2);
            CHECK(ds[0].problem == "key \"repo\": expected a string");
            CHECK(ds[1].problem == "key \"ref\": expected \"previous\" or a tag, branch or commit");
        }
    }
}
