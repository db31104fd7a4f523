// SPDX-License-Identifier: MIT
#include "decision/evaluator.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>

using namespace rollback::decision;
using namespace std::chrono_literals;

namespace {

const SystemTime k_t0 = SystemTime(std::chrono::seconds(1'700'000'000));
SystemTime at(std::chrono::seconds s) {
    return k_t0 + s;
}

ConditionSpec cond(Signal sig, std::string source = "web") {
    ConditionSpec c;
    c.name = "c";
    c.source = std::move(source);
    c.signal = sig;
    c.window = 60s;
    return c;
}

DecisionPolicy policy(Mode mode = Mode::auto_) {
    DecisionPolicy p;
    p.target = "shop";
    p.mode = mode;
    p.cooldown = 1h;
    return p;
}

// Healthy request samples: 100 requests, `errors` 5xx, latencies around `ms`.
Sample requests(SystemTime t, uint64_t count, uint64_t errors, double ms = 100) {
    std::vector<double> lat(count, ms);
    return Sample::make_requests(t, count, errors, sparse_histogram(lat));
}

// Feeds one sample per tick (every 10 s) from `make` and evaluates; returns every record.
std::vector<DecisionRecord> run(Evaluator& ev, int ticks,
                                const std::function<std::optional<Sample>(int, SystemTime)>& make,
                                const std::string& source = "web") {
    std::vector<DecisionRecord> out;
    for (int i = 0; i < ticks; ++i) {
        SystemTime t = at(std::chrono::seconds(10 * i));
        if (auto s = make(i, t)) {
            ev.add_sample(source, *s);
        }
        out.push_back(ev.evaluate(t).record);
    }
    return out;
}

int count_action(const std::vector<DecisionRecord>& rs, Action a) {
    int n = 0;
    for (const auto& r : rs) {
        n += r.action == a;
    }
    return n;
}

} // namespace

TEST_SUITE("decision") {
    TEST_CASE(
        "every (signal x missing-data kind x policy) cell has a distinct — explicit outcome") {
        struct Kind {
            const char* name;
            Missing missing;
            // A sample that produces the kind for the signal (nullopt: no sample at all).
            std::function<std::optional<Sample>(Signal, SystemTime)> make;
        };
        std::vector<Kind> kinds = {
            {"silence", Missing::no_data,
             [](Signal, SystemTime) { return std::optional<Sample>(); }},
            {"unavailable", Missing::no_data,
             [](Signal, SystemTime t) {
                 return std::optional(
                     Sample::make_missing(t, SampleKind::unavailable, "connection refused"));
             }},
            {"check error", Missing::error,
             [](Signal, SystemTime t) {
                 return std::optional(Sample::make_missing(t, SampleKind::error, "exit code 3"));
             }},
            {"zero requests", Missing::no_traffic,
             [](Signal, SystemTime t) { return std::optional(Sample::make_requests(t, 0, 0)); }},
            {"few requests", Missing::insufficient_sample,
             [](Signal, SystemTime t) { return std::optional(requests(t, 5, 5, 900)); }},
        };
        const std::vector<Signal> signals = {
            Signal::error_rate,    Signal::latency_p50, Signal::latency_p95, Signal::latency_p99,
            Signal::request_count, Signal::value,       Signal::downtime};
        int cells = 0;
        for (Signal sig : signals) {
            for (const auto& kind : kinds) {
                const bool traffic_kind = kind.missing == Missing::no_traffic ||
                                          kind.missing == Missing::insufficient_sample;
                if (traffic_kind && !is_request_signal(sig)) {
                    continue; // volume does not apply: value, downtime and request_count itself
                }
                for (Policy p : {Policy::ignore, Policy::escalate, Policy::trigger}) {
                    CAPTURE(to_string(sig));
                    CAPTURE(kind.name);
                    CAPTURE(to_string(p));
                    ConditionSpec c = cond(sig);
                    c.above = 0.5;
                    c.min_requests = 50;
                    c.on_no_data = c.on_no_traffic = c.on_insufficient_sample = c.on_error = p;
                    c.on_no_data_explicit = true;
                    Evaluator ev({c}, policy());
                    auto rs = run(ev, 3, [&](int, SystemTime t) { return kind.make(sig, t); });
                    const auto& first = rs[0].conditions[0];
                    CHECK(first.missing == kind.missing);
                    REQUIRE(first.policy);
                    const bool triggers =
                        p == Policy::trigger && kind.missing != Missing::insufficient_sample;
                    if (triggers) {
                        CHECK(first.verdict == Verdict::firing);
                        CHECK(rs[0].action == Action::trigger);
                    } else {
                        // Never silently healthy, never a trigger.
                        CHECK(first.verdict != Verdict::ok);
                        CHECK(first.verdict != Verdict::firing);
                        CHECK(count_action(rs, Action::trigger) == 0);
                        const bool escalates = p != Policy::ignore;
                        CHECK(rs[0].action == (escalates ? Action::escalate : Action::none));
                        // Escalated once when the state begins, not at every tick.
                        CHECK(rs[2].action == Action::none);
                    }
                    ++cells;
                }
            }
        }
        CHECK(cells == 4 * 5 * 3 + 3 * 3 * 3);
    }

    TEST_CASE("verdict names are the ones printed") {
        CHECK(to_string(Verdict::ok) == "ok");
        CHECK(to_string(Verdict::pending) == "pending");
        CHECK(to_string(Verdict::firing) == "firing");
        CHECK(to_string(Verdict::no_traffic) == "no_traffic");
        CHECK(to_string(Verdict::no_data) == "no_data");
        CHECK(to_string(Verdict::insufficient_sample) == "insufficient_sample");
        CHECK(to_string(Verdict::error) == "error");
    }

    TEST_CASE("signals over the window") {
        ConditionSpec er = cond(Signal::error_rate);
        er.name = "er";
        er.above = 0.5;
        ConditionSpec p95 = cond(Signal::latency_p95);
        p95.name = "p95";
        p95.above = 1000;
        ConditionSpec cnt = cond(Signal::request_count);
        cnt.name = "count";
        cnt.below = 10;
        cnt.bucket = 10s; // an access log's 10 s intervals
        Evaluator ev({er, p95, cnt}, policy());
        // 6 samples in the 60 s window: 100 requests each, 10 errors each; latencies 1..100 ms.
        for (int i = 0; i < 6; ++i) {
            std::vector<double> lat;
            for (int k = 1; k <= 100; ++k) {
                lat.push_back(k);
            }
            ev.add_sample("web", Sample::make_requests(at(std::chrono::seconds(10 * i)), 100, 10,
                                                       sparse_histogram(lat)));
        }
        auto r = ev.evaluate(at(50s)).record;
        CHECK(r.conditions[0].observed == doctest::Approx(0.1));
        CHECK(r.conditions[0].requests == 600u);
        CHECK(r.conditions[0].samples == 6u);
        CHECK(*r.conditions[1].observed == doctest::Approx(95).epsilon(0.04));
        // A count below over a window that holds the source's first interval (maybe
        // part-observed) is not judged (docs/decision.md "Partial windows"); its requests are.
        CHECK_FALSE(r.conditions[2].observed);
        CHECK(r.conditions[2].requests == 600u);
        CHECK(r.conditions[2].verdict == Verdict::insufficient_sample);
        // 60 s later the first samples have left the window.
        r = ev.evaluate(at(100s)).record;
        CHECK(r.conditions[0].samples == 1u);
        CHECK(r.conditions[2].observed == doctest::Approx(100));
        CHECK(r.conditions[2].verdict == Verdict::ok);
    }

    TEST_CASE("for tolerates max_missed missed ticks and resets beyond") {
        for (int max_missed : {0, 2}) {
            CAPTURE(max_missed);
            ConditionSpec c = cond(Signal::value, "cmd");
            c.above = 10;
            c.window = 15s;
            c.counting = Counting::for_duration;
            c.for_duration = 60s;
            c.max_missed = max_missed;
            c.on_no_data = Policy::ignore;
            Evaluator ev({c}, policy());
            // Breaching from tick 0; ticks 3 and 4 have no sample (missed).
            auto rs = run(
                ev, 12,
                [](int i, SystemTime t) -> std::optional<Sample> {
                    if (i == 3 || i == 4) {
                        return std::nullopt;
                    }
                    return Sample::make_value(t, 50);
                },
                "cmd");
            int fired_at = -1;
            for (size_t i = 0; i < rs.size(); ++i) {
                if (rs[i].action == Action::trigger) {
                    fired_at = static_cast<int>(i);
                }
            }
            // 15 s window: tick 3 still sees tick 2's sample; tick 4 is missed (no sample in
            // window).
            if (max_missed == 2) {
                CHECK(fired_at == 6); // 60 s after the first breach, through the gap
            } else {
                CHECK(fired_at == 11); // the gap reset the run: 60 s after tick 5
            }
        }
    }

    TEST_CASE("consecutive and m_of_n counting") {
        SUBCASE("consecutive = 3") {
            ConditionSpec c = cond(Signal::value, "cmd");
            c.above = 10;
            c.window = 5s;
            c.counting = Counting::consecutive;
            c.consecutive = 3;
            Evaluator ev({c}, policy());
            // breach pattern: B B . B B B  (. = ok)
            std::vector<double> v = {50, 50, 1, 50, 50, 50};
            auto rs = run(
                ev, 6,
                [&](int i, SystemTime t) { return std::optional(Sample::make_value(t, v[i])); },
                "cmd");
            CHECK(rs[1].conditions[0].verdict == Verdict::pending);
            CHECK(rs[2].conditions[0].verdict == Verdict::ok);
            CHECK(rs[4].conditions[0].counting_state == "2 consecutive breaches of 3 required");
            CHECK(rs[5].conditions[0].verdict == Verdict::firing);
            CHECK(count_action(rs, Action::trigger) == 1);
        }
        SUBCASE("m_of_n = [4, 5]") {
            ConditionSpec c = cond(Signal::value, "cmd");
            c.above = 10;
            c.window = 5s;
            c.counting = Counting::m_of_n;
            c.m = 4;
            c.n = 5;
            Evaluator ev({c}, policy());
            std::vector<double> v = {50, 1, 50, 50, 1, 50, 50};
            auto rs = run(
                ev, 7,
                [&](int i, SystemTime t) { return std::optional(Sample::make_value(t, v[i])); },
                "cmd");
            CHECK(rs[3].conditions[0].verdict == Verdict::pending);
            CHECK(rs[4].conditions[0].verdict == Verdict::ok);
            CHECK(rs[5].conditions[0].verdict == Verdict::pending); // 3 of the last 5
            CHECK(rs[6].conditions[0].verdict == Verdict::firing);
            CHECK(rs[6].conditions[0].counting_state ==
                  "4 of the last 5 breached (4 of 5 required)");
            CHECK(rs[6].conditions[0].breached == 4);
            CHECK(rs[6].conditions[0].of == 5);
        }
    }

    TEST_CASE("resolve_after keeps a condition firing through a short recovery") {
        ConditionSpec c = cond(Signal::value, "cmd");
        c.above = 10;
        c.window = 5s;
        c.resolve_after = 30s;
        Evaluator ev({c}, policy());
        // breach at 0..1, ok 2..3 (20 s < 30 s), breach 4, ok 5..9
        std::vector<double> v = {50, 50, 1, 1, 50, 1, 1, 1, 1, 1};
        auto rs = run(
            ev, 10, [&](int i, SystemTime t) { return std::optional(Sample::make_value(t, v[i])); },
            "cmd");
        CHECK(rs[3].conditions[0].verdict == Verdict::firing);
        CHECK(rs[4].conditions[0].verdict == Verdict::firing);
        CHECK(rs[7].conditions[0].verdict == Verdict::firing); // ok for 20 s
        CHECK(rs[8].conditions[0].verdict == Verdict::ok);     // ok for 30 s: resolved
        CHECK(count_action(rs, Action::trigger) == 1);         // one incident, one trigger
    }

    TEST_CASE("a flapping series makes at most one automatic trigger per cooldown") {
        ConditionSpec c = cond(Signal::value, "cmd");
        c.above = 10;
        c.window = 5s;
        DecisionPolicy p = policy();
        p.cooldown = 1h;
        Evaluator ev({c}, p);
        // Crosses the threshold every tick for two hours (720 ticks of 10 s).
        auto rs = run(
            ev, 720,
            [](int i, SystemTime t) {
                return std::optional(Sample::make_value(t, i % 2 == 0 ? 50.0 : 1.0));
            },
            "cmd");
        CHECK(count_action(rs, Action::trigger) == 2); // at 0 and after the cooldown
        CHECK(rs[0].action == Action::trigger);
        CHECK(rs[360].action == Action::trigger);
        // The first suppressed incident is reported once, not at every flap.
        CHECK(count_action(rs, Action::notify) == 2);
        CHECK(rs[2].cooldown_until == at(3600s));
    }

    TEST_CASE("observe mode records the same decision — not executed") {
        auto go = [](Mode m) {
            ConditionSpec c = cond(Signal::value, "cmd");
            c.above = 10;
            c.window = 5s;
            Evaluator ev({c}, policy(m));
            return run(
                ev, 3, [](int, SystemTime t) { return std::optional(Sample::make_value(t, 50)); },
                "cmd");
        };
        auto live = go(Mode::auto_);
        auto shadow = go(Mode::observe);
        CHECK(live[0].action == Action::trigger);
        CHECK(live[0].executed);
        CHECK(shadow[0].action == Action::trigger);
        CHECK_FALSE(shadow[0].executed);
        auto strip = [](DecisionRecord r) {
            r.mode = Mode::auto_;
            r.executed = false;
            for (auto& c : r.conditions) {
                c.mode = Mode::auto_;
            }
            return to_json(r);
        };
        for (size_t i = 0; i < live.size(); ++i) {
            CHECK(strip(live[i]) == strip(shadow[i]));
        }
        auto confirm = go(Mode::confirm);
        CHECK(confirm[0].action == Action::request_approval);
    }

    TEST_CASE("per-condition observe mode beside a live condition") {
        ConditionSpec a = cond(Signal::value, "cmd");
        a.name = "shadow";
        a.above = 10;
        a.window = 5s;
        a.mode = Mode::observe;
        Evaluator ev({a}, policy(Mode::auto_));
        ev.add_sample("cmd", Sample::make_value(at(0s), 50));
        auto r = ev.evaluate(at(0s)).record;
        CHECK(r.action == Action::trigger);
        CHECK(r.mode == Mode::observe);
        CHECK_FALSE(r.executed);
    }

    TEST_CASE("baselines: fixed — before_deploy — previous_release") {
        SUBCASE("fixed") {
            ConditionSpec c = cond(Signal::value, "cmd");
            c.above_baseline = 1.5;
            c.baseline = BaselineKind::fixed;
            c.baseline_value = 100;
            c.window = 5s;
            Evaluator ev({c}, policy());
            ev.add_sample("cmd", Sample::make_value(at(0s), 140));
            auto r = ev.evaluate(at(0s)).record;
            CHECK(r.conditions[0].threshold == doctest::Approx(150));
            CHECK(r.conditions[0].verdict == Verdict::ok);
            ev.add_sample("cmd", Sample::make_value(at(10s), 160));
            r = ev.evaluate(at(10s)).record;
            CHECK(r.conditions[0].verdict == Verdict::firing);
            CHECK(r.conditions[0].baseline->origin == "a fixed number in the config");
        }
        SUBCASE("a negative before_deploy baseline is shown as it is, never compared") {
            // Break-it round 36, finding 02: a baseline of -5 was reported as "baseline is 0".
            ConditionSpec c = cond(Signal::value, "cmd");
            c.above_baseline = 1.5;
            c.baseline = BaselineKind::before_deploy;
            c.window = 30s;
            Evaluator ev({c}, policy());
            ev.deployed(at(60s), "v2");
            DecisionRecord r;
            for (int i = 0; i <= 12; ++i) {
                ev.add_sample("cmd", Sample::make_value(at(std::chrono::seconds(10 * i)),
                                                        i <= 6 ? -5.0 : 50.0));
                r = ev.evaluate(at(std::chrono::seconds(10 * i))).record;
                CHECK(r.action == Action::none);
            }
            REQUIRE(r.conditions[0].baseline);
            REQUIRE(r.conditions[0].baseline->value);
            CHECK(*r.conditions[0].baseline->value == doctest::Approx(-5));
            CHECK(r.conditions[0].verdict == Verdict::no_data);
            CHECK(r.conditions[0].detail.find("baseline is -5") != std::string::npos);
        }
        SUBCASE("before_deploy") {
            ConditionSpec c = cond(Signal::latency_p95);
            c.above_baseline = 1.5;
            c.baseline = BaselineKind::before_deploy;
            c.window = 60s;
            Evaluator ev({c}, policy());
            ev.deployed(at(120s), "v2");
            // 100 ms before the deploy, 140 ms after (+40%: no breach), 200 ms later (+100%).
            auto rs = run(ev, 30, [](int i, SystemTime t) {
                double ms = i < 12 ? 100 : i < 20 ? 140 : 200;
                return std::optional(requests(t, 100, 0, ms));
            });
            const auto& b = rs[13].conditions[0].baseline;
            REQUIRE(b);
            REQUIRE(b->value);
            CHECK(*b->value == doctest::Approx(100).epsilon(0.04));
            CHECK(b->origin.find("before the deploy of v2") != std::string::npos);
            CHECK(rs[19].conditions[0].verdict == Verdict::ok);
            CHECK(rs[21].conditions[0].verdict == Verdict::firing);
            CHECK(rs[21].release == "v2");
        }
        SUBCASE("previous_release skips a release that was rolled back") {
            ConditionSpec c = cond(Signal::value, "cmd");
            c.above_baseline = 1.5;
            c.baseline = BaselineKind::previous_release;
            c.window = 5s;
            Evaluator ev({c}, policy());
            ev.deployed(at(0s), "v1");
            int tick = 0;
            auto feed = [&](double v, int n) {
                DecisionRecord last;
                for (int i = 0; i < n; ++i, ++tick) {
                    SystemTime t = at(std::chrono::seconds(10 * tick));
                    ev.add_sample("cmd", Sample::make_value(t, v));
                    last = ev.evaluate(t).record;
                }
                return last;
            };
            // v1 has no previous release: no baseline, nothing to judge (no_data, not a page)
            auto r = feed(100, 10);
            CHECK(r.conditions[0].verdict == Verdict::no_data);
            CHECK(r.action == Action::none);
            ev.deployed(at(std::chrono::seconds(10 * tick)), "v2");
            r = feed(400, 3); // v2 is bad: 4× v1's 100
            CHECK(r.conditions[0].baseline->value == doctest::Approx(100));
            CHECK(r.conditions[0].verdict == Verdict::firing);
            ev.rolled_back(at(std::chrono::seconds(10 * tick)));
            ev.deployed(at(std::chrono::seconds(10 * tick)), "v3");
            r = feed(120, 3);
            // v2 was rolled back: the baseline is still v1's value, not v2's 400.
            CHECK(r.conditions[0].baseline->value == doctest::Approx(100));
            CHECK(r.conditions[0].baseline->origin.find("release v1") != std::string::npos);
            auto book = BaselineBook::from_json(ev.baselines().to_json());
            REQUIRE(book.releases.size() == 3);
            CHECK(book.releases[1].release == "v2");
            CHECK(book.releases[1].rolled_back);
        }
    }

    TEST_CASE("a verdict does not change when one sample is dropped or duplicated") {
        // 5xx ratio steps from 1% to 20% at tick 30; window 1m, for 1m tolerating one miss.
        ConditionSpec c = cond(Signal::error_rate);
        c.above = 0.05;
        c.window = 60s;
        c.min_requests = 200;
        c.counting = Counting::for_duration;
        c.for_duration = 60s;
        c.max_missed = 1;
        auto sample = [](int i) {
            SystemTime t = at(std::chrono::seconds(10 * i));
            return requests(t, 100, i < 30 ? 1 : 60);
        };
        struct Run {
            std::vector<Verdict> verdicts;
            std::vector<int> triggers;
        };
        auto go = [&](int drop, int dup) {
            Evaluator ev({c}, policy());
            Run r;
            for (int i = 0; i < 60; ++i) {
                if (i != drop) {
                    ev.add_sample("web", sample(i));
                }
                if (i == dup) {
                    CHECK_FALSE(ev.add_sample("web", sample(i))); // redelivery is ignored
                }
                auto rec = ev.evaluate(at(std::chrono::seconds(10 * i))).record;
                r.verdicts.push_back(rec.conditions[0].verdict);
                if (rec.action == Action::trigger) {
                    r.triggers.push_back(i);
                }
            }
            return r;
        };
        auto ref = go(-1, -1);
        REQUIRE(ref.triggers.size() == 1);
        CHECK(std::count(ref.verdicts.begin(), ref.verdicts.end(), Verdict::pending) > 0);
        // Once the window is full (tick 6), a dropped sample changes no verdict, with two
        // inherent exceptions: dropping the very first breaching sample (tick 30), or the one
        // that completes `for` (tick 36: without a new sample that tick holds — the evidence
        // judged at tick 35 is not judged again), delays the incident by one interval. A
        // duplicate changes nothing, anywhere.
        for (int k = 0; k < 60; ++k) {
            CAPTURE(k);
            auto dup = go(-1, k);
            CHECK(dup.verdicts == ref.verdicts);
            CHECK(dup.triggers == ref.triggers);
            auto dropped = go(k, -1);
            REQUIRE(dropped.triggers.size() == 1);
            if (k == 30 || k == 36) {
                CHECK(dropped.triggers[0] == ref.triggers[0] + 1);
                continue;
            }
            CHECK(dropped.triggers == ref.triggers);
            for (int i = 6; i < 60; ++i) {
                CAPTURE(i);
                CHECK(dropped.verdicts[static_cast<size_t>(i)] ==
                      ref.verdicts[static_cast<size_t>(i)]);
            }
        }
    }

    TEST_CASE("downtime: 15 minutes of failed probes with two missed samples fire at 15:00") {
        ConditionSpec c = cond(Signal::downtime, "health");
        c.above = 15 * 60;
        c.window = 5min; // a probe result older than this is no evidence at all
        c.on_no_data = Policy::escalate;
        Evaluator ev({c}, policy());
        const int interval = 30;
        // Healthy until 10:00 (tick 20), failing after; ticks 30 and 31 have no sample at all.
        int fired_tick = -1;
        for (int i = 0; i < 80; ++i) {
            SystemTime t = at(std::chrono::seconds(interval * i));
            if (i != 30 && i != 31) {
                ev.add_sample("health", Sample::make_probe(t, i >= 20, 5));
            }
            auto r = ev.evaluate(t).record;
            if (r.action == Action::trigger) {
                CHECK(fired_tick == -1);
                fired_tick = i;
                CHECK(r.conditions[0].verdict == Verdict::firing);
            }
            if (i == 31) {
                // No sample for two ticks: the failure run goes on from its first failed probe,
                // measured to its last one (tick 29); the two ticks without a probe hold.
                CHECK(r.conditions[0].observed == doctest::Approx(9 * interval));
                CHECK(r.conditions[0].counting_state.find("no new sample since") !=
                      std::string::npos);
            }
        }
        // The first failed probe is at tick 20 (600 s); 15:00 later is tick 50.
        const int fired_s = (fired_tick - 20) * interval;
        CHECK(fired_s >= 15 * 60);
        CHECK(fired_s <= 15 * 60 + interval);
    }

    TEST_CASE("one probe is evidence once: probes every 10 s under 1 s ticks (issue 10)") {
        // The reviewer's /tmp/brk10/http: probes at :00 ok, :10 failed, :20 ok; ticks every
        // second. One failed probe neither satisfies consecutive = 3 nor makes downtime grow.
        ConditionSpec down = cond(Signal::downtime, "h");
        down.name = "down";
        down.window = 30s;
        down.above = 5;
        ConditionSpec err = cond(Signal::error_rate, "h");
        err.name = "err";
        err.window = 10s;
        err.above = 0.5;
        err.counting = Counting::consecutive;
        err.consecutive = 3;
        for (int failed_probes : {1, 2, 3}) {
            CAPTURE(failed_probes);
            // One evaluator per condition: a trigger of one would put the other in cooldown.
            Evaluator ev_down({down}, policy());
            Evaluator ev_err({err}, policy());
            std::vector<DecisionRecord> rd, re;
            for (int s = 0; s <= 60; ++s) {
                const SystemTime t = at(std::chrono::seconds(s));
                if (s % 10 == 0) {
                    const bool failed = s >= 10 && s <= 10 * failed_probes;
                    ev_down.add_sample("h", Sample::make_probe(t, failed, 5));
                    ev_err.add_sample("h", Sample::make_probe(t, failed, 5));
                }
                rd.push_back(ev_down.evaluate(t).record);
                re.push_back(ev_err.evaluate(t).record);
            }
            // downtime above 5 s needs two failed probes 10 s apart: it fires at the second.
            const int down_at = failed_probes >= 2 ? 20 : -1;
            // consecutive = 3 needs three failed probes: at the third, 30 s.
            const int err_at = failed_probes >= 3 ? 30 : -1;
            for (int s = 0; s <= 60; ++s) {
                CAPTURE(s);
                const auto i = static_cast<size_t>(s);
                const auto& d = rd[i].conditions[0];
                const bool in_run = s >= 10 && s / 10 <= failed_probes;
                const int last_failed = std::min(s / 10, failed_probes) * 10;
                // From the first failed probe to the last one seen: never the time since it.
                CHECK(*d.observed == doctest::Approx(in_run ? last_failed - 10 : 0));
                CHECK((rd[i].action == Action::trigger) == (s == down_at));
                CHECK((re[i].action == Action::trigger) == (s == err_at));
                if (s % 10 != 0) {
                    CHECK(d.counting_state.find("no new sample since") != std::string::npos);
                    CHECK(re[i].conditions[0].counting_state.find("no new sample since") !=
                          std::string::npos);
                }
            }
            // Between probes the failed one is held: pending, one breach of 3.
            CHECK(re[12].conditions[0].verdict == Verdict::pending);
            CHECK(re[10].conditions[0].breached == 1);
        }
    }

    TEST_CASE("a decision driven by failed probes names the probes' failure reason") {
        // brk28 02: an expired certificate rolled back a release with no word of TLS.
        ConditionSpec err = cond(Signal::error_rate, "h");
        err.name = "err";
        err.window = 30s;
        err.above = 0.5;
        err.min_requests = 1;
        ConditionSpec down = cond(Signal::downtime, "h");
        down.name = "down";
        down.window = 30s;
        down.above = 5;
        for (const auto& spec : {err, down}) {
            Evaluator ev({spec}, policy());
            DecisionRecord last;
            for (int s = 0; s <= 60; s += 10) {
                Sample p = Sample::make_probe(at(std::chrono::seconds(s)), true, std::nullopt);
                p.detail = "TLS handshake with localhost:443: certificate verify failed: "
                           "certificate has expired";
                ev.add_sample("h", p);
                last = ev.evaluate(at(std::chrono::seconds(s))).record;
            }
            CAPTURE(spec.name);
            CAPTURE(last.conditions[0].detail);
            CHECK(last.conditions[0].verdict == Verdict::firing);
            CHECK(last.conditions[0].detail.find("certificate has expired") != std::string::npos);
            CHECK(last.conditions[0].detail.find("last failed probe at ") != std::string::npos);
        }
    }

    TEST_CASE("a bucket coarser than the tick is judged once: 1 m buckets under 10 s ticks") {
        // The reviewer's /tmp/brk10/bkt: one minute with 5 of 30 errors gave "3 consecutive
        // breaches" at 10 s ticks. Siblings: for = 2m, m_of_n = [3, 3] and the error policy.
        ConditionSpec c = cond(Signal::error_rate);
        c.window = 60s;
        c.above = 0.05;
        c.min_requests = 10;
        for (int mode = 0; mode < 3; ++mode) {
            CAPTURE(mode);
            ConditionSpec k = c;
            if (mode == 0) {
                k.counting = Counting::consecutive;
                k.consecutive = 3;
            } else if (mode == 1) {
                k.counting = Counting::for_duration;
                k.for_duration = 2min;
            } else {
                k.counting = Counting::m_of_n;
                k.m = 3;
                k.n = 3;
            }
            for (int bad_buckets : {1, 2, 3}) {
                CAPTURE(bad_buckets);
                Evaluator ev({k}, policy());
                std::vector<DecisionRecord> rs;
                for (int s = 0; s <= 600; s += 10) {
                    if (s % 60 == 0) {
                        const int minute = s / 60;
                        const bool bad = minute >= 1 && minute <= bad_buckets;
                        ev.add_sample("web",
                                      requests(at(std::chrono::seconds(s)), 30, bad ? 5 : 0));
                    }
                    rs.push_back(ev.evaluate(at(std::chrono::seconds(s))).record);
                }
                // Three bad buckets (minutes 1..3) satisfy each rule at the third, 180 s.
                for (size_t i = 0; i < rs.size(); ++i) {
                    CAPTURE(i * 10);
                    const bool expect = bad_buckets == 3 && i * 10 == 180;
                    CHECK((rs[i].action == Action::trigger) == expect);
                }
                CHECK(rs[7].conditions[0].counting_state.find("no new sample since") !=
                      std::string::npos); // 70 s: the 60 s bucket holds
            }
        }
    }

    TEST_CASE("an error sample is evidence once: on_error = trigger under faster ticks") {
        // A prometheus-like source read every 10 s, ticks every second: one NaN (an error
        // sample) with on_error = "trigger" is one breach, not ten.
        ConditionSpec c = cond(Signal::value, "p");
        c.window = 10s;
        c.above = 0.05;
        c.counting = Counting::consecutive;
        c.consecutive = 3;
        c.on_error = Policy::trigger;
        c.on_error_explicit = true;
        Evaluator ev({c}, policy());
        std::vector<DecisionRecord> rs;
        for (int s = 0; s <= 40; ++s) {
            const SystemTime t = at(std::chrono::seconds(s));
            if (s % 10 == 0) {
                ev.add_sample("p", s == 10 ? Sample::make_missing(t, SampleKind::error, "NaN")
                                           : Sample::make_value(t, 0.01));
            }
            rs.push_back(ev.evaluate(t).record);
        }
        CHECK(count_action(rs, Action::trigger) == 0);
        CHECK(rs[15].conditions[0].verdict == Verdict::pending); // held: the breach it was
        CHECK(rs[15].conditions[0].counting_state.find("no new sample since") != std::string::npos);
        CHECK(rs[20].conditions[0].verdict == Verdict::ok);
    }

    TEST_CASE("a no_traffic sample (Prometheus NaN) is ignored by default - silence after a breach "
              "is not") {
        // The reviewer's /tmp/brk10/prom: 0.01 and NaN alternating paged at every NaN.
        ConditionSpec c = cond(Signal::value, "p");
        c.window = 5s;
        c.above = 0.05;
        Evaluator ev({c}, policy());
        std::vector<DecisionRecord> rs;
        for (int s = 0; s < 20; ++s) {
            const SystemTime t = at(std::chrono::seconds(s));
            ev.add_sample("p", (s / 2) % 2 == 1 ? Sample::make_missing(t, SampleKind::no_traffic,
                                                                       "query returned NaN")
                                                : Sample::make_value(t, 0.01));
            rs.push_back(ev.evaluate(t).record);
        }
        CHECK(count_action(rs, Action::escalate) == 0);
        CHECK(rs[2].conditions[0].verdict == Verdict::no_traffic);
        CHECK(rs[2].conditions[0].policy_origin == "default");
        CHECK(rs[4].conditions[0].verdict == Verdict::ok);
        // A breach, then NaN: the traffic stopped while failing — silence, which pages once.
        Evaluator ev2({c}, policy());
        ev2.add_sample("p", Sample::make_value(at(0s), 0.5));
        CHECK(ev2.evaluate(at(0s)).record.action == Action::trigger);
        ConditionSpec f = c;
        f.counting = Counting::consecutive;
        f.consecutive = 3;
        Evaluator ev3({f}, policy());
        ev3.add_sample("p", Sample::make_value(at(0s), 0.5));
        ev3.evaluate(at(0s));
        ev3.add_sample("p", Sample::make_missing(at(1s), SampleKind::no_traffic, "NaN"));
        auto r = ev3.evaluate(at(1s)).record;
        CHECK(r.action == Action::escalate);
        CHECK(r.conditions[0].detail.find("silent after breaching") == 0);
    }

    TEST_CASE("downtime: a monitor that cannot reach anything reports no_data — not downtime") {
        ConditionSpec c = cond(Signal::downtime, "health");
        c.above = 15 * 60;
        c.window = 5min;
        c.on_no_data = Policy::escalate;
        Evaluator ev({c}, policy());
        std::vector<DecisionRecord> rs;
        for (int i = 0; i < 80; ++i) {
            SystemTime t = at(std::chrono::seconds(30 * i));
            ev.add_sample("health", i < 10 ? Sample::make_probe(t, false, 5)
                                           : Sample::make_missing(t, SampleKind::unavailable,
                                                                  "network unreachable"));
            rs.push_back(ev.evaluate(t).record);
        }
        CHECK(count_action(rs, Action::trigger) == 0);
        CHECK(count_action(rs, Action::escalate) == 1);
        CHECK(rs[79].conditions[0].verdict == Verdict::no_data);
        CHECK(rs[79].conditions[0].detail.find("network unreachable") != std::string::npos);
    }

    TEST_CASE(
        "warning severity notifies — watch_after reports a recurrence instead of re-triggering") {
        ConditionSpec c = cond(Signal::value, "cmd");
        c.above = 10;
        c.window = 5s;
        DecisionPolicy p = policy();
        p.cooldown = 1min;
        p.watch_after = 30min;
        Evaluator ev({c}, p);
        ev.add_sample("cmd", Sample::make_value(at(0s), 50));
        CHECK(ev.evaluate(at(0s)).record.action == Action::trigger);
        ev.rolled_back(at(60s));
        ev.add_sample("cmd", Sample::make_value(at(70s), 1));
        CHECK(ev.evaluate(at(70s)).record.conditions[0].verdict == Verdict::ok);
        ev.add_sample("cmd", Sample::make_value(at(600s), 50));
        auto r = ev.evaluate(at(600s)).record;
        CHECK(r.action == Action::notify);
        CHECK(r.conditions[0].detail.find("recurrence") != std::string::npos);

        ConditionSpec w = c;
        w.severity = Severity::warning;
        Evaluator ev2({w}, policy());
        ev2.add_sample("cmd", Sample::make_value(at(0s), 50));
        CHECK(ev2.evaluate(at(0s)).record.action == Action::notify);
    }

    TEST_CASE("decision records: deterministic JSON — round trip — explanation") {
        ConditionSpec c = cond(Signal::value, "cmd");
        c.name = "latency";
        c.above = 10;
        c.window = 5s;
        c.counting = Counting::m_of_n;
        c.m = 4;
        c.n = 5;
        auto go = [&] {
            Evaluator ev({c}, policy());
            return run(
                ev, 6,
                [](int i, SystemTime t) {
                    return std::optional(Sample::make_value(t, i == 1 ? 1.0 : 12.5));
                },
                "cmd");
        };
        auto a = go();
        auto b = go();
        for (size_t i = 0; i < a.size(); ++i) {
            CHECK(to_json(a[i]) == to_json(b[i]));
            CHECK(to_json(from_json(to_json(a[i]))) == to_json(a[i]));
        }
        const auto& fired = a[4];
        CHECK(fired.action == Action::trigger);
        std::string j = to_json(fired);
        CHECK(j.find("\"version\":1,\"kind\":\"decision\",\"time\":\"2023-11-14T22:14:00.000Z\"") ==
              1);
        CHECK(j.find("\"observed\":12.5") != std::string::npos);
        CHECK(j.find("\"state\":\"4 of the last 5 breached (4 of 5 required)\"") !=
              std::string::npos);
        CHECK(record_id(fired).substr(0, 20) == "20231114T221400.000Z");
        std::string text = explain(fired);
        CHECK(text.find(
                  "Decision at 2023-11-14T22:14:00.000Z for target shop: trigger (executed") == 0);
        CHECK(text.find("4 of the last 5 breached") != std::string::npos);
        CHECK(text.find("Observed: 12.5; breaches when above 10") != std::string::npos);
        CHECK_THROWS_AS(from_json("{\"version\":2}"), rollback::util::Error);
    }
}
