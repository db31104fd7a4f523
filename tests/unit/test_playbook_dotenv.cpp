// SPDX-License-Identifier: MIT
// The .env beside a playbook is read like the playbook: anything there that is not a regular file
// is refused, and a quote left open is a located error.
#include "playbook/loader.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace rollback;

namespace {

const char* const k_playbook = "[vars]\nv = { env = \"VV_UNSET_X\" }\n[[step]]\nid = \"a\"\n"
                               "action = \"exec\"\nargv = [\"echo\", \"{{v}}\"]\n";

struct Fixture {
    test::TempDir dir;
    std::map<std::string, std::string> env;
    playbook::LoadOptions options;
    Fixture() { options.environment = &env; }

    /// The exit code and message of loading the playbook (0 and "" when it loads).
    std::pair<int, std::string> load() const {
        try {
            playbook::load(dir.write("p.toml", k_playbook), options);
        } catch (const util::InvalidInput& e) {
            std::string all;
            for (const auto& d : e.diagnostics()) {
                all += d.where.file + ":" + std::to_string(d.where.line) + ":" +
                       std::to_string(d.where.column) + ": " + d.problem + "\n";
            }
            return {2, all};
        } catch (const util::Error& e) {
            return {util::to_int(e.code()), e.what()};
        }
        return {0, ""};
    }
};

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE(".env that is not a regular file is refused (FIFO or /dev/zero or directory)") {
        for (const char* kind : {"fifo", "zero", "dir"}) {
            CAPTURE(kind);
            Fixture f;
            const fs::path p = f.dir.path() / ".env";
            if (std::string(kind) == "fifo") {
                REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
            } else if (std::string(kind) == "zero") {
                fs::create_symlink("/dev/zero", p);
            } else {
                fs::create_directories(p);
            }
            const auto start = std::chrono::steady_clock::now();
            auto [code, message] = f.load();
            CHECK(code == 2);
            CHECK(message.find(".env") != std::string::npos);
            CHECK((message.find("not a regular file") != std::string::npos ||
                   message.find("directory") != std::string::npos));
            CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
        }
    }

    TEST_CASE(".env with an unterminated quote: located error") {
        Fixture f;
        f.dir.write(".env", "A=1\nexport VV_UNSET_X='x\n");
        auto [code, message] = f.load();
        CHECK(code == 2);
        CHECK(message.find(".env:2:19: unterminated single-quoted value of VV_UNSET_X") !=
              std::string::npos);
        f.dir.write(".env", "VV_UNSET_X=\"a\\\"\n");
        auto [code2, message2] = f.load();
        CHECK(code2 == 2);
        CHECK(message2.find(".env:1:12: unterminated double-quoted value") != std::string::npos);
        f.dir.write(".env", "VV_UNSET_X='closed'\n");
        CHECK(f.load().first == 0);
    }
}
