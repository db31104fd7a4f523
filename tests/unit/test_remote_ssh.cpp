// SPDX-License-Identifier: MIT
// Break-it round 34 (findings 06, 07): only [remote] known_hosts decides a host key, and a
// changed or revoked key is never reported as an unknown key to add (the fake process runner;
// the stderr texts are OpenSSH 9.2's).
#include "remote/ssh.hpp"

#include "support/fake_runner.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <string>

using namespace rollback;

namespace {

const char* const k_changed = R"(@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Add correct host key in /k/known_hosts to get rid of this message.
Offending ED25519 key in /k/known_hosts:5
  remove with:
  ssh-keygen -f "/k/known_hosts" -R "[127.0.0.1]:23499"
Host key for [127.0.0.1]:23499 has changed and you have requested strict checking.
Host key verification failed.
)";

const char* const k_revoked = R"(@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@       WARNING: REVOKED HOST KEY DETECTED!               @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
The ED25519 host key for [127.0.0.1]:23499 is marked as revoked.
ED25519 host key for [127.0.0.1]:23499 was revoked and you have requested strict checking.
Host key verification failed.
)";

const char* const k_unknown = "No ED25519 host key is known for [127.0.0.1]:23499 and you have "
                              "requested strict checking.\nHost key verification failed.\n";

std::string open_with(const std::string& err, std::vector<std::string>* argv = nullptr,
                      const std::string& config = {}) {
    test::FakeProcessRunner runner;
    runner.default_outcome = test::FakeProcessRunner::exited(255, "", err);
    remote::SshSettings settings;
    settings.known_hosts = "/k/known_hosts";
    settings.config = config;
    remote::Host h;
    h.name = "web2";
    h.address = "127.0.0.1";
    h.port = 23499;
    std::string problem;
    {
        remote::Connections c(runner, settings);
        problem = c.open(h);
    }
    if (argv != nullptr && !runner.calls.empty()) {
        *argv = runner.calls.front().argv;
    }
    return problem;
}

bool has_pair(const std::vector<std::string>& argv, const std::string& a, const std::string& b) {
    for (size_t i = 0; i + 1 < argv.size(); ++i) {
        if (argv[i] == a && argv[i + 1] == b) {
            return true;
        }
    }
    return false;
}

} // namespace

TEST_SUITE("remote") {
    TEST_CASE("a changed or revoked host key says it does not match: never add it") {
        for (const char* err : {k_changed, k_revoked}) {
            const std::string p = open_with(err);
            CAPTURE(p);
            CHECK(p.find("does not match known_hosts /k/known_hosts") != std::string::npos);
            CHECK(p.find("possible attack, verify the new key out of band") != std::string::npos);
            CHECK(p.find("then add it") == std::string::npos);
        }
        CHECK(open_with(k_changed).find("(Offending ED25519 key in /k/known_hosts:5)") !=
              std::string::npos);
        const std::string unknown = open_with(k_unknown);
        CHECK(unknown.find("is not in known_hosts /k/known_hosts") != std::string::npos);
    }

    TEST_CASE("only [remote] known_hosts and ssh_config reach ssh") {
        std::vector<std::string> argv;
        open_with(k_unknown, &argv);
        REQUIRE_FALSE(argv.empty());
        CHECK(has_pair(argv, "-F", "/dev/null"));
        CHECK(has_pair(argv, "-o", "KnownHostsCommand=none"));
        CHECK(has_pair(argv, "-o", "GlobalKnownHostsFile=/dev/null"));
        CHECK(has_pair(argv, "-o", "VerifyHostKeyDNS=no"));
        open_with(k_unknown, &argv, "/k/ssh_config");
        CHECK(has_pair(argv, "-F", "/k/ssh_config"));
        CHECK(std::count(argv.begin(), argv.end(), "-F") == 1);
    }
}
