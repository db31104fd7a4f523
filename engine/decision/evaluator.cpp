// SPDX-License-Identifier: MIT
#include "decision/evaluator.hpp"

#include "decision/combine.hpp"
#include "decision/evaluator_impl.hpp"

#include <algorithm>

namespace rollback::decision {

// -------------------------------------------------------------------------------------------

const ReleaseBaseline* BaselineBook::previous_good(const std::string& current,
                                                   const std::string& condition) const {
    for (auto it = releases.rbegin(); it != releases.rend(); ++it) {
        if (it->release != current && !it->rolled_back && it->values.count(condition)) {
            return &*it;
        }
    }
    return nullptr;
}

Evaluator::Evaluator(std::vector<ConditionSpec> conditions, DecisionPolicy policy,
                     BaselineBook book)
    : m(std::make_unique<Impl>()) {
    m->specs = std::move(conditions);
    m->policy = std::move(policy);
    m->book = std::move(book);
    for (const auto& sp : m->specs) {
        auto it = std::find_if(m->series.begin(), m->series.end(),
                               [&](const Series& s) { return s.name == sp.source; });
        if (it == m->series.end()) {
            m->series.push_back(Series{sp.source, {}, 0, false, {}, Millis(0), std::nullopt});
            it = m->series.end() - 1;
        }
        CondState c;
        c.spec = sp;
        c.series = static_cast<size_t>(it - m->series.begin());
        c.mode = sp.mode.value_or(m->policy.mode);
        c.track_hist = is_latency(sp.signal);
        c.signal_name = sp.source + "." + std::string(to_string(sp.signal));
        c.unit = std::string(unit_of(sp.signal));
        c.window_text = util::format_duration(sp.window);
        c.for_text = util::format_duration(sp.for_duration);
        if (sp.baseline == BaselineKind::before_deploy) {
            it->retention = std::max(it->retention, 2 * Impl::before_window(sp) + sp.lateness);
        }
        m->conds.push_back(std::move(c));
    }
}

Evaluator::~Evaluator() = default;
Evaluator::Evaluator(Evaluator&&) noexcept = default;
Evaluator& Evaluator::operator=(Evaluator&&) noexcept = default;

bool Evaluator::add_sample(const std::string& source, Sample sample) {
    for (auto& se : m->series) {
        if (se.name != source) {
            continue;
        }
        if (se.any && sample.time <= se.last) {
            return false; // duplicate or late
        }
        se.any = true;
        se.last = sample.time;
        if (!se.first_observed &&
            (sample.kind == SampleKind::requests || sample.kind == SampleKind::probe)) {
            se.first_observed = sample.time;
        }
        se.samples.push_back(std::move(sample));
        return true;
    }
    return false;
}

void Evaluator::input_ends(SystemTime time) {
    m->input_end = time;
}

void Evaluator::deployed(SystemTime time, std::string release, std::optional<SystemTime> known_at) {
    const SystemTime apply_at = known_at && *known_at > time ? *known_at : time;
    auto& q = m->pending_deploys;
    auto it = std::upper_bound(q.begin(), q.end(), apply_at,
                               [](SystemTime t, const auto& d) { return t < d.apply_at; });
    q.insert(it, Impl::PendingDeploy{apply_at, time, std::move(release)});
}

void Evaluator::rolled_back(SystemTime time) {
    m->summarize_release();
    for (auto& r : m->book.releases) {
        if (r.release == m->release) {
            r.rolled_back = true;
        }
    }
    m->watch_until = time + m->policy.watch_after;
    m->watch_since = time;
}

namespace {

void keep_later(std::optional<SystemTime>& mine, const std::optional<SystemTime>& theirs) {
    if (theirs && (!mine || *mine < *theirs)) {
        mine = theirs;
    }
}

/// Whether the remembered incident acted for a condition now in `mode`: a shadow's action (mode
/// observe) is a record, not an action of the condition in another mode.
bool acted_in(const Evaluator::ConditionMemory& cm, Mode mode) {
    return cm.acted && !(cm.shadow_acted && mode != Mode::observe);
}

bool is_missing_verdict(Verdict v) {
    return v == Verdict::no_data || v == Verdict::no_traffic || v == Verdict::insufficient_sample ||
           v == Verdict::error;
}

} // namespace

void Evaluator::PolicyMemory::merge(const PolicyMemory& other) {
    keep_later(cooldown_until, other.cooldown_until);
    keep_later(watch_until, other.watch_until);
    keep_later(evaluated_until, other.evaluated_until);
    keep_later(watch_since, other.watch_since);
    keep_later(shadow_cooldown_until, other.shadow_cooldown_until);
    for (const auto& entry : other.conditions) {
        conditions.emplace(entry.first, entry.second);
    }
    for (const auto& entry : other.watched_logs) {
        watched_logs.emplace(entry.first, entry.second);
    }
}

Evaluator::PolicyMemory Evaluator::policy_memory() const {
    PolicyMemory memory{m->cooldown_until, m->watch_until, {}, m->watch_since};
    memory.shadow_cooldown_until = m->shadow_cooldown_until;
    // Before its first live tick, the resumed memory's last tick is still the last one judged.
    memory.evaluated_until = m->evaluated_until ? m->evaluated_until : m->resumed_until;
    for (const auto& c : m->conds) {
        ConditionMemory cm;
        if (c.firing) {
            cm.incident_since = c.incident_since;
            cm.ok_since = c.ok_since;
            cm.breached_at = c.breached_at;
            cm.acted = c.acted;
            cm.shadow_acted = c.acted && c.acted_shadow;
            cm.approval_id = c.approval_id;
            cm.approval_expires = c.approval_expires;
            cm.approval_expired = c.approval_expired;
            cm.approval_escalated = c.approval_escalated;
        }
        cm.fail_since = c.fail_since;
        cm.fail_last = c.fail_last;
        cm.judged_until = c.judged_until;
        keep_later(cm.judged_until, c.held_until);
        if (cm.judged_until) {
            cm.lateness = c.spec.lateness;
        }
        cm.last_escalated = c.last_escalated;
        cm.silence_escalated = c.silence_escalated;
        cm.noted_cooldown = c.noted_cooldown;
        if (c.counted_verdict && is_missing_verdict(*c.counted_verdict)) {
            cm.missing_verdict = c.counted_verdict;
        }
        if (!(cm == ConditionMemory{})) {
            memory.conditions.emplace(c.spec.name, std::move(cm));
        }
    }
    return memory;
}

void Evaluator::resume_policy(const PolicyMemory& memory) {
    keep_later(m->cooldown_until, memory.cooldown_until);
    keep_later(m->shadow_cooldown_until, memory.shadow_cooldown_until);
    if (memory.watch_until && (!m->watch_until || *m->watch_until < *memory.watch_until)) {
        m->watch_until = memory.watch_until;
        m->watch_since = memory.watch_since; // the watch and the rollback it follows, together
    }
    if (!m->evaluated_until) { // before this evaluator's first live tick: what a warm-up follows
        keep_later(m->resumed_until, memory.evaluated_until);
    }
    for (auto& c : m->conds) {
        auto it = memory.conditions.find(c.spec.name);
        const bool known = it != memory.conditions.end();
        // What the previous monitor judged: the end of its last window (a memory kept before
        // the field, or a condition new in this config: its last tick − this lateness).
        std::optional<SystemTime> judged;
        if (known && it->second.judged_until) {
            judged = it->second.judged_until;
        } else if (memory.evaluated_until) {
            judged = *memory.evaluated_until - c.spec.lateness;
        }
        if (!m->evaluated_until) {
            keep_later(c.held_until, judged);
        }
        if (!known) {
            continue;
        }
        const ConditionMemory& cm = it->second;
        // A reload that moves the window back by `shift` (a larger max_lateness) judges at each
        // tick what the previous monitor judged `shift` earlier: the open incident's times move
        // with it, so that it resolves after as many ok windows as it would have.
        SystemTime::duration shift{0};
        if (cm.lateness) {
            shift = c.spec.lateness - *cm.lateness;
        }
        if (cm.incident_since && !c.firing) {
            // The incident the previous monitor saw is still open: it resolves, as any, after
            // resolve_after of ok ticks; until then an incident that acted does not act again.
            c.firing = true;
            c.incident_since = *cm.incident_since + shift;
            c.ok_since =
                cm.ok_since ? std::optional<SystemTime>(*cm.ok_since + shift) : std::nullopt;
            c.breached_at =
                cm.breached_at ? std::optional<SystemTime>(*cm.breached_at + shift) : std::nullopt;
            // A shadow's action executed nothing: out of observe, the incident has not acted.
            c.acted = acted_in(cm, c.mode);
            c.acted_shadow = c.acted && cm.shadow_acted;
            c.approval_id = cm.approval_id;
            c.approval_expires = cm.approval_expires;
            c.approval_expired = cm.approval_expired;
            c.approval_escalated = cm.approval_escalated;
        }
        if (cm.fail_since && cm.fail_last && !c.fail_since) {
            // The failure run of the probes before: a gap in probing neither ends nor extends
            // it (docs/decision.md "Signals", downtime); the next probe does.
            c.fail_since = cm.fail_since;
            c.fail_last = cm.fail_last;
        }
        keep_later(c.last_escalated, cm.last_escalated);
        keep_later(c.silence_escalated, cm.silence_escalated);
        keep_later(c.noted_cooldown, cm.noted_cooldown);
        if (!c.counted_verdict && cm.missing_verdict) {
            c.counted_verdict = cm.missing_verdict;
        }
    }
}

void Evaluator::adopt_policy(const PolicyMemory& memory) {
    m->cooldown_until = memory.cooldown_until;
    m->shadow_cooldown_until = memory.shadow_cooldown_until;
    m->watch_until = memory.watch_until;
    m->watch_since = memory.watch_since;
    for (auto& c : m->conds) {
        auto it = memory.conditions.find(c.spec.name);
        const ConditionMemory none;
        const ConditionMemory& cm = it == memory.conditions.end() ? none : it->second;
        if (c.firing) {
            // This evaluator's incident; acted on only if the leader acted on an incident of
            // this condition that was still open.
            const bool leader_acted = cm.incident_since && acted_in(cm, c.mode);
            c.acted = leader_acted;
            c.acted_shadow = leader_acted && cm.shadow_acted;
            c.clear_approval();
            if (leader_acted) {
                c.approval_id = cm.approval_id;
                c.approval_expires = cm.approval_expires;
                c.approval_expired = cm.approval_expired;
                c.approval_escalated = cm.approval_escalated;
            }
        } else if (cm.incident_since) {
            c.firing = true;
            c.incident_since = cm.incident_since;
            c.ok_since = cm.ok_since;
            c.breached_at = cm.breached_at;
            c.acted = acted_in(cm, c.mode);
            c.acted_shadow = c.acted && cm.shadow_acted;
            c.approval_id = cm.approval_id;
            c.approval_expires = cm.approval_expires;
            c.approval_expired = cm.approval_expired;
            c.approval_escalated = cm.approval_escalated;
        }
        c.last_escalated = cm.last_escalated;
        c.silence_escalated = cm.silence_escalated;
        c.noted_cooldown = cm.noted_cooldown;
    }
}

void Evaluator::approval_requested(const std::string& condition, const std::string& decision_id,
                                   SystemTime expires) {
    for (auto& c : m->conds) {
        if (c.spec.name == condition && c.firing) {
            c.clear_approval();
            c.approval_id = decision_id;
            c.approval_expires = expires;
        }
    }
}

std::vector<std::pair<std::string, std::string>> Evaluator::approvals_due(SystemTime now) const {
    std::vector<std::pair<std::string, std::string>> due;
    for (const auto& c : m->conds) {
        if (c.firing && c.approval_expires && *c.approval_expires < now && !c.approval_expired) {
            due.emplace_back(c.spec.name, c.approval_id);
        }
    }
    return due;
}

void Evaluator::approval_settled(const std::string& condition, bool expired) {
    for (auto& c : m->conds) {
        if (c.spec.name == condition && c.approval_expires) {
            if (expired) {
                c.approval_expired = true;
            } else {
                c.clear_approval();
            }
        }
    }
}

void Evaluator::trigger_not_started(SystemTime at) {
    if (m->cooldown_until && *m->cooldown_until == at + m->policy.cooldown) {
        m->cooldown_until.reset();
    }
}

void Evaluator::set_baseline(const std::string& condition, BaselineInfo baseline) {
    for (auto& c : m->conds) {
        if (c.spec.name == condition) {
            c.external = baseline;
        }
    }
}

Evaluation Evaluator::evaluate(SystemTime now) {
    Impl& s = *m;
    while (!s.pending_deploys.empty() && s.pending_deploys.front().apply_at <= now) {
        Impl::PendingDeploy d = std::move(s.pending_deploys.front());
        s.pending_deploys.pop_front();
        s.apply_deploy(d.time, std::move(d.release));
    }
    Evaluation ev;
    DecisionRecord& r = ev.record;
    r.time = now;
    r.target = s.policy.target;
    r.release = s.release;
    r.deployed_at = s.deployed_at;
    r.mode = s.policy.mode;

    Impl::TickActs acts;
    bool changed = s.first_tick;
    r.conditions.reserve(s.conds.size());
    for (auto& c : s.conds) {
        if (s.warming != nullptr &&
            std::find(s.warming->begin(), s.warming->end(), c.spec.source) == s.warming->end()) {
            continue;
        }
        s.advance(c, now - c.spec.lateness);
        auto prev = c.last_verdict;
        ConditionRecord cr = s.evaluate_condition(c, now, acts);
        changed = changed || !prev || *prev != cr.verdict;
        // New too-late lines in the window: the record that shows them is kept (never silent).
        const uint64_t late = cr.late.value_or(0);
        changed = changed || late > c.shown_late;
        c.shown_late = late;
        // The tick's action: an executed one before one of a shadow (mode observe), then the
        // heaviest — a shadow's trigger never hides what the executed conditions do.
        if (takes_over(cr.action, cr.mode, r.action, r.mode)) {
            r.action = cr.action;
            r.cause = cr.name;
            r.mode = cr.mode;
        }
        r.conditions.push_back(std::move(cr));
    }
    for (size_t i = 0; i < s.series.size(); ++i) {
        s.prune(s.series[i], now, i);
    }
    if (s.warming != nullptr) {
        return ev; // never kept, never acted on (warm_up)
    }
    s.first_tick = false;
    s.evaluated_until = now;

    r.executed = r.action != Action::none && r.mode != Mode::observe;
    // The cooldown that holds back the record's mode: with global mode observe, the shadows'.
    const auto& cooldown =
        s.policy.mode == Mode::observe ? s.shadow_cooldown_until : s.cooldown_until;
    r.cooldown_until = cooldown && now < *cooldown ? cooldown : std::nullopt;
    r.reason = decision_reason(r);
    ev.notable = changed || r.action != Action::none;
    return ev;
}

void Evaluator::warm_up(SystemTime now, const std::vector<std::string>& sources) {
    m->warming = &sources;
    try {
        evaluate(now);
    } catch (...) {
        m->warming = nullptr;
        throw;
    }
    m->warming = nullptr;
}

BaselineBook Evaluator::baselines() const {
    BaselineBook b = m->book;
    if (!m->release.empty()) {
        ReleaseBaseline rb;
        rb.release = m->release;
        auto it = std::find_if(b.releases.begin(), b.releases.end(),
                               [&](const auto& x) { return x.release == rb.release; });
        if (it != b.releases.end()) {
            rb.rolled_back = it->rolled_back;
            rb.deployed_at = it->deployed_at;
            rb.before_deploy = it->before_deploy;
            b.releases.erase(it);
        }
        m->fill_release(rb);
        b.releases.push_back(std::move(rb));
    }
    return b;
}

uint64_t Evaluator::baseline_changes() const {
    return m->baseline_changes;
}

const std::vector<ConditionSpec>& Evaluator::conditions() const {
    return m->specs;
}

} // namespace rollback::decision
