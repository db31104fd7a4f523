// SPDX-License-Identifier: MIT
// A worker whose clock runs ahead: bursts of its lines (or rows) of any length move neither the
// stream's clock nor its watermark, in a replay (the log's own clock) and live (the monitor's);
// a real quiet gap is still confirmed by the lines after it (docs/decision.md, "Event time and
// lateness").
#include "sources/access_log.hpp"
#include "sources/csv.hpp"
#include "sources/jump_hold.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

using namespace rollback::sources;
using rollback::decision::Sample;

namespace {

constexpr int64_t k_base = 1'700'000'040; // 2023-11-14T22:14:00Z
constexpr int64_t k_two_hours = 7200;

LogEntry line(int64_t t, int status = 200) {
    LogEntry e;
    e.time_s = t;
    e.status = status;
    return e;
}

struct Run {
    std::vector<Sample> samples;
    uint64_t implausible = 0, late = 0;
};

/// The log read by its own clock (a replay): 10 s intervals, 30 s max_lateness (jump 50 s).
Run replay(const std::vector<LogEntry>& log) {
    Run r;
    RequestAggregator agg(
        10, [&](Sample s) { r.samples.push_back(std::move(s)); }, 30);
    for (const auto& e : log) {
        agg.add(e);
    }
    agg.flush_all();
    r.implausible = agg.implausible();
    r.late = agg.late();
    return r;
}

/// The same log read live: lines with arrival second a are read at the tick after it (every
/// 10 s), the watermark is the monitor's clock. `arrivals[i]` is when log[i] was written.
Run live(const std::vector<LogEntry>& log, const std::vector<int64_t>& arrivals, int64_t until) {
    Run r;
    RequestAggregator agg(
        10, [&](Sample s) { r.samples.push_back(std::move(s)); }, 30,
        RequestAggregator::Clock::caller);
    size_t i = 0;
    for (int64_t now = k_base + 10; now <= until; now += 10) {
        agg.reading_at(now);
        for (; i < log.size() && arrivals[i] < now; ++i) {
            agg.add(log[i]);
        }
        agg.flush_until(now);
    }
    r.implausible = agg.implausible();
    r.late = agg.late();
    return r;
}

bool same(const std::vector<Sample>& a, const std::vector<Sample>& b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].time != b[i].time || a[i].count != b[i].count || a[i].errors != b[i].errors ||
            a[i].late != b[i].late) {
            return false;
        }
    }
    return true;
}

/// Two lines a second for 20 minutes, 5xx from minute 8 to 11, written up to 3 s late.
std::vector<LogEntry> steady_log(std::vector<int64_t>* arrivals = nullptr) {
    std::vector<LogEntry> log;
    std::mt19937 rng(77);
    for (int64_t a = k_base; a < k_base + 1200; ++a) {
        for (int k = 0; k < 2; ++k) {
            const int64_t t = a - static_cast<int64_t>(rng() % 4);
            const int64_t m = (t - k_base) / 60;
            log.push_back(line(t, m >= 8 && m < 11 ? 503 : 200));
            if (arrivals) {
                arrivals->push_back(a);
            }
        }
    }
    return log;
}

} // namespace

TEST_SUITE("sources") {
    TEST_CASE("a burst of any length from a clock two hours ahead changes no sample of a replay") {
        const auto base_log = steady_log();
        const Run base = replay(base_log);
        REQUIRE(base.implausible == 0);
        for (const size_t burst : {size_t{1}, size_t{2}, size_t{3}, size_t{10}, size_t{1000}}) {
            for (const size_t at : {size_t{0}, size_t{1}, size_t{700}, base_log.size() - 5}) {
                CAPTURE(burst);
                CAPTURE(at);
                auto log = base_log;
                const int64_t ref = log[at == 0 ? 0 : at - 1].time_s;
                std::vector<LogEntry> wild;
                for (size_t k = 0; k < burst; ++k) {
                    // the burst's own times: the same second or a few seconds apart
                    wild.push_back(line(ref + k_two_hours + static_cast<int64_t>(k % 7), 200));
                }
                log.insert(log.begin() + static_cast<std::ptrdiff_t>(at), wild.begin(), wild.end());
                const Run got = replay(log);
                CHECK(same(got.samples, base.samples));
                CHECK(got.implausible == burst);
                CHECK(got.late == base.late);
            }
        }
    }

    TEST_CASE("a real quiet gap is confirmed by the lines after it - held lines all count") {
        // Traffic, two hours of silence, traffic again (its first lines out of order): nothing
        // comes back before the jump, so every line counts and none is late.
        std::vector<LogEntry> log;
        for (int64_t t = k_base; t < k_base + 120; ++t) {
            log.push_back(line(t));
        }
        for (int64_t t = k_base + k_two_hours; t < k_base + k_two_hours + 120; ++t) {
            log.push_back(line(t + (t % 3 == 0 ? -2 : 0)));
        }
        const Run r = replay(log);
        CHECK(r.implausible == 0);
        CHECK(r.late == 0);
        uint64_t counted = 0;
        for (const auto& s : r.samples) {
            counted += s.count;
        }
        CHECK(counted == log.size());
        // Only the last lines after the gap: nothing confirms them but the end, within a day.
        log.resize(121);
        CHECK(replay(log).implausible == 0);
    }

    TEST_CASE("a burst during a quiet gap is refuted by the next line of the right clock") {
        // Quiet from k+60; at real k+600 a worker two hours ahead writes 5 lines; the right
        // lines come back at k+1200: the burst never counts, the lines after it do.
        std::vector<LogEntry> log;
        for (int64_t t = k_base; t < k_base + 60; ++t) {
            log.push_back(line(t));
        }
        for (int k = 0; k < 5; ++k) {
            log.push_back(line(k_base + 600 + k_two_hours + k, 500));
        }
        for (int64_t t = k_base + 1200; t < k_base + 1300; ++t) {
            log.push_back(line(t));
        }
        const Run r = replay(log);
        CHECK(r.implausible == 5);
        uint64_t errors = 0, counted = 0;
        for (const auto& s : r.samples) {
            errors += s.errors;
            counted += s.count;
        }
        CHECK(errors == 0);
        CHECK(counted == 160);
        CHECK(r.samples.back().time.time_since_epoch() < std::chrono::seconds(k_base + 1400));
    }

    TEST_CASE("live: bursts from a clock ahead are never counted - the samples are the replay's") {
        std::vector<int64_t> arrivals;
        const auto base_log = steady_log(&arrivals);
        const int64_t until = k_base + 1200 + 60;
        const Run base_live = live(base_log, arrivals, until);
        const Run base_replay = replay(base_log);
        // Live goes on with quiet intervals after the last line, up to its clock.
        auto prefix = [](const std::vector<Sample>& s, size_t n) {
            return std::vector<Sample>(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
        };
        REQUIRE(base_live.samples.size() >= base_replay.samples.size());
        CHECK(same(prefix(base_live.samples, base_replay.samples.size()), base_replay.samples));
        for (const size_t burst : {size_t{1}, size_t{2}, size_t{5}, size_t{200}}) {
            for (const size_t at : {size_t{0}, size_t{3}, size_t{900}}) {
                CAPTURE(burst);
                CAPTURE(at);
                auto log = base_log;
                auto arr = arrivals;
                const int64_t when = arr[at];
                for (size_t k = 0; k < burst; ++k) {
                    log.insert(log.begin() + static_cast<std::ptrdiff_t>(at),
                               line(when + k_two_hours, 500));
                    arr.insert(arr.begin() + static_cast<std::ptrdiff_t>(at), when);
                }
                const Run l = live(log, arr, until);
                const Run r = replay(log);
                CHECK(l.implausible == burst);
                CHECK(r.implausible == burst);
                CHECK(same(l.samples, base_live.samples));
                CHECK(same(r.samples, base_replay.samples));
            }
        }
    }

    TEST_CASE("CSV: consecutive rows with a typo'd year cost those rows only") {
        std::string csv = "timestamp,value\n";
        auto row = [](int y, int minute, double v) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%d-03-01 %02d:%02d:00,%g\n", y, minute / 60,
                          minute % 60, v);
            return std::string(buf);
        };
        for (int m = 0; m < 60; m += 5) {
            csv += row(2026, m, 1);
            if (m == 20) {
                csv += row(2027, m + 5, 9) + row(2027, m + 10, 9); // a burst of two
            }
        }
        CsvStats st;
        const auto rows = parse_value_csv(csv, "series.csv", &st);
        CHECK(rows.size() == 12);
        CHECK(st.implausible == 2);
        CHECK(st.first_implausible_line == 7);
        CHECK(st.out_of_order == 0);
        for (const auto& s : rows) {
            CHECK(s.value == 1);
        }
    }

    TEST_CASE("JumpHold: a run is confirmed a jump later and refuted a jump earlier") {
        std::vector<int64_t> counted, refused;
        int64_t clock = INT64_MIN;
        JumpHold<int64_t> hold(10);
        auto feed = [&](int64_t t) {
            hold.feed(
                t, t, [&] { return clock; },
                [&](int64_t x) {
                    counted.push_back(x);
                    clock = std::max(clock, x);
                },
                [&](int64_t x) { refused.push_back(x); });
        };
        for (int64_t t : {100, 101, 99, 111}) { // the first lines, then one a jump later
            feed(t);
        }
        CHECK(counted == std::vector<int64_t>{100, 101, 99, 111});
        for (int64_t t : {500, 501, 502, 112}) { // a burst ahead, then the right clock again
            feed(t);
        }
        CHECK(refused == std::vector<int64_t>{500, 501, 502});
        CHECK(counted.back() == 112);
        CHECK(hold.empty());
    }
}
