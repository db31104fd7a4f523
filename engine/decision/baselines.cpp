// SPDX-License-Identifier: MIT
#include "decision/evaluator_impl.hpp"

#include <algorithm>

namespace rollback::decision {

// The signal over [from, to) of the retained samples (before_deploy baselines).
std::optional<BaselineInfo> Evaluator::Impl::compute_before(const CondState& c, SystemTime from,
                                                            SystemTime to) const {
    const Series& se = series[c.series];
    BaselineInfo b{BaselineKind::before_deploy, std::nullopt,
                   "window " + util::format_time(from) + " .. " + util::format_time(to) +
                       " before the deploy of " + (release.empty() ? "?" : release)};
    std::vector<double> values;
    uint64_t count = 0, errors = 0;
    LatencyHistogram h;
    for (const auto& s : se.samples) {
        if (s.time < from || s.time >= to || !valid_kind(s.kind)) {
            continue;
        }
        if (s.kind == SampleKind::value) {
            values.push_back(s.value);
        }
        count += s.count;
        errors += s.errors;
        for (auto [bk, n] : s.latency) {
            h.add(bk, n);
        }
    }
    const Signal sig = c.spec.signal;
    if (sig == Signal::value) {
        if (values.empty()) {
            b.origin += ": no samples";
            return b;
        }
        b.value = median(values);
        b.origin += " (median of " + std::to_string(values.size()) + " samples)";
    } else if (sig == Signal::request_count) {
        b.value = static_cast<double>(count);
    } else if (sig == Signal::downtime) {
        b.origin += ": downtime has no baseline";
    } else if (count == 0 || count < c.spec.min_requests) {
        b.origin += ": only " + std::to_string(count) + " requests";
    } else if (sig == Signal::error_rate) {
        b.value = static_cast<double>(errors) / static_cast<double>(count);
        b.origin += " (" + std::to_string(count) + " requests)";
    } else if (h.total() > 0) {
        // A higher baseline raises an above_baseline threshold: its upper edge is the safe one.
        b.value = safe_edge(h.percentile_range(percentile_of(sig)), !c.spec.below.has_value());
        b.origin += " (" + std::to_string(h.total()) + " requests)";
    }
    return b;
}

std::optional<BaselineInfo> Evaluator::Impl::baseline_of(const CondState& c) const {
    switch (c.spec.baseline) {
    case BaselineKind::none:
        return std::nullopt;
    case BaselineKind::fixed:
        return BaselineInfo{BaselineKind::fixed, c.spec.baseline_value,
                            "a fixed number in the config"};
    case BaselineKind::before_deploy:
        if (c.external) {
            return c.external;
        }
        if (c.computed) {
            return c.computed;
        }
        return BaselineInfo{BaselineKind::before_deploy, std::nullopt,
                            deployed_at ? "not computed" : "no deploy marker"};
    case BaselineKind::previous_release:
        if (c.external) {
            return c.external;
        }
        if (const auto* r = book.previous_good(release, c.spec.name)) {
            return BaselineInfo{BaselineKind::previous_release, r->values.at(c.spec.name),
                                "median of " + std::to_string(r->ticks.at(c.spec.name)) +
                                    " evaluations while release " + r->release + " ran"};
        }
        return BaselineInfo{BaselineKind::previous_release, std::nullopt,
                            "no value recorded for a previous release that was not rolled back"};
    }
    return std::nullopt;
}

void Evaluator::Impl::settle_before_deploy(CondState& c) {
    c.baseline_due = false;
    ++baseline_changes;
    const auto kept = std::find_if(book.releases.begin(), book.releases.end(), [&](const auto& r) {
        return r.release == release && r.deployed_at == deployed_at;
    });
    if (kept != book.releases.end()) {
        if (auto it = kept->before_deploy.find(c.spec.name); it != kept->before_deploy.end()) {
            c.computed = it->second; // computed by the monitor before this one, at this deploy
            return;
        }
    }
    c.computed = compute_before(c, *deployed_at - before_window(c.spec), *deployed_at);
    if (kept != book.releases.end() && !c.computed->value && c.spec.signal != Signal::downtime) {
        // The monitor before this one ran this release and did not keep its baseline (it
        // stopped before saving it), and the log re-read no longer holds the requests before
        // the deploy (rotated): lost, which is paged — never a silent fall-back.
        c.baseline_lost = true;
        c.computed->origin += "; the baseline the monitor had for this deploy was lost (not "
                              "saved before it stopped, and the log no longer holds it)";
    }
}

void Evaluator::Impl::fill_release(ReleaseBaseline& rb) const {
    for (const auto& c : conds) {
        if (!c.release_values.empty()) {
            rb.values[c.spec.name] = median(c.release_values);
            rb.ticks[c.spec.name] = c.release_ticks;
        }
    }
    if (rb.deployed_at != deployed_at) {
        rb.before_deploy.clear(); // of an earlier deploy of the same release
    }
    rb.deployed_at = deployed_at;
    for (const auto& c : conds) {
        if (c.computed && !c.baseline_lost) {
            rb.before_deploy[c.spec.name] = *c.computed;
        }
    }
}

void Evaluator::Impl::summarize_release() {
    if (release.empty()) {
        return;
    }
    ReleaseBaseline rb;
    rb.release = release;
    auto existing = std::find_if(book.releases.begin(), book.releases.end(),
                                 [&](const auto& r) { return r.release == release; });
    if (existing != book.releases.end()) {
        rb = *existing;
        book.releases.erase(existing);
    }
    fill_release(rb);
    book.releases.push_back(std::move(rb));
}

void Evaluator::Impl::apply_deploy(SystemTime t, std::string name) {
    end_watch_for(t, name);
    end_incidents_for(t, name);
    summarize_release();
    // A marker that changes the release starts its judgement afresh: its windows count only
    // the samples after the deploy, and no breaching run (for, consecutive, m_of_n, the breach
    // a silence is judged against, a probe failure run) of the release before carries over —
    // a fix deployed mid-outage is judged on its own errors (docs/decision.md "A new release
    // is judged on its own samples").
    const bool changed = name != release;
    release = std::move(name);
    deployed_at = t;
    if (changed && (!release_since || *release_since < t)) {
        release_since = t;
    }
    for (auto& c : conds) {
        if (changed) {
            c.reset_counting();
            c.last_breach_value.reset();
            c.last_breach_requests.reset();
            c.last_breach_line.reset();
            if (c.fail_since && *c.fail_since <= t) { // (a run resumed from after it is its own)
                c.fail_since.reset();
                c.fail_last.reset();
            }
        }
        c.release_values.clear();
        c.release_ticks = 0;
        c.stride = 1;
        c.stride_pos = 0;
        c.computed.reset();
        c.baseline_lost = false;
        // Computed when the condition's window reaches the deploy: with a lateness allowance
        // the samples just before it are not final at the deploy's tick.
        c.baseline_due = c.spec.baseline == BaselineKind::before_deploy;
    }
}

void Evaluator::Impl::remember(CondState& c, double v) {
    ++c.release_ticks;
    if (++c.stride_pos < c.stride) {
        return;
    }
    c.stride_pos = 0;
    c.release_values.push_back(v);
    if (c.release_values.size() >= 4096) {
        // Keep a bounded, evenly thinned history: drop every other value, halve the rate.
        std::vector<double> thinned;
        for (size_t i = 0; i < c.release_values.size(); i += 2) {
            thinned.push_back(c.release_values[i]);
        }
        c.release_values = std::move(thinned);
        c.stride *= 2;
    }
}

} // namespace rollback::decision
