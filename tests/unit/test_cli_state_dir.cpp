// SPDX-License-Identifier: MIT
#include "cli/options.hpp"
#include "cli/state_dir.hpp"
#include "config/config.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <cstdlib>
#include <doctest/doctest.h>
#include <optional>
#include <string>

using namespace rollback;
namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace {

/// Runs the case in `dir` with ROLLBACK_STATE_DIR as given (nullopt: unset); restores both.
class Scene {
  public:
    Scene(const fs::path& dir, std::optional<std::string> env) : m_cwd(fs::current_path()) {
        if (const char* e = std::getenv("ROLLBACK_STATE_DIR")) {
            m_env = e;
        }
        fs::current_path(dir);
        if (env) {
            ::setenv("ROLLBACK_STATE_DIR", env->c_str(), 1);
        } else {
            ::unsetenv("ROLLBACK_STATE_DIR");
        }
    }
    ~Scene() {
        fs::current_path(m_cwd);
        if (m_env) {
            ::setenv("ROLLBACK_STATE_DIR", m_env->c_str(), 1);
        } else {
            ::unsetenv("ROLLBACK_STATE_DIR");
        }
    }
    Scene(const Scene&) = delete;
    Scene& operator=(const Scene&) = delete;

  private:
    fs::path m_cwd;
    std::optional<std::string> m_env;
};

const char* k_config = "[target]\nname = \"shop\"\nstate_dir = \"var/state\"\n";

fs::path canonical_dir(const fs::path& p) {
    return fs::weakly_canonical(p);
}

} // namespace

TEST_SUITE("cli") {
    TEST_CASE("the state directory: --state-dir — ROLLBACK_STATE_DIR — the config — the playbook") {
        test::TempDir tmp;
        tmp.write("shop/rollback.toml", k_config);
        const fs::path pb = tmp.write("shop/playbooks/x.toml", "[playbook]\nname = \"x\"\n");
        fs::create_directories(tmp / "elsewhere");
        const fs::path config_state = canonical_dir(tmp / "shop/var/state");
        cli::CommonOptions common;

        SUBCASE("the config one directory above the playbook, from any directory") {
            Scene s(tmp / "elsewhere", std::nullopt);
            auto sd = cli::resolve_state_dir(common, pb);
            CHECK(canonical_dir(sd.dir) == config_state);
            CHECK(sd.origin.find("state_dir of") == 0);
        }
        SUBCASE("./rollback.toml when no playbook is named (status, history, explain)") {
            Scene s(tmp / "shop", std::nullopt);
            CHECK(canonical_dir(cli::resolve_state_dir(common, fs::path()).dir) == config_state);
            // The same directory whether the command loaded the config itself or not.
            auto cfg = config::load("rollback.toml");
            CHECK(canonical_dir(cli::resolve_state_dir(common, cfg).dir) == config_state);
            CHECK(canonical_dir(cli::resolve_state_dir(common, pb).dir) == config_state);
        }
        SUBCASE("-c names the config") {
            Scene s(tmp / "elsewhere", std::nullopt);
            common.config = (tmp / "shop/rollback.toml").string();
            CHECK(canonical_dir(cli::resolve_state_dir(common, fs::path()).dir) == config_state);
        }
        SUBCASE("ROLLBACK_STATE_DIR wins over the config") {
            Scene s(tmp / "shop", (tmp / "from-env").string());
            auto sd = cli::resolve_state_dir(common, pb);
            CHECK(sd.dir == (tmp / "from-env").lexically_normal());
            CHECK(sd.origin == "ROLLBACK_STATE_DIR");
            auto cfg = config::load("rollback.toml");
            CHECK(cli::resolve_state_dir(common, cfg).dir == (tmp / "from-env").lexically_normal());
        }
        SUBCASE("--state-dir wins over everything") {
            Scene s(tmp / "shop", (tmp / "from-env").string());
            common.state_dir = (tmp / "given").string();
            CHECK(cli::resolve_state_dir(common, pb).dir == (tmp / "given").lexically_normal());
            CHECK(cli::resolve_state_dir(common, pb).origin == "--state-dir");
        }
        SUBCASE("no config anywhere: .rollback/ beside the playbook, else ./.rollback") {
            fs::remove(tmp / "shop/rollback.toml");
            Scene s(tmp / "elsewhere", std::nullopt);
            CHECK(canonical_dir(cli::resolve_state_dir(common, pb).dir) ==
                  canonical_dir(tmp / "shop/playbooks/.rollback"));
            CHECK(canonical_dir(cli::resolve_state_dir(common, fs::path()).dir) ==
                  canonical_dir(tmp / "elsewhere/.rollback"));
        }
    }

    TEST_CASE("the shared state of the config is found by the same rule — ROLLBACK_STATE_DIR "
              "chooses only the local directory — --state-dir a local state") {
        test::TempDir tmp;
        tmp.write("shop/rollback.toml",
                  "[target]\nname = \"shop\"\nstate_dir = \"var/state\"\n[state]\n"
                  "dsn = \"postgresql://rb:pw-of-state-9@db.internal/rb\"\nschema = \"shop\"\n");
        const fs::path pb = tmp.write("shop/playbooks/x.toml", "[playbook]\nname = \"x\"\n");
        cli::CommonOptions common;
        Scene s(tmp / "shop", std::nullopt);
        auto sd = cli::resolve_state_dir(common, pb);
        REQUIRE(sd.shared);
        CHECK(sd.shared->schema == "shop");
        CHECK(sd.origin.find("state of") == 0);
        // This host's files (rollback.log, artifacts) stay in the state directory.
        CHECK(canonical_dir(sd.dir) == canonical_dir(tmp / "shop/var/state"));
        // A suggested command names the config: it finds the shared state from anywhere.
        CHECK(cli::state_args(sd) == " -c " + canonical_dir(tmp / "shop/rollback.toml").string());
        CHECK(cli::state_where(sd) ==
              "the shared state postgresql://rb:***@db.internal/rb (schema shop)");
        // The packaged units set ROLLBACK_STATE_DIR: the dsn of the config still names the store.
        {
            Scene env(tmp / "shop", (tmp / "from-env").string());
            auto by_env = cli::resolve_state_dir(common, pb);
            REQUIRE(by_env.shared);
            CHECK(by_env.shared->schema == "shop");
            CHECK(by_env.dir == canonical_dir(tmp / "from-env"));
            auto cfg = config::load(tmp / "shop/rollback.toml");
            CHECK(cli::resolve_state_dir(common, cfg).shared);
        }
        common.state_dir = (tmp / "given").string();
        auto local = cli::resolve_state_dir(common, pb);
        CHECK_FALSE(local.shared);
        CHECK(cli::state_args(local) == " --state-dir " + canonical_dir(tmp / "given").string());
    }

    TEST_CASE("the playbook's own config wins over the one in the current directory") {
        test::TempDir tmp;
        tmp.write("a/rollback.toml", "[target]\nname = \"a\"\nstate_dir = \"a-state\"\n");
        tmp.write("b/rollback.toml", "[target]\nname = \"b\"\nstate_dir = \"b-state\"\n");
        const fs::path pb = tmp.write("a/playbooks/x.toml", "[playbook]\nname = \"x\"\n");
        cli::CommonOptions common;
        Scene s(tmp / "b", std::nullopt);
        CHECK(cli::resolve_state_dir(common, pb).dir == canonical_dir(tmp / "a/a-state"));
        CHECK(cli::resolve_state_dir(common, fs::path()).dir == canonical_dir(tmp / "b/b-state"));
    }

    TEST_CASE(
        "one directory however it is spelled: symlinks and .. across a symlink and a trailing /") {
        test::TempDir tmp;
        tmp.write("srv/shop/rollback.toml", "[target]\nname = \"shop\"\n");
        const fs::path pb = tmp.write("srv/shop/playbooks/x.toml", "[playbook]\nname = \"x\"\n");
        fs::create_directories(tmp / "etc");
        fs::create_symlink(tmp / "srv/shop/rollback.toml", tmp / "etc/rollback.toml");
        fs::create_directories(tmp / "bin");
        fs::create_symlink(pb, tmp / "bin/shop.toml");
        fs::create_directories(tmp / "real/sub");
        fs::create_directory_symlink(tmp / "real/sub", tmp / "link");
        cli::CommonOptions common;
        Scene s(tmp.path(), std::nullopt);
        const fs::path want = canonical_dir(tmp / "srv/shop/.rollback");
        CHECK(cli::resolve_state_dir(common, pb).dir == want);
        CHECK(cli::resolve_state_dir(common, tmp / "bin/shop.toml").dir == want);
        common.config = (tmp / "etc/rollback.toml").string();
        CHECK(cli::resolve_state_dir(common, fs::path()).dir == want);
        common.config.clear();
        common.state_dir = "link/../st";
        CHECK(cli::resolve_state_dir(common, fs::path()).dir == canonical_dir(tmp / "real/st"));
        common.state_dir = "st/";
        CHECK(cli::resolve_state_dir(common, fs::path()).dir == canonical_dir(tmp.path()) / "st");
    }

    TEST_CASE("-c \"\" and --state-dir \"\" are errors — exit 2 — not the next place of the rule") {
        for (const char* option : {"-c", "--config", "--state-dir"}) {
            CAPTURE(option);
            cli::CommonOptions common;
            po::options_description desc("x");
            cli::add_common_options(desc, common, cli::use_config | cli::use_state_dir);
            po::variables_map vm;
            try {
                cli::parse_options("run", std::vector<std::string>{option, ""}, desc, {}, vm);
                FAIL("no error");
            } catch (const util::Error& e) {
                CHECK(std::string(e.what()).find("empty path") != std::string::npos);
                CHECK(e.code() == util::ExitCode::invalid);
            }
        }
    }

    TEST_CASE("a state directory that cannot be known is an error — exit 2") {
        test::TempDir tmp;
        cli::CommonOptions common;
        Scene s(tmp.path(), std::nullopt);
        SUBCASE("-c names a missing file") {
            common.config = "missing.toml";
            try {
                cli::resolve_state_dir(common, fs::path());
                FAIL("no error");
            } catch (const util::Error& e) {
                CHECK(std::string(e.what()) == "no configuration: missing.toml does not exist");
                CHECK(e.code() == util::ExitCode::invalid);
            }
        }
        SUBCASE("the config found does not load: its located errors") {
            tmp.write("rollback.toml", "[target]\nnmae = \"shop\"\n");
            try {
                cli::resolve_state_dir(common, fs::path());
                FAIL("no error");
            } catch (const util::InvalidInput& e) {
                CHECK(std::string(e.what()).find("rollback.toml:2:1") != std::string::npos);
                CHECK(e.code() == util::ExitCode::invalid);
            }
        }
    }
}
