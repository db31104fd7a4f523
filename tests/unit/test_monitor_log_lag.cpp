// SPDX-License-Identifier: MIT
// A log whose lines come later than max_lateness (break-it 44/04: nginx `buffer=`, a shipper, a
// web server's clock behind): the monitor cannot count them where they belong, so the source is
// unavailable — never a count of zero (a healthy release rolled back) and never no_traffic (an
// outage's errors hidden). And a server that never reopens its log, rotated twice (44/01): the
// first renamed file, still written, stays followed.
#include "monitor/monitor.hpp"

#include "exec/runner.hpp"
#include "support/log_lines.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

using namespace rollback;
using rollback::test::log_line;
using std::chrono::seconds;

namespace {

std::string config(const std::string& condition) {
    return R"([target]
name = "t"
[source.web]
kind = "access_log"
path = "access.log"
interval = "1s"
max_lateness = "2s"
[[condition]]
)" + condition +
           R"(
[decision]
interval = "1s"
cooldown = "1h"
)";
}

const char* k_count_below = "name = \"traffic\"\nsignal = \"web.request_count\"\nwindow = "
                            "\"30s\"\nbelow = 5";
const char* k_errors = "name = \"errors\"\nsignal = \"web.error_rate\"\nwindow = \"30s\"\n"
                       "above = 0.05\nmin_requests = 10";

int64_t epoch_s(util::SystemTime t) {
    return std::chrono::duration_cast<seconds>(t.time_since_epoch()).count();
}

struct Outcome {
    int triggers = 0;
    std::vector<decision::ConditionRecord> last; ///< of the last 10 ticks
};

/// Ticks every second for two minutes; before each, `write(now_s)` appends to the log.
Outcome run(const rollback::test::TempDir& dir, const std::string& condition,
            const std::function<void(int64_t)>& write) {
    auto cfg = config::parse(config(condition), "rollback.toml", dir.path());
    monitor::Monitor mon(cfg);
    exec::RealProcessRunner runner;
    Outcome out;
    const auto start = util::parse_time("2026-11-26T10:00:00Z").value();
    for (int i = 0; i < 120; ++i) {
        const auto now = start + seconds(i);
        write(epoch_s(now));
        auto e = mon.tick(runner, now);
        out.triggers += e.record.action == decision::Action::trigger;
        if (i >= 110) {
            out.last.push_back(e.record.conditions.at(0));
        }
    }
    return out;
}

void append(const std::filesystem::path& p, const std::string& text) {
    std::ofstream(p, std::ios::app) << text;
}

/// 10 requests a second dated `lag` s before they are written; `failing` of them 500s.
std::function<void(int64_t)> writer(const rollback::test::TempDir& dir, int lag, int failing) {
    return [&dir, lag, failing](int64_t now_s) {
        std::string lines;
        for (int k = 0; k < 10; ++k) {
            lines += log_line(now_s - lag, k < failing ? 500 : 200);
        }
        append(dir / "access.log", lines);
    };
}

} // namespace

TEST_SUITE("monitor") {
    TEST_CASE("lines later than max_lateness: the source is unavailable - never a count of 0 - "
              "never no traffic") {
        for (const bool errors : {false, true}) {
            CAPTURE(errors);
            rollback::test::TempDir dir;
            dir.write("access.log", "");
            auto out = run(dir, errors ? k_errors : k_count_below, writer(dir, 5, errors ? 5 : 0));
            if (!errors) {
                CHECK(out.triggers == 0); // (the outage's first lines, in time, may trigger)
            }
            for (const auto& c : out.last) {
                CHECK(c.verdict == decision::Verdict::no_data);
                CHECK(c.policy == decision::Policy::escalate);
                CHECK(c.detail.find("lines come later than max_lateness = 2s") !=
                      std::string::npos);
            }
        }
    }

    TEST_CASE("lines within max_lateness: counted - a healthy site stays ok") {
        rollback::test::TempDir dir;
        dir.write("access.log", "");
        auto out = run(dir, k_count_below, writer(dir, 1, 0));
        CHECK(out.triggers == 0);
        for (const auto& c : out.last) {
            CHECK(c.verdict == decision::Verdict::ok);
        }
    }

    TEST_CASE("a server that never reopens its log rotated twice: the first renamed file stays "
              "followed") {
        rollback::test::TempDir dir;
        dir.write("access.log", "");
        std::ofstream server(dir / "access.log", std::ios::app); // its descriptor, never reopened
        int tick = 0;
        auto out = run(dir, k_count_below, [&](int64_t now_s) {
            std::string lines;
            for (int k = 0; k < 10; ++k) {
                lines += log_line(now_s, 200);
            }
            server << lines << std::flush;
            const int i = tick++;
            if (i == 30 || i == 60) { // logrotate with `create`, no postrotate
                if (i == 60) {
                    std::filesystem::rename(dir / "access.log.1", dir / "access.log.2");
                }
                std::filesystem::rename(dir / "access.log", dir / "access.log.1");
                dir.write("access.log", "");
            }
        });
        CHECK(out.triggers == 0);
        for (const auto& c : out.last) {
            CHECK(c.verdict == decision::Verdict::ok);
        }
    }
}
