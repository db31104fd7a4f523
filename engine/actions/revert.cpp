// SPDX-License-Identifier: MIT
#include "actions/revert.hpp"

#include "util/error.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <boost/json/array.hpp>

namespace rollback::actions {

std::string location_of(const Context& ctx, const std::string& path) {
    return ctx.host.empty() ? path : ctx.host + ":" + path;
}

bool is_bad(const std::vector<state::BadRelease>& bad, const std::string& location,
            const std::string& release) {
    return std::any_of(bad.begin(), bad.end(), [&](const state::BadRelease& b) {
        return b.location == location && b.release == release;
    });
}

std::string pick_previous(const std::vector<std::string>& older,
                          const std::vector<state::BadRelease>& bad, const std::string& location,
                          RevertPlan& plan) {
    for (const auto& candidate : older) {
        if (std::find(plan.skipped.begin(), plan.skipped.end(), candidate) != plan.skipped.end()) {
            continue;
        }
        if (is_bad(bad, location, candidate)) {
            plan.skipped.push_back(candidate);
            continue;
        }
        return candidate;
    }
    return {};
}

std::string skipped_note(const RevertPlan& plan) {
    return plan.skipped.empty() ? "" : " (skipped bad: " + util::join(plan.skipped, ", ") + ")";
}

Result carry_out(const Context& ctx, const RevertPlan& plan, const RevertWork& work) {
    Result r;
    r.details[work.location_key] = work.location;
    r.details["from"] = plan.from;
    if (work.commits) {
        r.details["from_commit"] = plan.from_commit;
    }
    r.details["to"] = plan.to;
    if (work.commits) {
        r.details["to_commit"] = plan.to_commit;
    }
    r.details["chosen_by"] = plan.chosen_by;
    if (!plan.skipped.empty()) {
        boost::json::array skipped;
        for (const auto& s : plan.skipped) {
            skipped.emplace_back(s);
        }
        r.details["skipped_bad"] = std::move(skipped);
    }
    if (!plan.problem.empty()) {
        r.summary = plan.problem;
        r.output_tail = plan.hint.empty() ? "" : "hint: " + plan.hint + "\n";
        return r;
    }
    if (plan.already_done) {
        r.status = Status::succeeded;
        r.summary = work.already + " " + plan.to;
        return r;
    }
    try {
        ctx.bad_releases.record_bad_release({plan.from, work.location,
                                             util::format_time(std::chrono::system_clock::now()),
                                             ctx.run_id, plan.to});
    } catch (const util::Error& e) {
        r.summary = e.what();
        return r;
    }
    if (!work.apply(r)) {
        return r;
    }
    if (ctx.progress) {
        ctx.progress(work.done_line + " (was " + plan.from + ", now marked bad)");
    }
    r.details["marked_bad"] = plan.from;
    r.status = Status::succeeded;
    r.summary = work.done_summary;
    return r;
}

} // namespace rollback::actions
