// SPDX-License-Identifier: MIT
#include "orchestrator/plan.hpp"

#include "util/strings.hpp"

#include <algorithm>

namespace rollback::orchestrator {
namespace {

void check_ids(const playbook::Playbook& pb, const std::vector<std::string>& ids,
               const char* option) {
    std::vector<std::string> known;
    for (const auto& s : pb.steps) {
        known.push_back(s.id);
    }
    for (const auto& s : pb.finally) {
        known.push_back(s.id);
    }
    for (const auto& id : ids) {
        if (std::find(known.begin(), known.end(), id) == known.end()) {
            std::string guess = util::closest_match(id, known);
            throw util::Error(
                std::string(option) + ": no step " + util::quoted(id) + " in " + pb.file.string() +
                    (guess.empty() ? "" : " (did you mean " + util::quoted(guess) + "?)"),
                util::ExitCode::invalid, "steps: " + util::join(known, ", "));
        }
    }
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

} // namespace

playbook::WhenFields when_fields(const actions::Trigger& trigger) {
    return {{"severity", trigger.severity},
            {"condition", trigger.condition},
            {"trigger", trigger.kind},
            {"reason", trigger.reason}};
}

Plan make_plan(const playbook::Playbook& pb, const Selection& selection,
               const actions::Trigger& trigger) {
    check_ids(pb, selection.only, "--only");
    check_ids(pb, selection.skip, "--skip");
    if (!selection.from.empty()) {
        check_ids(pb, {selection.from}, "--from");
        if (pb.find_step(selection.from) == nullptr ||
            std::none_of(pb.steps.begin(), pb.steps.end(),
                         [&](const auto& s) { return s.id == selection.from; })) {
            throw util::Error("--from: " + util::quoted(selection.from) +
                                  " is a finally step; --from takes a regular step",
                              util::ExitCode::invalid);
        }
    }
    Plan plan;
    plan.playbook = &pb;
    const auto fields = when_fields(trigger);
    bool reached_from = selection.from.empty();
    for (const auto& s : pb.steps) {
        PlannedStep p{&s, false, true, {}};
        reached_from = reached_from || s.id == selection.from;
        if (!reached_from) {
            p.selected = false;
            p.skip_reason = "before --from " + selection.from;
        } else if (!selection.only.empty() && !contains(selection.only, s.id)) {
            p.selected = false;
            p.skip_reason = "not in --only";
        } else if (contains(selection.skip, s.id)) {
            p.selected = false;
            p.skip_reason = "--skip";
        } else if (!s.when.empty() && !playbook::evaluate_when(s.when, fields)) {
            p.selected = false;
            p.skip_reason = "when: " + s.when + " is false";
        }
        plan.steps.push_back(std::move(p));
    }
    for (const auto& s : pb.finally) {
        PlannedStep p{&s, true, true, {}};
        if (contains(selection.skip, s.id)) {
            p.selected = false;
            p.skip_reason = "--skip";
        } else if (!s.when.empty() && !playbook::evaluate_when(s.when, fields)) {
            p.selected = false;
            p.skip_reason = "when: " + s.when + " is false";
        }
        plan.steps.push_back(std::move(p));
    }
    return plan;
}

} // namespace rollback::orchestrator
