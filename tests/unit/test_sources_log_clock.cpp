// SPDX-License-Identifier: MIT
// The clock of a replayed log (docs/decision.md, "Event time and lateness"): the watermark follows
// what most recent lines agree on, so a minority of lines from a worker whose clock runs ahead by
// less than a jump makes no right line "too late"; and the first line gets no more trust than any
// other, so a first line (or CSV row) dated far behind the rest costs that line, not the stream.
#include "sources/access_log.hpp"
#include "sources/csv.hpp"
#include "sources/jump_hold.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace rollback::sources;
using rollback::decision::Sample;

namespace {

constexpr int64_t k_base = 1'772'366'400; // 2026-03-01T12:00:00Z

LogEntry line(int64_t t, int status = 200) {
    LogEntry e;
    e.time_s = t;
    e.status = status;
    return e;
}

struct Run {
    std::vector<Sample> samples;
    uint64_t implausible = 0, late = 0, counted = 0, errors = 0;
};

/// A replay: 10 s intervals, max_lateness 60 s (jump 80 s), the log's own clock.
Run replay(const std::vector<LogEntry>& log) {
    Run r;
    RequestAggregator agg(
        10, [&](Sample s) { r.samples.push_back(std::move(s)); }, 60);
    for (const auto& e : log) {
        agg.add(e);
    }
    agg.flush_all();
    r.implausible = agg.implausible();
    r.late = agg.late();
    for (const auto& s : r.samples) {
        r.counted += s.count;
        r.errors += s.errors;
    }
    return r;
}

/// Finding 01: two right workers at 2 lines/s, all 500 from minute 2, and a healthy worker whose
/// clock is `skew` seconds ahead writing one 200 each second; `every` right seconds per skewed
/// line (1: one skewed line after each right pair).
std::vector<LogEntry> skewed_worker_log(int64_t skew, int every) {
    std::vector<LogEntry> log;
    for (int64_t s = 0; s < 600; ++s) {
        for (int k = 0; k < 2; ++k) {
            log.push_back(line(k_base + s, s >= 120 ? 500 : 200));
        }
        if (s % every == 0) {
            log.push_back(line(k_base + s + skew, 200));
        }
    }
    return log;
}

} // namespace

TEST_SUITE("sources") {
    TEST_CASE("replay watermark: a worker ahead by less than a jump makes no right line late") {
        for (const int64_t skew : {int64_t{4}, int64_t{30}, int64_t{70}, int64_t{79}}) {
            for (const int every : {1, 3}) {
                CAPTURE(skew);
                CAPTURE(every);
                const auto log = skewed_worker_log(skew, every);
                const Run r = replay(log);
                CHECK(r.late == 0);
                CHECK(r.implausible == 0);
                CHECK(r.counted == log.size());
                CHECK(r.errors == 2 * 480);
            }
        }
    }

    TEST_CASE("replay watermark: lines more than max_lateness behind what most lines agree on") {
        // Steady 2 lines/s; one line 90 s late at minute 5 is too late (reported), and a run of
        // a few lines late likewise: the watermark is not held back by a minority.
        std::vector<LogEntry> log;
        for (int64_t s = 0; s < 600; ++s) {
            log.push_back(line(k_base + s));
            log.push_back(line(k_base + s));
            if (s == 300) {
                for (int k = 0; k < 3; ++k) {
                    log.push_back(line(k_base + s - 90, 504));
                }
            }
        }
        const Run r = replay(log);
        CHECK(r.late == 3);
        CHECK(r.errors == 0);
        CHECK(r.counted == 1200);
    }

    TEST_CASE("replay watermark: nothing is final before 17 lines - a short log is all counted") {
        std::vector<LogEntry> log;
        for (int k = 0; k < 16; ++k) {
            log.push_back(line(k_base + 10 * k));
        }
        log.push_back(line(k_base, 500)); // 150 s behind the newest: no 17 lines agreed yet
        const Run r = replay(log);
        CHECK(r.late == 0);
        CHECK(r.counted == 17);
        CHECK(r.errors == 1);
    }

    TEST_CASE("first line: a year or an hour behind the rest costs that line only") {
        for (const int64_t behind : {int64_t{365} * 86400, int64_t{3600}, int64_t{81}}) {
            CAPTURE(behind);
            std::vector<LogEntry> log{line(k_base - behind)};
            for (int64_t s = 0; s < 600; ++s) {
                log.push_back(line(k_base + s));
                log.push_back(line(k_base + s));
            }
            const Run r = replay(log);
            CHECK(r.implausible == 1);
            CHECK(r.counted == 1200);
            REQUIRE(!r.samples.empty());
            // the first sample is the interval of the first right line: no zero buckets before
            CHECK(r.samples.front().time.time_since_epoch() == std::chrono::seconds(k_base + 10));
        }
    }

    TEST_CASE("first lines: a short run then a gap longer than the jump is refuted - a long one "
              "counts") {
        // A run that spans less than the jump, then the log goes on an hour later: the run did not
        // go on, as a burst in the middle. A run that spans the jump is confirmed by itself.
        std::vector<LogEntry> shortrun{line(k_base), line(k_base + 30)};
        std::vector<LogEntry> longrun{line(k_base), line(k_base + 40), line(k_base + 80)};
        for (int64_t s = 3600; s < 3900; ++s) {
            shortrun.push_back(line(k_base + s));
            longrun.push_back(line(k_base + s));
        }
        const Run a = replay(shortrun);
        CHECK(a.implausible == 2);
        CHECK(a.counted == 300);
        const Run b = replay(longrun);
        CHECK(b.implausible == 0);
        CHECK(b.counted == 303);
        // A checkout failing for 50 s at 5 req/s, silent for two hours, then healthy: the first
        // run is not isolated (more than 3 lines) and counts — the failure is never lost.
        std::vector<LogEntry> outage;
        for (int64_t k = 0; k < 250; ++k) {
            outage.push_back(line(k_base + k / 5, k % 5 == 0 ? 500 : 200));
        }
        for (int64_t k = 0; k < 3000; ++k) {
            outage.push_back(line(k_base + 7200 + k / 5));
        }
        const Run c = replay(outage);
        CHECK(c.implausible == 0);
        CHECK(c.counted == 3250);
        CHECK(c.errors == 50);
    }

    TEST_CASE("first line: the same wild line first or in the middle costs the same") {
        std::vector<LogEntry> right;
        for (int64_t s = 0; s < 600; ++s) {
            right.push_back(line(k_base + s, s >= 300 ? 500 : 200));
        }
        const Run base = replay(right);
        for (const int64_t off : {int64_t{-365} * 86400, int64_t{-3600}, int64_t{3600}}) {
            CAPTURE(off);
            for (const size_t at : {size_t{0}, size_t{200}}) {
                CAPTURE(at);
                auto log = right;
                log.insert(log.begin() + static_cast<std::ptrdiff_t>(at),
                           line(right[at].time_s + off, 500));
                const Run r = replay(log);
                // refuted (first, or ahead), or too late (behind the clock in the middle)
                CHECK(r.implausible + r.late == 1);
                CHECK(r.counted == base.counted);
                CHECK(r.errors == base.errors);
                CHECK(r.samples.size() == base.samples.size());
            }
        }
    }

    TEST_CASE("CSV: a first row typo'd a year behind costs that row - the rows after it count") {
        const std::string a = "timestamp,value\n2025-03-01 00:00:00,1\n2026-03-01 00:00:00,9\n"
                              "2026-03-01 00:05:00,9\n";
        CsvStats st;
        const auto rows = parse_value_csv(a, "a.csv", &st);
        REQUIRE(rows.size() == 2);
        CHECK(rows[0].value == 9);
        CHECK(rows[1].value == 9);
        CHECK(st.implausible == 1);
        CHECK(st.first_implausible_line == 2);
        // the same typo in the middle of a series (its rows span the jump, 10 minutes)
        const std::string b = "timestamp,value\n2026-03-01 00:00:00,9\n2026-03-01 00:05:00,9\n"
                              "2026-03-01 00:10:00,9\n2025-03-01 00:15:00,1\n"
                              "2026-03-01 00:15:00,9\n";
        CsvStats st2;
        const auto rows2 = parse_value_csv(b, "b.csv", &st2);
        CHECK(rows2.size() == 4);
        CHECK(st2.out_of_order == 1);
        CHECK(st2.implausible == 0);
    }

    TEST_CASE("JumpHold: a first entry far behind is refuted by the run that goes on") {
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
        for (int64_t t : {5, 100, 101, 111}) { // a first line far behind, then the log
            feed(t);
        }
        CHECK(refused == std::vector<int64_t>{5});
        CHECK(counted == std::vector<int64_t>{100, 101, 111});
        for (int64_t t : {500, 505, 112}) { // a run ahead, then the log again
            feed(t);
        }
        CHECK(refused == std::vector<int64_t>{5, 500, 505});
        CHECK(counted.back() == 112);
        // A sparse stream (an entry an hour): its first entry counts, one against one.
        std::vector<int64_t> sparse_counted, sparse_refused;
        int64_t sparse_clock = INT64_MIN;
        JumpHold<int64_t> sparse(10);
        for (int64_t t : {0, 3600, 7200, 10800}) {
            sparse.feed(
                t, t, [&] { return sparse_clock; },
                [&](int64_t x) {
                    sparse_counted.push_back(x);
                    sparse_clock = std::max(sparse_clock, x);
                },
                [&](int64_t x) { sparse_refused.push_back(x); });
        }
        sparse.finish([&] { return sparse_clock; }, 86400,
                      [&](int64_t x) { sparse_counted.push_back(x); },
                      [&](int64_t x) { sparse_refused.push_back(x); });
        CHECK(sparse_counted == std::vector<int64_t>{0, 3600, 7200, 10800});
        CHECK(sparse_refused.empty());
    }
}
