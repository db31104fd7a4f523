// SPDX-License-Identifier: MIT
// Secrets are masked on a child's whole output stream, before the tail is kept and before a chunk
// is shown (DESIGN.md, trust invariant 6): a secret split across reads, or where the kept tail
// begins, leaves no character of itself behind, in any letter case.
#include "exec/runner.hpp"

#include "util/secrets.hpp"

#include <algorithm>
#include <cctype>
#include <doctest/doctest.h>
#include <string>

using namespace rollback;
using exec::Command;

namespace {

const std::string k_secret = "cnrySecretQ7x9zAbCdEfGh12345"; // 28 characters

// The longest piece (4 characters or more) of the secret found in `text`, in any case; "" when
// none.
std::string leak(const std::string& text) {
    std::string low = text;
    std::transform(low.begin(), low.end(), low.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string sec = k_secret;
    std::transform(sec.begin(), sec.end(), sec.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (size_t len = sec.size(); len >= 4; --len) {
        for (size_t from = 0; from + len <= sec.size(); ++from) {
            if (low.find(sec.substr(from, len)) != std::string::npos) {
                return sec.substr(from, len);
            }
        }
    }
    return {};
}

struct Result {
    exec::Outcome outcome;
    std::string streamed; // everything on_output was given
};

// The child writes `first`, pauses (so the engine reads it as a chunk of its own), then `second`;
// on stdout or stderr.
Result run_split(const std::string& first, const std::string& second, size_t capture_limit,
                 bool to_stderr) {
    Command cmd;
    std::string redirect = to_stderr ? " >&2" : "";
    cmd.argv = {"sh", "-c",
                "printf '%s' \"$A\"" + redirect + "; sleep 0.05; printf '%s' \"$B\"" + redirect,
                "sh"};
    cmd.env = {{"A", first}, {"B", second}};
    cmd.capture_limit = capture_limit;
    Result r;
    cmd.on_output = [&r](std::string_view chunk, bool) { r.streamed.append(chunk); };
    r.outcome = exec::RealProcessRunner().run(cmd);
    return r;
}

} // namespace

TEST_SUITE("exec") {
    TEST_CASE("a secret cut by a read — at every offset — is masked in the tail and the stream") {
        util::register_secret(k_secret);
        const std::string upper = [] {
            std::string s = k_secret;
            std::transform(s.begin(), s.end(), s.begin(),
                           [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
            return s;
        }();
        for (const std::string& secret : {k_secret, upper}) {
            for (size_t cut = 1; cut < secret.size(); ++cut) {
                bool err = cut % 2 == 1;
                auto r = run_split("password: " + secret.substr(0, cut), secret.substr(cut) + "\n",
                                   64 * 1024, err);
                const std::string& tail = err ? r.outcome.stderr_tail : r.outcome.stdout_tail;
                INFO("cut at " << cut << " of " << secret << ", stderr: " << err);
                CHECK(tail == "password: ***\n");
                CHECK(r.streamed == "password: ***\n");
                CHECK(leak(tail + r.streamed).empty());
            }
        }
        util::clear_secrets();
    }

    TEST_CASE("the kept tail never begins inside a secret — at every offset around its limit") {
        util::register_secret(k_secret);
        const size_t limit = 1000;
        for (size_t back = 1; back <= k_secret.size() + 2; ++back) {
            // Without masking first, the tail would begin `back` bytes before the end of the
            // secret: its last characters.
            std::string after(limit - back, 'z');
            auto r = run_split(std::string(3000, 'a') + k_secret, after, limit, false);
            INFO("tail limit " << limit << " begins " << back << " bytes before the secret ends");
            CHECK(r.outcome.stdout_bytes == 3000 + k_secret.size() + after.size());
            CHECK(r.outcome.stdout_tail.size() <= limit);
            CHECK(leak(r.outcome.stdout_tail).empty());
            CHECK(leak(r.streamed).empty());
        }
        util::clear_secrets();
    }
}
