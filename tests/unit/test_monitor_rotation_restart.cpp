// SPDX-License-Identifier: MIT
// A monitor (re)started just after a logrotate (break-it 40/01): the new access.log is empty,
// the last hour is in access.log.1. Over a dead site a `request_count below` rule must still
// fire — from the rotated file's lines, or, without one, from the time the monitor itself
// watched the empty file — and over a healthy site whose server still writes the renamed file
// (logrotate without a reopen signal) it must not.
#include "monitor/monitor.hpp"

#include "exec/runner.hpp"
#include "support/log_lines.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <functional>
#include <optional>
#include <vector>

using namespace rollback;
using rollback::test::log_line;
using std::chrono::seconds;

namespace {

const char* k_dead_site_config = R"(
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

/// Two requests a second in [from, to) (s since the epoch).
std::string traffic(int64_t from, int64_t to) {
    std::string out;
    for (int64_t t = from; t < to; ++t) {
        out += log_line(t, 200) + log_line(t, 200);
    }
    return out;
}

struct Ticks {
    std::optional<int64_t> trigger_at; ///< seconds after the monitor's start
    std::vector<decision::Verdict> verdicts;
};

/// Ticks every 10 s for 4 minutes from `start`; `each` runs before each tick (the server writes).
Ticks run(const rollback::test::TempDir& dir, util::SystemTime start,
          const std::function<void(int64_t now_s)>& each = {}) {
    auto cfg = config::parse(k_dead_site_config, "rollback.toml", dir.path());
    monitor::Monitor mon(cfg);
    exec::RealProcessRunner runner;
    Ticks out;
    for (int i = 0; i <= 24; ++i) {
        const auto now = start + seconds(10 * i);
        if (each) {
            each(epoch_s(now));
        }
        auto e = mon.tick(runner, now);
        REQUIRE(e.record.conditions.size() == 1);
        out.verdicts.push_back(e.record.conditions[0].verdict);
        if (e.record.action == decision::Action::trigger && !out.trigger_at) {
            out.trigger_at = 10 * i;
            CHECK(*e.record.conditions[0].observed == doctest::Approx(0));
        }
    }
    return out;
}

} // namespace

TEST_SUITE("monitor") {
    TEST_CASE("restarted after a logrotate over a dead site: the rotated file is read first - "
              "the site is found dead at the first tick") {
        // The site died at 10:00:00; logrotate moved the log at 10:00:30; the monitor starts at
        // 10:01:00 on the empty new file.
        rollback::test::TempDir dir;
        const auto start = util::parse_time("2026-11-26T10:01:00Z").value();
        const int64_t died = epoch_s(start) - 60;
        dir.write("access.log.1", traffic(died - 600, died));
        dir.write("access.log", "");
        auto t = run(dir, start);
        REQUIRE(t.trigger_at);
        CHECK(*t.trigger_at <= 10);
    }

    TEST_CASE("restarted after a logrotate that compressed at once over a dead site: found dead "
              "a whole window after the monitor's start - never on the past it did not see") {
        rollback::test::TempDir dir;
        const auto start = util::parse_time("2026-11-26T10:01:00Z").value();
        const int64_t died = epoch_s(start) - 60;
        dir.write("access.log.1.gz", traffic(died - 600, died)); // not read: compressed
        dir.write("access.log", "");
        auto t = run(dir, start);
        REQUIRE(t.trigger_at);
        // Watched from 10:01:10 (the first whole interval after the first read): the first
        // quiet interval ends 10:01:20, the first whole window ends 10:02:20.
        CHECK(*t.trigger_at == 80);
        for (int i = 0; i < 8; ++i) {
            CAPTURE(i);
            CHECK(t.verdicts[i] != decision::Verdict::firing);
        }
    }

    TEST_CASE("restarted after a logrotate whose server still writes the renamed file: healthy - "
              "never a trigger") {
        // logrotate without `postrotate` (a Gunicorn never sent USR1): every request still goes
        // to access.log.1; the new access.log stays empty.
        rollback::test::TempDir dir;
        const auto start = util::parse_time("2026-11-26T10:01:00Z").value();
        const int64_t s0 = epoch_s(start);
        dir.write("access.log.1", traffic(s0 - 600, s0));
        dir.write("access.log", "");
        int64_t written = s0;
        auto t = run(dir, start, [&](int64_t now_s) {
            std::ofstream(dir.path() / "access.log.1", std::ios::app) << traffic(written, now_s);
            written = now_s;
        });
        CHECK_FALSE(t.trigger_at);
        for (auto v : t.verdicts) {
            CHECK(v == decision::Verdict::ok);
        }
    }
}
