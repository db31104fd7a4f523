// SPDX-License-Identifier: MIT
// monitor::Loop over an access log in virtual time, reloaded and restarted: its first tick
// warms up over the log it re-reads, so it triggers when and as often as a loop that never
// stopped (docs/decision.md "trigger and monitor", Warm-up; break-it round 4 of issue 10,
// findings 01 and 04).
#include "monitor/loop.hpp"

#include "state/memory_store.hpp"
#include "util/files.hpp"

#include "support/fake_runner.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace rollback;
using decision::Action;

namespace {

namespace fs = std::filesystem;

class FakeClock final : public util::Clock {
  public:
    util::SystemTime now() const override { return t; }
    util::SystemTime t;
};

class Quiet final : public monitor::LoopOutput {
  public:
    void decision(const decision::DecisionRecord&) override {}
    void say(const std::string&) override {}
    void problem(const std::string&) override {}
};

class NoRuns final : public monitor::RunStarter {
  public:
    int start(const playbook::Playbook&, const actions::Trigger&, const state::RunFence&) override {
        return 0;
    }
    int resume(const std::string&, const state::RunFence&) override { return 0; }
};

// 30 % 5xx (or `share`) at 10 requests a second, rule above 5 %, for 4s, observe mode.
struct LogWorld {
    LogWorld() {
        config_file = dir.write("rollback.toml", R"([target]
name = "shop"
[source.web]
kind = "access_log"
path = "access.log"
format = "combined"
interval = "1s"
max_lateness = "1s"
[[condition]]
name = "err"
signal = "web.error_rate"
window = "3s"
above = 0.05
min_requests = 5
for = "4s"
resolve_after = "2s"
[decision]
mode = "observe"
interval = "1s"
cooldown = "5s"
)");
        dir.write("access.log", "");
        // Virtual time on a whole second, a minute before now (lines are never in the future).
        clock.t = util::SystemTime(std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())) -
                  std::chrono::minutes(1);
    }

    /// The lines of the second starting at `t`: 10 requests, `errors` of them 5xx.
    void log_second(util::SystemTime t, int errors) {
        std::ofstream f(dir / "access.log", std::ios::app);
        const std::time_t secs = std::chrono::system_clock::to_time_t(t);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char when[64];
        std::strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
        for (int i = 0; i < 10; ++i) {
            f << "127.0.0.1 - - [" << when << "] \"GET / HTTP/1.1\" " << (i < errors ? 500 : 200)
              << " 12 \"-\" \"t\"\n";
        }
    }

    std::unique_ptr<monitor::Loop> make_loop() {
        return std::make_unique<monitor::Loop>(
            monitor::LoopEnv{clock, runner, store, starter, out, dir.path()},
            config::load(config_file), false);
    }

    /// The trigger decisions among the ticks kept in the store (the loop's records).
    size_t triggers() const {
        size_t n = 0;
        for (const auto& day : store.ticks()) {
            for (const auto& line : day.second) {
                n += line.find("\"action\":\"trigger\"") != std::string::npos;
            }
        }
        return n;
    }

    test::TempDir dir;
    fs::path config_file;
    FakeClock clock;
    test::FakeProcessRunner runner;
    state::MemoryStore store;
    NoRuns starter;
    Quiet out;
};

// Runs `seconds` of log (errors per second) through loops; `action(i, loop)` may reload or
// replace the loop before tick i (nullptr: no monitor runs at that tick). Returns the number
// of trigger decisions kept.
size_t run(LogWorld& w, const std::vector<int>& errors,
           const std::function<void(size_t, std::unique_ptr<monitor::Loop>&)>& action) {
    const auto start = w.clock.t;
    std::unique_ptr<monitor::Loop> loop;
    for (size_t i = 0; i < errors.size(); ++i) {
        w.log_second(start + std::chrono::seconds(i), errors[i]);
        w.clock.t = start + std::chrono::seconds(i + 1) + std::chrono::milliseconds(250);
        action(i, loop);
        if (loop) {
            loop->iterate(true);
            loop->schedule_next(true);
        }
    }
    if (loop) {
        loop->save();
    }
    return w.triggers();
}

std::vector<int> outage(size_t healthy, size_t bad, int errors) {
    std::vector<int> v(healthy, 0);
    v.insert(v.end(), bad, errors);
    return v;
}

} // namespace

TEST_SUITE("monitor") {
    TEST_CASE("loop: reloads and restarts every two ticks keep the breaching run") {
        const auto log = outage(4, 14, 3);
        {
            LogWorld w;
            CHECK(run(w, log, [&](size_t i, std::unique_ptr<monitor::Loop>& loop) {
                      if (i == 0) {
                          loop = w.make_loop();
                      }
                  }) == 1);
        }
        {
            LogWorld w; // SIGHUP every two ticks
            CHECK(run(w, log, [&](size_t i, std::unique_ptr<monitor::Loop>& loop) {
                      if (i == 0) {
                          loop = w.make_loop();
                      } else if (i % 2 == 0) {
                          loop->reload();
                      }
                  }) == 1);
        }
        {
            LogWorld w; // SIGTERM + start every two ticks
            CHECK(run(w, log, [&](size_t i, std::unique_ptr<monitor::Loop>& loop) {
                      if (i % 2 == 0) {
                          if (loop) {
                              loop->save();
                          }
                          loop = w.make_loop();
                      }
                  }) == 1);
        }
    }

    TEST_CASE("loop: a new outage after a restart is not the old acted incident") {
        // Outage 1 triggers; no monitor from tick 12 to 25 (outage 1 ends at 14); outage 2 from
        // 20 is under way when the monitor starts again at 26: a second trigger.
        std::vector<int> log = outage(2, 12, 3);
        const auto healthy = outage(6, 0, 0);
        log.insert(log.end(), healthy.begin(), healthy.end());
        const auto second = outage(0, 12, 5);
        log.insert(log.end(), second.begin(), second.end());
        LogWorld w;
        CHECK(run(w, log, [&](size_t i, std::unique_ptr<monitor::Loop>& loop) {
                  if (i == 0 || i == 26) {
                      loop = w.make_loop();
                  } else if (i == 12) {
                      loop->save();
                      loop.reset();
                  }
              }) == 2);
    }
}
