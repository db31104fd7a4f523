// SPDX-License-Identifier: MIT
#include "decision/evaluator_impl.hpp"

#include <algorithm>

namespace rollback::decision {

void Evaluator::Impl::consume(CondState& c, const Sample& s) {
    ++c.w_samples;
    if (valid_kind(s.kind)) {
        ++c.w_valid;
    }
    c.w_count += s.count;
    c.w_errors += s.errors;
    c.w_late += s.late;
    if (c.track_hist) {
        for (auto [b, n] : s.latency) {
            c.hist.add(b, n);
        }
    }
    if (s.kind == SampleKind::probe && !before_release(c, s)) {
        if (s.errors == 0) {
            c.fail_since.reset();
            c.fail_last.reset();
        } else {
            if (!c.fail_since) {
                c.fail_since = s.time;
            }
            c.fail_last = s.time;
        }
    }
}

void Evaluator::Impl::expire(CondState& c, const Sample& s) {
    --c.w_samples;
    if (valid_kind(s.kind)) {
        --c.w_valid;
    }
    c.w_count -= s.count;
    c.w_errors -= s.errors;
    c.w_late -= s.late;
    if (c.track_hist) {
        for (auto [b, n] : s.latency) {
            c.hist.add(b, -static_cast<int64_t>(n));
        }
    }
}

void Evaluator::Impl::advance(CondState& c, SystemTime now) {
    Series& se = series[c.series];
    while (c.next_seq < se.end_seq() && se.at(c.next_seq).time <= now) {
        consume(c, se.at(c.next_seq));
        if (se.at(c.next_seq).count > 0) {
            c.line_seq = c.next_seq;
        }
        ++c.next_seq;
    }
    const SystemTime start = now - c.spec.window;
    // A new release is judged on its own samples: the previous release's leave the window.
    while (c.first_seq < c.next_seq &&
           (se.at(c.first_seq).time <= start || before_release(c, se.at(c.first_seq)))) {
        expire(c, se.at(c.first_seq));
        ++c.first_seq;
    }
}

SystemTime Evaluator::Impl::window_start(const CondState& c, SystemTime at) const {
    const SystemTime start = at - c.spec.window;
    if (!release_since || start >= *release_since + c.spec.bucket) {
        return start;
    }
    SystemTime first = *release_since;
    if (c.spec.bucket.count() > 0) { // buckets are aligned to the epoch
        const auto b = duration_cast<Millis>(c.spec.bucket).count();
        const auto d = duration_cast<Millis>(first.time_since_epoch()).count();
        first = SystemTime(Millis((d + b - 1) / b * b));
    }
    return std::max(start, first);
}

std::optional<std::string> Evaluator::Impl::partial_window(const CondState& c,
                                                           SystemTime at) const {
    const SystemTime start = at - c.spec.window;
    const std::string rule = "; a count below a threshold is judged over a whole " + c.window_text +
                             " (a part of it holds fewer requests)";
    if (const SystemTime from = window_start(c, at); from > start) {
        return "the window starts at the deploy of " + (release.empty() ? "?" : release) +
               " (its first interval starts " + util::format_time(from) + "): it covers " +
               util::format_duration(duration_cast<Millis>(at - from)) + rule;
    }
    const Series& se = series[c.series];
    if (se.first_observed) {
        // The first interval itself may be part-observed (a log created or rotated in its
        // middle, a monitor started there): observation starts at its end.
        const SystemTime from = *se.first_observed;
        if (from > start) {
            return "source \"" + se.name + "\" is observed since " + util::format_time(from) +
                   ": the window covers " +
                   util::format_duration(duration_cast<Millis>(at - from)) + rule;
        }
    }
    // The last interval may be part-observed too (the file ended in its middle): a window that
    // holds it is not whole either.
    if (input_end && at >= *input_end) {
        return "the input ends at " + util::format_time(*input_end) +
               ": the quiet intervals after it were not observed" + rule;
    }
    return std::nullopt;
}

void Evaluator::Impl::prune(Series& se, SystemTime now, size_t index) {
    uint64_t keep_from = se.end_seq();
    SystemTime keep_time = now - se.retention;
    for (const auto& c : conds) {
        if (c.series == index) {
            keep_from = std::min(keep_from, c.first_seq);
            if (c.baseline_due && deployed_at) {
                keep_time = std::min(keep_time, *deployed_at - before_window(c.spec));
            }
        }
    }
    while (!se.samples.empty() && se.base_seq < keep_from && se.samples.front().time < keep_time) {
        se.samples.pop_front();
        ++se.base_seq;
    }
}

namespace {

/// The newest failed probe in the window that says why it failed, as "last failed probe at T:
/// REASON" (TLS, refused, timeout, status): a decision driven by failed probes shows their cause.
std::string probe_failure(const Series& se, uint64_t first_seq, uint64_t next_seq) {
    for (uint64_t seq = next_seq; seq > first_seq; --seq) {
        const Sample& s = se.at(seq - 1);
        if (s.kind != SampleKind::probe) {
            return "";
        }
        if (s.errors > 0 && !s.detail.empty()) {
            return "last failed probe at " + util::format_time(s.time) + ": " + s.detail;
        }
    }
    return "";
}

void add_detail(std::string& detail, const std::string& more) {
    if (!more.empty()) {
        detail += (detail.empty() ? "" : "; ") + more;
    }
}

} // namespace

// The signal over the current window.
Observation Evaluator::Impl::observe(const CondState& c, SystemTime now) const {
    const Series& se = series[c.series];
    Observation o;
    o.samples = c.w_samples;
    // The monitor cannot read the source now: no data, whatever the (lagging) window holds.
    if (!se.samples.empty() && se.samples.back().kind == SampleKind::unavailable &&
        se.samples.back().time > now - c.spec.window && !before_release(c, se.samples.back())) {
        o.missing = Missing::no_data;
        o.unreadable = true;
        o.detail = "source \"" + se.name + "\" unavailable: " + se.samples.back().detail;
        o.evidence_seq = se.end_seq() - 1;
        return o;
    }
    if (c.w_samples == 0) {
        o.missing = Missing::no_data;
        if (release_since && now - c.spec.window < *release_since + c.spec.bucket) {
            o.before_release = true;
            o.detail = "no sample of release " + (release.empty() ? "?" : release) +
                       " in the window yet: it was deployed at " +
                       util::format_time(*release_since) +
                       ", and a release is judged on its own samples";
            return o;
        }
        o.detail = "no sample from source \"" + se.name + "\" in the last " + c.window_text;
        return o;
    }
    const Sample& latest = se.at(c.next_seq - 1);
    o.evidence_seq = c.next_seq - 1;
    if (latest.kind == SampleKind::unavailable) {
        o.missing = Missing::no_data;
        o.unreadable = true;
        o.detail = "source \"" + se.name + "\" unavailable: " + latest.detail;
        return o;
    }
    if (latest.kind == SampleKind::error) {
        o.missing = Missing::error;
        o.detail = "check failed: " + latest.detail;
        return o;
    }
    if (latest.kind == SampleKind::no_traffic) {
        o.missing = Missing::no_traffic;
        o.detail = latest.detail;
        return o;
    }
    const Signal sig = c.spec.signal;
    if (sig == Signal::value) {
        if (latest.kind != SampleKind::value) {
            o.missing = Missing::error;
            o.detail = "signal value needs a source that reports numbers";
            return o;
        }
        o.value = latest.value;
        o.detail = latest.detail; // what the number stands for (the alerts it counts)
        return o;
    }
    if (sig == Signal::downtime) {
        if (latest.kind != SampleKind::probe) {
            o.missing = Missing::error;
            o.detail = "signal downtime needs an http probe source";
            return o;
        }
        // Measured between probes: what the probes saw, never the time since the last one (a
        // probe that succeeds next would prove that time up).
        o.value = c.fail_since
                      ? duration_cast<Millis>(*c.fail_last - *c.fail_since).count() / 1000.0
                      : 0.0;
        if (c.fail_since) {
            o.detail = "failing since " + util::format_time(*c.fail_since) +
                       " (first failed probe), last failed probe " +
                       util::format_time(*c.fail_last);
            add_detail(o.detail, probe_failure(se, c.first_seq, c.next_seq));
        }
        return o;
    }
    if (latest.kind == SampleKind::value) {
        o.missing = Missing::error;
        o.detail = "signal " + std::string(to_string(sig)) + " needs request or probe samples";
        return o;
    }
    o.requests = c.w_count;
    if (sig == Signal::request_count) {
        if (c.spec.below) {
            if (auto why = partial_window(c, now)) {
                o.missing = Missing::insufficient_sample;
                o.partial = true;
                o.detail = std::move(*why);
                return o;
            }
        }
        o.value = static_cast<double>(c.w_count);
        return o;
    }
    if (c.w_count == 0) {
        o.missing = Missing::no_traffic;
        o.detail = "no requests in the last " + c.window_text;
        return o;
    }
    if (c.w_count < c.spec.min_requests) {
        o.missing = Missing::insufficient_sample;
        o.detail = std::to_string(c.w_count) +
                   " requests in the window, fewer than min_requests = " +
                   std::to_string(c.spec.min_requests);
        return o;
    }
    // A ratio or a percentile over lines rests on its newest line: a quiet bucket brings no new
    // evidence (the same 500 is not judged again at every quiet tick), nor does a line leaving
    // the window. The window holds a line (w_count > 0), so line_seq is in it.
    o.evidence_seq = c.line_seq;
    if (sig == Signal::error_rate) {
        o.value = static_cast<double>(c.w_errors) / static_cast<double>(c.w_count);
        if (c.w_errors > 0 && latest.kind == SampleKind::probe) {
            add_detail(o.detail, probe_failure(se, c.first_seq, c.next_seq));
        }
    } else if (c.hist.total() == 0) {
        o.missing = Missing::no_data;
        o.detail = latest.kind == SampleKind::probe
                       ? "no probe in the window waited for an answer (refused, reset or "
                         "malformed): no latency to measure (error_rate and downtime judge "
                         "failed probes)"
                       : "requests carry no latency (does the log format have "
                         "$request_time?)";
    } else {
        const bool below = c.spec.below.has_value();
        const auto range = c.hist.percentile_range(percentile_of(sig));
        o.value = safe_edge(range, below);
        o.detail = std::string(to_string(sig)).substr(8) + " lies in [" +
                   format_number(range.first) + ", " + format_number(range.second) +
                   ") ms (a histogram bucket); the " + (below ? "upper" : "lower") +
                   " edge is compared";
    }
    return o;
}

} // namespace rollback::decision
