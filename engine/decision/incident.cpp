// SPDX-License-Identifier: MIT
#include "decision/evaluator_impl.hpp"

#include <algorithm>

namespace rollback::decision {

// The policy a tick without a usable observation is judged by, and where it came from.
// `silent`: the tick is silent while a breaching run is open (docs/decision.md, "Silence
// after a breach").
std::pair<Policy, bool> Evaluator::Impl::missing_policy(const CondState& c, const Observation& o,
                                                        bool silent) const {
    const ConditionSpec& sp = c.spec;
    if (silent) {
        return {sp.on_silence, sp.on_silence_explicit};
    }
    switch (o.missing) {
    case Missing::no_traffic:
        return {sp.on_no_traffic, sp.on_no_traffic_explicit};
    case Missing::insufficient_sample:
        // An under-powered window never triggers automatically.
        return {sp.on_insufficient_sample == Policy::trigger ? Policy::escalate
                                                             : sp.on_insufficient_sample,
                sp.on_insufficient_sample_explicit};
    case Missing::error:
        return {sp.on_error, sp.on_error_explicit};
    case Missing::no_data:
    case Missing::none:
        break;
    }
    if (sp.on_no_data_explicit) {
        return {sp.on_no_data, true};
    }
    // The monitor blind (a source it cannot read) needs a person; a gap in a series does not.
    return {o.unreadable ? Policy::escalate : Policy::ignore, false};
}

std::optional<double> Evaluator::Impl::failing_since_breach(const CondState& c) const {
    if (!c.last_breach_line) {
        return std::nullopt;
    }
    const Series& se = series[c.series];
    uint64_t lines = 0, failed = 0;
    for (uint64_t q = std::max(c.first_seq, *c.last_breach_line + 1); q < c.next_seq; ++q) {
        const Sample& s = se.at(q);
        if (s.kind == SampleKind::requests || s.kind == SampleKind::probe) {
            lines += s.count;
            failed += s.errors;
        }
    }
    if (lines == 0) {
        return std::nullopt;
    }
    return static_cast<double>(failed) / static_cast<double>(lines);
}

bool Evaluator::Impl::may_escalate(const CondState& c, SystemTime now, bool silence) const {
    const std::optional<SystemTime>& last = silence ? c.silence_escalated : c.last_escalated;
    return !last || now - *last >= policy.cooldown;
}

ConditionRecord Evaluator::Impl::evaluate_condition(CondState& c, SystemTime now, TickActs& acts) {
    const ConditionSpec& sp = c.spec;
    // Access logs: the window that is final (docs/decision.md, "Event time and lateness").
    const SystemTime at = now - sp.lateness;
    if (c.baseline_due && deployed_at && at >= *deployed_at) {
        settle_before_deploy(c);
    }
    Observation o = observe(c, at);
    const bool observed_ok = o.value && o.missing == Missing::none;
    ConditionRecord r;
    r.name = sp.name;
    r.signal = c.signal_name;
    r.unit = c.unit;
    r.window = sp.window;
    r.window_start = window_start(c, at);
    r.window_end = at;
    r.samples = o.samples;
    r.requests = o.requests;
    if (o.requests) {
        r.late = c.w_late;
    }
    r.observed = o.value;
    r.counting = sp.counting;
    r.severity = sp.severity;
    r.mode = c.mode;
    r.detail = o.detail;

    // Threshold, possibly relative to a baseline.
    bool breach = false;
    bool no_baseline = false, lost = false;
    if (sp.above_baseline) {
        r.comparator = "above_baseline";
        r.baseline = baseline_of(c);
        std::optional<double> thr;
        if (c.baseline_lost && !r.baseline->value && !c.external && o.missing == Missing::none) {
            // A baseline the monitor had is gone (docs/decision.md "Baselines"): no_data,
            // escalated — not the `above` floor, not ignored.
            o.missing = Missing::no_data;
            no_baseline = lost = true;
            r.detail = "before_deploy baseline lost: " + r.baseline->origin;
        } else if (r.baseline->value && *r.baseline->value > 0) {
            thr = *sp.above_baseline * *r.baseline->value;
            if (sp.above) {
                thr = std::max(*thr, *sp.above);
            }
        } else if (sp.above) {
            thr = sp.above; // a zero baseline makes a ratio meaningless; the floor still holds
        } else if (o.missing == Missing::none) {
            // Nothing to compare with (a first release, no deploy marker, a zero baseline) is a
            // gap in what the rule can judge, not a blind monitor: no_data, not silence, ignored
            // by default (docs/decision.md, "Baselines"); `validate` warns of a rule with no floor.
            o.missing = Missing::no_data;
            no_baseline = true;
            r.detail = r.baseline->value ? "baseline is " + format_number(*r.baseline->value) +
                                               ": a ratio to a baseline at or below 0 is "
                                               "meaningless"
                                         : "no baseline: " + r.baseline->origin;
        }
        r.threshold = thr;
        if (thr && o.value) {
            breach = *o.value > *thr;
        }
    } else if (sp.above) {
        r.comparator = "above";
        r.threshold = sp.above;
        breach = o.value && *o.value > *sp.above;
    } else if (sp.below) {
        r.comparator = "below";
        r.threshold = sp.below;
        breach = o.value && *o.value < *sp.below;
    }

    // A sample counts once: at a later tick with no newer sample in the window it is the same
    // evidence (Outcome::hold), whatever the signal — a value, a probe, an access-log bucket.
    const bool repeated = o.evidence_seq && c.judged_seq == o.evidence_seq;
    if (o.evidence_seq) {
        c.judged_seq = o.evidence_seq;
    }
    // Missing data: a policy decides what the tick counts as.
    Outcome outcome = breach ? Outcome::breach : Outcome::ok;
    r.missing = o.missing;
    const bool run_open = c.run_start.has_value();
    // Silence is hearing nothing: a window below min_requests is silent only when no line came
    // since the last breaching tick's newest line (lines that still come are traffic, judged
    // by on_insufficient_sample, never an automatic trigger; break-it 29/04) — unless the
    // lines that came since fail beyond the threshold too: traffic thinning while it fails is
    // the way to silence of a crash that clients give up on (break-it 36/03). Such a tick is
    // silent (a missed tick within the run's tolerance, paged when it outlasts it), never a
    // trigger.
    const std::optional<double> failing = o.missing == Missing::insufficient_sample &&
                                                  sp.signal == Signal::error_rate && r.threshold &&
                                                  !sp.below
                                              ? failing_since_breach(c)
                                              : std::nullopt;
    const double failing_share = failing.value_or(0.0); // (gcc cannot see `failing` is set)
    const bool thin_failing = failing && failing_share > *r.threshold;
    const bool heard = o.missing == Missing::insufficient_sample && !thin_failing &&
                       (!c.last_breach_line || c.line_seq != c.last_breach_line);
    const bool silent = o.missing != Missing::none && !no_baseline && !o.before_release &&
                        !o.partial && !heard && run_open && is_silence(o.missing) &&
                        silence_unlikely(c, now);
    if (o.before_release) {
        // Nothing of the new release is in the window yet: not a gap, not silence, nothing to
        // page or act on, whatever on_no_data says.
        r.policy = Policy::ignore;
        r.policy_origin = "deploy";
        outcome = Outcome::missed;
    } else if (o.missing != Missing::none) {
        auto [p, expl] = missing_policy(c, o, silent);
        if (silent && thin_failing && p == Policy::trigger) {
            p = Policy::escalate; // a window below min_requests never triggers
        }
        r.policy = lost ? Policy::escalate : p;
        r.policy_origin = lost ? "baseline lost" : expl ? "config" : "default";
        outcome = p == Policy::trigger ? Outcome::breach : Outcome::missed;
    }
    const bool would_breach = outcome == Outcome::breach;
    if (repeated) {
        outcome = Outcome::hold;
    }
    const int run_breached = c.run_breached;
    const auto run_start = c.run_start;
    if (outcome == Outcome::breach && o.value) {
        c.last_breach_value = o.value;
        c.last_breach_at = now;
        const auto& se = series[c.series];
        c.last_breach_requests.reset();
        c.last_breach_line.reset();
        if (o.requests && c.next_seq > se.base_seq &&
            se.at(c.next_seq - 1).kind == SampleKind::requests) {
            c.last_breach_requests = o.requests;
            c.last_breach_line = c.line_seq;
        }
    }

    if (outcome == Outcome::hold) {
        r.counting_state = "no new sample since " +
                           util::format_time(series[c.series].at(*o.evidence_seq).time) +
                           ": judged once, at the evaluation after it arrived";
    } else {
        count(c, outcome, now, r);
    }
    // The silence outlasted the run's tolerance: the run was reset by this tick.
    const bool silenced = silent && run_open && !c.run_start;
    // The incident acted before this tick: a silence after it pages nobody, also when this very
    // tick ends the incident (break-it round 40, finding 04: a page at 03:02 about a breach at
    // 20:16 that had triggered).
    const bool acted_before = c.firing && c.acted;

    // Incident state with recovery hysteresis. An incident begins only at a tick that
    // breaches with its counting satisfied — never at a missed or ok tick.
    const bool satisfied = outcome == Outcome::breach && counting_satisfied(c, now);
    // A window the previous monitor judged (a warm-up tick before its last one, or any tick
    // after a reload that moved the window back): its incidents are the resumed memory's, and
    // its samples are not evidence again (docs/decision.md "Counting").
    const bool judged_before = c.held_until && at <= *c.held_until;
    if (warming == nullptr) {
        c.judged_until = at;
    }
    if (judged_before) {
        // counting only
    } else if (!c.firing) {
        if (satisfied) {
            c.firing = true;
            c.incident_since = now;
            c.breached_at = now;
            c.ok_since.reset();
            c.acted = false;
            c.clear_approval();
        }
    } else if (outcome == Outcome::missed && now - c.breached_at.value_or(now) > incident_gap(c)) {
        // Missed ticks only (a quiet night, a gap in a series) for longer than resolve_after
        // and the cooldown since the incident last breached: it ends, never resolved by an ok
        // tick; a breach after it is a new incident.
        c.firing = false;
        c.incident_since.reset();
        c.breached_at.reset();
        c.ok_since.reset();
        c.clear_approval();
        r.counting_state = "incident ended: no breach for more than " +
                           util::format_duration(incident_gap(c)) + ", only missed evaluations";
    } else if (outcome == Outcome::ok) {
        if (!c.ok_since) {
            c.ok_since = now;
        }
        if (now - *c.ok_since >= sp.resolve_after) {
            c.firing = false;
            c.incident_since.reset();
            c.ok_since.reset();
            c.clear_approval();
        }
    } else if (outcome == Outcome::breach) {
        c.ok_since.reset();
        c.breached_at = now;
    }
    if (c.firing && !c.breached_at) {
        c.breached_at = now; // an incident resumed from the memory: its gap counts from here
    }
    r.incident_since = c.incident_since;

    if (o.missing != Missing::none && r.policy != Policy::trigger) {
        r.verdict = o.missing == Missing::no_data      ? Verdict::no_data
                    : o.missing == Missing::no_traffic ? Verdict::no_traffic
                    : o.missing == Missing::error      ? Verdict::error
                                                       : Verdict::insufficient_sample;
    } else if (c.firing) {
        r.verdict = Verdict::firing;
    } else if (would_breach) {
        r.verdict = Verdict::pending;
    } else {
        r.verdict = Verdict::ok;
    }
    if (judged_before && warming == nullptr) {
        r.counting_state += "; this window ends at or before " + util::format_time(*c.held_until) +
                            ", judged before the reload or restart: counted, not acted on again";
    }
    if (release_since && !o.before_release && r.window_start > at - sp.window) {
        r.counting_state += "; the window starts at the deploy of " +
                            (release.empty() ? std::string("?") : release) + " (" +
                            util::format_time(*release_since) +
                            "): a release is judged on its own samples";
    }
    if (c.firing && c.ok_since && sp.resolve_after.count() > 0) {
        r.counting_state += "; recovering for " + describe_duration(now - *c.ok_since) + " of " +
                            util::format_duration(sp.resolve_after) + " needed to resolve";
    }

    // The condition's action. A firing condition acts only at a tick that justifies it by
    // itself (the acting invariant): a breach with its counting satisfied.
    // A missing-data state "begins" against the last counted tick: a held tick neither acts nor
    // hides a change from the next counted one.
    // A source that becomes unreadable (or whose clock is skewed) after an empty window is a
    // new state though both are no_data: the monitor went blind, where it saw a gap before.
    const bool changed = !c.counted_verdict || *c.counted_verdict != r.verdict ||
                         (o.unreadable && !c.counted_unreadable) || (lost && !c.counted_lost);
    std::optional<std::string> escalation; // the detail of an escalation of this tick
    bool silence_page = false;             // that escalation is "silent after breaching"
    // The warm-up's newest tick justified the incident but could not act; a live tick that
    // holds on the same sample (no newer one yet) still rests on that justification — when its
    // own window breaches too: a tick off the boundary judges another window (one whose old
    // edge dropped the breaching bucket), and acts only on an evaluation of its own
    // (break-it 29/01).
    const bool warm_justified = warming == nullptr && !judged_before && outcome == Outcome::hold &&
                                would_breach && c.warm_justified_seq &&
                                c.warm_justified_seq == o.evidence_seq && c.firing && !c.acted &&
                                r.verdict == Verdict::firing;
    if (warming != nullptr && !judged_before) {
        // A warm-up tick that holds on the sample an earlier warm-up tick justified the
        // incident by keeps that justification: with a source read or bucketed less often than
        // the decision interval (buckets of 5 minutes, ticks every minute) the boundaries after
        // the bucket's hold on it, and `check` or `monitor --once` must still act on an outage
        // under way (break-it round 36, finding 08).
        const bool held_on_it = outcome == Outcome::hold && would_breach && c.warm_justified_seq &&
                                c.warm_justified_seq == o.evidence_seq &&
                                r.verdict == Verdict::firing && !c.acted;
        if (!held_on_it) {
            c.warm_justified_seq.reset();
            if (r.verdict == Verdict::firing && satisfied && !c.acted && o.evidence_seq) {
                c.warm_justified_seq = o.evidence_seq;
            }
        }
    } else if (warming == nullptr) {
        c.warm_justified_seq.reset(); // only the first live tick
    }
    if (warm_justified) {
        r.counting_state += "; justified by the warm-up's evaluation of this sample, which "
                            "never acts: acted on at the first live evaluation";
        act_on_firing(c, now, r, acts);
    } else if (r.verdict == Verdict::firing && satisfied) {
        if (warming == nullptr &&
            !judged_before) { // a warm-up never acts: the first live tick that justifies it
            act_on_firing(c, now, r, acts);
        }
    } else if (silenced && r.policy == Policy::escalate && !acted_before &&
               !(c.firing && c.acted) && may_escalate(c, now, true)) {
        std::string d = "silent after breaching: " + std::to_string(run_breached) +
                        (run_breached == 1 ? " evaluation" : " evaluations") + " breached since " +
                        util::format_time(*run_start);
        if (c.last_breach_value) {
            d += " (last " + format_number(*c.last_breach_value) + " at " +
                 util::format_time(c.last_breach_at) + ")";
        }
        d += ", then more than " + std::to_string(sp.max_missed) +
             " evaluations without usable data (" + o.detail +
             (thin_failing ? "; " + format_number(failing_share) +
                                 " of the lines since failed: traffic thinning while it fails"
                           : std::string()) +
             "); on_silence = escalate";
        escalation = std::move(d);
        silence_page = true;
    } else if (outcome != Outcome::hold && o.missing != Missing::none && !silent &&
               r.policy == Policy::escalate && changed && may_escalate(c, now)) {
        // Paged when the state begins, at most once per cooldown for a flapping source.
        escalation = r.detail;
    }
    if (escalation && judged_before) {
        // paged (or not) by the previous monitor, which judged this window
    } else if (escalation && warming == nullptr) {
        r.action = Action::escalate;
        (silence_page ? c.silence_escalated : c.last_escalated) = now;
        r.detail = std::move(*escalation);
    } else if (escalation && !c.owed_escalation) {
        // A page the previous monitor could not make (it was not running, or reloading): owed
        // to the first live tick (Evaluator::warm_up).
        c.owed_escalation = "at " + util::format_time(now) +
                            ", while the monitor was stopped or reloading: " + *escalation;
        c.owed_silence = silence_page;
    }
    if (warming == nullptr && c.owed_escalation) {
        if (r.action == Action::none && !(c.firing && c.acted) &&
            may_escalate(c, now, c.owed_silence)) {
            r.action = Action::escalate;
            (c.owed_silence ? c.silence_escalated : c.last_escalated) = now;
            r.detail = std::move(*c.owed_escalation);
        }
        c.owed_escalation.reset(); // made, or covered by this tick's own action or the cooldown
    }
    if (!c.run_start) {
        c.last_breach_value.reset();
        c.last_breach_requests.reset();
        c.last_breach_line.reset();
    }
    c.last_verdict = r.verdict;
    if (outcome != Outcome::hold) {
        c.counted_verdict = r.verdict;
        c.counted_unreadable = o.missing == Missing::no_data && o.unreadable;
        c.counted_lost = lost;
    }

    if (observed_ok && !repeated && !judged_before && !c.firing &&
        (!deployed_at || at >= *deployed_at) && warming == nullptr) {
        remember(c, *o.value);
    }
    return r;
}

void Evaluator::Impl::end_watch_for(SystemTime t, const std::string& name) {
    if (!watch_until) {
        return;
    }
    // A memory kept before watch_since existed: the watch began watch_after before its end.
    const SystemTime since = watch_since.value_or(*watch_until - policy.watch_after);
    const bool known =
        name == release || std::any_of(book.releases.begin(), book.releases.end(),
                                       [&](const ReleaseBaseline& r) { return r.release == name; });
    if (t > since && !known) {
        watch_until.reset();
        watch_since.reset();
    }
}

// Rules 1-5 of docs/decision.md, "Decisions", for an incident that has not acted yet.
void Evaluator::Impl::end_incidents_for(SystemTime t, const std::string& name) {
    const bool known =
        name == release || std::any_of(book.releases.begin(), book.releases.end(),
                                       [&](const ReleaseBaseline& r) { return r.release == name; });
    if (known || name.empty()) {
        return;
    }
    for (auto& c : conds) {
        if (c.firing && c.acted && c.incident_since && *c.incident_since < t) {
            c.firing = false;
            c.acted = false;
            c.incident_since.reset();
            c.breached_at.reset();
            c.ok_since.reset();
            c.clear_approval();
        }
    }
}

void Evaluator::Impl::act_on_firing(CondState& c, SystemTime now, ConditionRecord& r,
                                    TickActs& acts) {
    if (!c.acted) {
        act_on_unacted(c, now, r, acts);
        // A shadow's action is a record: the same condition in another mode (after a reload
        // or a restart) has not acted on the incident (docs/decision.md "A reload out of
        // observe").
        c.acted_shadow = c.acted && c.mode == Mode::observe;
        return;
    }
    if (c.approval_expired && !c.approval_escalated) {
        // Mode confirm: nobody answered the request and the incident still breaches — a
        // person is paged, once (docs/decision.md, "Decisions").
        r.action = Action::escalate;
        r.detail = "approval request " + c.approval_id + " expired at " +
                   util::format_time(*c.approval_expires) + " unanswered; the incident since " +
                   util::format_time(*c.incident_since) + " is still breaching";
        c.approval_escalated = true;
        c.last_escalated = now;
    }
}

void Evaluator::Impl::act_on_unacted(CondState& c, SystemTime now, ConditionRecord& r,
                                     TickActs& acts) {
    // Rules 3 and 4 count executed triggers only; a shadow (mode observe) also sees the
    // shadows' own, and a condition in mode confirm the approval request of this tick.
    const bool shadow = c.mode == Mode::observe;
    std::optional<SystemTime> until;
    if (cooldown_until && now < *cooldown_until) {
        until = cooldown_until;
    }
    if (shadow && shadow_cooldown_until && now < *shadow_cooldown_until &&
        (!until || *until < *shadow_cooldown_until)) {
        until = shadow_cooldown_until;
    }
    const bool in_cooldown = until.has_value();
    const std::string* cover = acts.triggered                              ? &acts.cause
                               : shadow && acts.shadow_triggered           ? &acts.shadow_cause
                               : c.mode == Mode::confirm && acts.requested ? &acts.request_cause
                                                                           : nullptr;
    const bool watching = watch_until && now < *watch_until;
    if (watching) {
        r.action = Action::notify;
        r.detail = "recurrence within watch_after of a rollback: reported, not triggered again";
        c.acted = true;
    } else if (c.spec.severity == Severity::warning) {
        r.action = Action::notify;
        c.acted = true;
    } else if (cover != nullptr) {
        r.detail = std::string(acts.triggered ? "covered by the trigger of condition \""
                               : shadow       ? "covered by the shadow trigger of condition \""
                                              : "covered by the approval request of condition \"") +
                   *cover + "\"";
        c.acted = true;
    } else if (in_cooldown) {
        // Reported once per cooldown, however often the condition flaps.
        if (c.noted_cooldown != until) {
            r.action = Action::notify;
            c.noted_cooldown = until;
        }
        r.detail = "automatic trigger suppressed: cooldown until " + util::format_time(*until);
    } else if (shadow) {
        r.action = Action::trigger; // recorded, not executed: the shadows' cooldown only
        c.acted = true;
        acts.shadow_triggered = true;
        acts.shadow_cause = c.spec.name;
        shadow_cooldown_until = now + policy.cooldown;
    } else if (c.mode == Mode::confirm) {
        // An approval request starts no cooldown: a granted one runs the rollback, whose end
        // starts the recurrence watch (rule 1).
        r.action = Action::request_approval;
        c.acted = true;
        acts.requested = true;
        acts.request_cause = c.spec.name;
    } else {
        r.action = Action::trigger;
        c.acted = true;
        acts.triggered = true;
        acts.cause = c.spec.name;
        cooldown_until = now + policy.cooldown;
    }
}

} // namespace rollback::decision
