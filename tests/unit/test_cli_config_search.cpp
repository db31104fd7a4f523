// SPDX-License-Identifier: MIT
#include "cli/config_search.hpp"
#include "cli/options.hpp"
#include "cli/state_dir.hpp"
#include "playbook/model.hpp"
#include "support/temp_dir.hpp"
#include "util/canonical_path.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <optional>
#include <random>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace rollback;
namespace fs = std::filesystem;

namespace {

/// Runs the case in `dir`; restores the current directory.
class InDir {
  public:
    explicit InDir(const fs::path& dir) : m_cwd(fs::current_path()) { fs::current_path(dir); }
    ~InDir() { fs::current_path(m_cwd); }
    InDir(const InDir&) = delete;
    InDir& operator=(const InDir&) = delete;

  private:
    fs::path m_cwd;
};

/// What a directory of a generated layout holds.
enum class Holds { nothing, names_this, names_other, broken, names_none };

std::string config_text(Holds h, const fs::path& playbook_from_here) {
    const std::string head = "[target]\nname = \"t\"\n";
    switch (h) {
    case Holds::names_this:
        return head + "[decision]\nplaybook = \"" + playbook_from_here.string() + "\"\n";
    case Holds::names_other:
        return head + "[decision]\nplaybook = \"elsewhere/other.toml\"\n";
    case Holds::broken:
        return "[target\nname = ";
    case Holds::names_none:
        return head;
    case Holds::nothing:
        break;
    }
    return {};
}

} // namespace

TEST_SUITE("cli") {
    TEST_CASE("the config search over generated layouts chooses the documented file") {
        // The rule (docs/config.md "Which configuration a command reads"): the playbook's
        // directory, the one above, then the nearest ancestor whose [decision] playbook is this
        // playbook, then ./rollback.toml; whatever the other files say.
        std::mt19937 rng(48);
        for (int round = 0; round < 300; ++round) {
            test::TempDir tmp;
            const int depth = 1 + static_cast<int>(rng() % 5); // directories above the playbook
            std::vector<fs::path> dirs{tmp.path() / "root"};
            for (int i = 1; i <= depth; ++i) {
                dirs.push_back(dirs.back() / ("d" + std::to_string(i)));
            }
            fs::create_directories(dirs.back());
            const fs::path pb =
                tmp.write("root/" + dirs.back().lexically_relative(dirs[0]).string() + "/pb.toml",
                          "[playbook]\nname = \"p\"\n");
            const Holds kinds[] = {Holds::nothing,     Holds::nothing, Holds::names_this,
                                   Holds::names_other, Holds::broken,  Holds::names_none};
            std::vector<Holds> holds;
            for (const auto& d : dirs) {
                const Holds h = kinds[rng() % 6];
                holds.push_back(h);
                if (h != Holds::nothing) {
                    tmp.write(d.lexically_relative(tmp.path()).string() + "/rollback.toml",
                              config_text(h, pb.lexically_relative(d)));
                }
            }
            const bool cwd_config = rng() % 2 == 0;
            fs::create_directories(tmp / "cwd");
            if (cwd_config) {
                tmp.write("cwd/rollback.toml", config_text(Holds::names_other, "x.toml"));
            }
            // The documented choice.
            std::optional<fs::path> want;
            const std::size_t k = dirs.size() - 1; // the playbook's directory
            if (holds[k] != Holds::nothing) {
                want = dirs[k] / "rollback.toml";
            } else if (k >= 1 && holds[k - 1] != Holds::nothing) {
                want = dirs[k - 1] / "rollback.toml";
            } else {
                for (std::size_t i = k >= 2 ? k - 1 : 0; i-- > 0;) {
                    if (holds[i] == Holds::names_this) {
                        want = dirs[i] / "rollback.toml";
                        break;
                    }
                }
                if (!want && cwd_config) {
                    want = tmp / "cwd/rollback.toml";
                }
            }
            InDir in(tmp / "cwd");
            cli::CommonOptions common;
            const auto got = cli::find_config(common, pb);
            INFO("round " << round << ", depth " << depth);
            REQUIRE(got.has_value() == want.has_value());
            if (want) {
                CHECK(*got == util::canonical_path(*want));
            }
            // The playbook named through a relative path from elsewhere is the same playbook.
            const auto again = cli::find_config(common, pb.lexically_relative(tmp / "cwd"));
            CHECK(again == got);
        }
    }

    TEST_CASE("a config the search finds must be the user's and writable by nobody else") {
        test::TempDir tmp;
        const fs::path pb = tmp.write("shop/playbooks/pb.toml", "[playbook]\nname = \"p\"\n");
        const fs::path cfg = tmp.write("shop/rollback.toml", "[target]\nname = \"t\"\n");
        fs::create_directories(tmp / "cwd");
        InDir in(tmp / "cwd");
        cli::CommonOptions common;
        CHECK(cli::find_config(common, pb) == util::canonical_path(cfg));

        SUBCASE("writable by its group or by others: refused, -c uses it") {
            fs::permissions(cfg, fs::perms::group_write | fs::perms::others_write,
                            fs::perm_options::add);
            try {
                (void)cli::find_config(common, pb);
                FAIL("no error");
            } catch (const util::Error& e) {
                CHECK(e.code() == util::ExitCode::invalid);
                CHECK(std::string(e.what()).find(cfg.string() + ": not used as the configuration: "
                                                                "it is writable by every user") ==
                      0);
                CHECK(e.hint().find("pass -c " + cfg.string()) != std::string::npos);
            }
            common.config = cfg.string();
            CHECK(cli::find_config(common, pb) == util::canonical_path(cfg));
        }
        SUBCASE("in a world-writable directory, even a sticky one: refused") {
            fs::permissions(tmp / "shop", fs::perms::all | fs::perms::sticky_bit);
            CHECK_THROWS_WITH_AS((void)cli::find_config(common, pb),
                                 doctest::Contains("a directory every user can write to"),
                                 util::Error);
        }
        SUBCASE("in a world-writable directory above the documented places: never read") {
            fs::remove(cfg);
            const fs::path deep =
                tmp.write("top/ops/playbooks/pb.toml", "[playbook]\nname = \"p\"\n");
            tmp.write("top/rollback.toml",
                      "[target]\nname = \"t\"\n[decision]\nplaybook = \"ops/playbooks/pb.toml\"\n");
            CHECK(cli::find_config(common, deep) ==
                  util::canonical_path(tmp / "top/rollback.toml"));
            fs::permissions(tmp / "top", fs::perms::all | fs::perms::sticky_bit);
            CHECK_FALSE(cli::find_config(common, deep).has_value());
        }
        SUBCASE("owned by another user (not root): refused, naming the owner") {
            if (::geteuid() != 0) {
                MESSAGE("skipped: needs root to give the file away");
                return;
            }
            REQUIRE(::chown(cfg.c_str(), 65534, 65534) == 0);
            CHECK_THROWS_WITH_AS((void)cli::find_config(common, pb),
                                 doctest::Contains("(uid 65534), not to you"), util::Error);
        }
    }

    TEST_CASE("a state inside the releases a step of the playbook switches is refused") {
        test::TempDir tmp;
        fs::create_directories(tmp / "deploy/releases/v2");
        fs::create_symlink("releases/v2", tmp / "deploy/current");
        playbook::Playbook pb;
        pb.file = tmp / "pb.toml";
        pb.directory = tmp.path();
        playbook::Step s;
        s.id = "switch";
        s.action = "release_switch";
        s.where = {pb.file.string(), 7, 1};
        s.params["deploy_root"] = "deploy";
        pb.steps.push_back(s);
        cli::StateDir inside{util::canonical_path(tmp / "deploy/current/.rollback"),
                             "state_dir of x",
                             std::nullopt,
                             {}};
        cli::StateDir outside{
            util::canonical_path(tmp / "state"), "state_dir of x", std::nullopt, {}};

        CHECK_THROWS_WITH_AS(cli::refuse_state_in_releases(inside, pb),
                             doctest::Contains(":7:1: step \"switch\" (release_switch) replaces"),
                             util::Error);
        CHECK_NOTHROW(cli::refuse_state_in_releases(outside, pb));
        SUBCASE("a step on other hosts switches their directories, not this one") {
            pb.steps[0].hosts = "web";
            CHECK_NOTHROW(cli::refuse_state_in_releases(inside, pb));
        }
        SUBCASE("a shared state keeps its lock in PostgreSQL") {
            inside.shared = config::SharedState{};
            CHECK_NOTHROW(cli::refuse_state_in_releases(inside, pb));
        }
        SUBCASE("a git_checkout's work tree, also in [[finally]]") {
            pb.steps.clear();
            s.action = "git_checkout";
            s.params = {};
            s.params["repo"] = "deploy";
            pb.finally.push_back(s);
            CHECK_THROWS_WITH_AS(cli::refuse_state_in_releases(inside, pb),
                                 doctest::Contains("(git_checkout) replaces the work tree"),
                                 util::Error);
        }
    }
}
