// SPDX-License-Identifier: MIT
// The watched start of an empty log survives the monitor (break-it 44/06): after a logrotate that
// compressed at once, `monitor --once` on a timer, a reload or a restart more often than one
// window found no dead site, because each new monitor watched the empty file afresh. The start
// is kept in the policy memory (monitor-policy.json) with the file's identity: the same file
// continues it, a different one starts afresh.
#include "monitor/monitor.hpp"

#include "exec/runner.hpp"
#include "state/policy_memory.hpp"
#include "support/log_lines.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <optional>

using namespace rollback;
using rollback::test::log_line;
using std::chrono::seconds;

namespace {

const char* k_config = R"(
[target]
name = "t"
[source.web]
kind = "access_log"
path = "access.log"
interval = "10s"
max_lateness = "0s"
[[condition]]
name = "traffic"
signal = "web.request_count"
window = "1m"
below = 5
[decision]
interval = "10s"
cooldown = "1h"
)";

int64_t epoch_s(util::SystemTime t) {
    return std::chrono::duration_cast<seconds>(t.time_since_epoch()).count();
}

/// A dead site after a compressing rotation at 10:00:30: access.log.1.gz (not read) and an
/// empty access.log.
void rotated_dead_site(const rollback::test::TempDir& dir, util::SystemTime start) {
    const int64_t died = epoch_s(start) - 60;
    std::string lines;
    for (int64_t t = died - 600; t < died; ++t) {
        lines += log_line(t, 200) + log_line(t, 200);
    }
    dir.write("access.log.1.gz", lines);
    dir.write("access.log", "");
}

/// One `monitor --once` at `now`: a new Monitor that resumes the kept memory, one tick, the
/// memory kept again. Returns its action.
decision::Action once(const rollback::test::TempDir& dir, util::SystemTime now) {
    auto cfg = config::parse(k_config, "rollback.toml", dir.path());
    monitor::Monitor mon(cfg);
    const auto state = dir.path() / ".rollback";
    std::filesystem::create_directories(state);
    if (auto memory = state::load_policy_memory(state)) {
        mon.resume_policy(*memory);
    }
    exec::RealProcessRunner runner;
    auto e = mon.tick(runner, now);
    state::save_policy_memory(state, mon.policy_memory());
    return e.record.action;
}

} // namespace

TEST_SUITE("monitor") {
    TEST_CASE("monitor --once every 10 s after a compressing rotation: the dead site is found as "
              "one long-running monitor finds it") {
        rollback::test::TempDir dir;
        const auto start = util::parse_time("2026-11-26T10:01:00Z").value();
        rotated_dead_site(dir, start);
        std::optional<int> trigger_at;
        for (int i = 0; i <= 24 && !trigger_at; ++i) {
            if (once(dir, start + seconds(10 * i)) == decision::Action::trigger) {
                trigger_at = 10 * i;
            }
        }
        // Watched from 10:01:10 by the first run: the first whole window ends 10:02:20, as for
        // one monitor that never stopped (test_monitor_rotation_restart.cpp).
        REQUIRE(trigger_at);
        CHECK(*trigger_at == 80);
    }

    TEST_CASE("a different file under the log's name starts the watch afresh") {
        rollback::test::TempDir dir;
        const auto start = util::parse_time("2026-11-26T10:01:00Z").value();
        rotated_dead_site(dir, start);
        CHECK(once(dir, start) == decision::Action::none);
        CHECK(once(dir, start + seconds(10)) == decision::Action::none);
        // Rotated again (a new, empty file): what the old one showed is not this one's.
        std::filesystem::rename(dir.path() / "access.log", dir.path() / "access.log.1");
        dir.write("access.log", "");
        std::optional<int> trigger_at;
        for (int i = 2; i <= 24 && !trigger_at; ++i) {
            if (once(dir, start + seconds(10 * i)) == decision::Action::trigger) {
                trigger_at = 10 * i;
            }
        }
        REQUIRE(trigger_at);
        CHECK(*trigger_at == 20 + 80); // a whole window after the run that first read it
    }
}
