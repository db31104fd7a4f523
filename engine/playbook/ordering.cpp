// SPDX-License-Identifier: MIT
#include "playbook/ordering.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <functional>
#include <queue>
#include <span>
#include <string_view>

namespace rollback::playbook {
namespace {

bool contains(const std::vector<size_t>& v, size_t x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

} // namespace

StepIndex::StepIndex(std::size_t ids) {
    std::size_t slots = 16;
    while (slots < 2 * ids) {
        slots *= 2;
    }
    m_slots.resize(slots);
    m_mask = slots - 1;
}

std::size_t StepIndex::slot_of(std::string_view id) const {
    std::size_t at = std::hash<std::string_view>{}(id)&m_mask;
    while (m_slots[at].index != npos && m_slots[at].id != id) {
        at = (at + 1) & m_mask; // at most half full: a free slot is near
    }
    return at;
}

std::size_t StepIndex::find(std::string_view id) const {
    return m_slots[slot_of(id)].index;
}

std::size_t StepIndex::add(std::string_view id, std::size_t i) {
    Slot& slot = m_slots[slot_of(id)];
    if (slot.index == npos) {
        slot = {id, i};
    }
    return slot.index;
}

StepOrder order_steps(TomlReader& reader, std::vector<Step>&& steps,
                      const std::vector<RawStep>& raw, const StepIndex& index, Playbook& pb) {
    std::vector<std::string> ids; // for a did-you-mean: listed at the first unknown name
    auto known_ids = [&]() -> const std::vector<std::string>& {
        if (ids.empty()) {
            for (size_t i = 0; i < raw.size(); ++i) {
                if (!steps[i].id.empty() && !raw[i].duplicate) {
                    ids.push_back(steps[i].id);
                }
            }
        }
        return ids;
    };

    // The steps of the same phase that step i needs (by index, in `needs` order): the range
    // [dep_at[i], dep_at[i + 1]) of dep_list — one list for all, not a vector per step.
    // listed[j] == i once j is among i's: a step needing thousands stays linear, not quadratic.
    std::vector<size_t> dep_list;
    std::vector<size_t> dep_at(raw.size() + 1, 0);
    std::vector<size_t> listed(raw.size(), raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
        dep_at[i] = dep_list.size();
        const RawStep& r = raw[i];
        const Step& step = steps[i];
        if (r.is_finally) {
            continue;
        }
        for (size_t k = 0; k < step.needs.size(); ++k) {
            const std::string& name = step.needs[k];
            const tree::Position at = r.needs_at[k]; // a place only for a diagnostic
            const size_t target_at = index.find(name);
            if (target_at == StepIndex::npos) {
                std::string problem = "needs " + util::quoted(name) + ": no such step";
                if (auto guess = util::closest_match(name, known_ids()); !guess.empty()) {
                    problem += " (did you mean " + util::quoted(guess) + "?)";
                }
                reader.error(reader.where(at), r.subject, problem);
                continue;
            }
            if (r.duplicate) {
                continue; // a second definition is left out of the order; an unknown name is not
            }
            const RawStep& target = raw[target_at];
            const Step& target_step = steps[target_at];
            if (target.is_finally) {
                reader.error(reader.where(at), r.subject,
                             "needs " + util::quoted(name) +
                                 ": a finally step cannot be needed (finally steps run last)");
            } else if (!r.phase_ok || !target.phase_ok) {
                continue;
            } else if (target_step.phase > step.phase) {
                reader.error(reader.where(at), r.subject,
                             "needs " + util::quoted(name) + ", which runs in a later phase (" +
                                 std::string(to_string(target_step.phase)) + ")");
            } else if (target_step.phase == step.phase && listed[target_at] != i) {
                listed[target_at] = i;
                dep_list.push_back(target_at);
            }
        }
    }
    dep_at[raw.size()] = dep_list.size();
    const auto deps = [&](size_t i) {
        return std::span<const size_t>(dep_list.data() + dep_at[i], dep_at[i + 1] - dep_at[i]);
    };

    // Kahn's order per phase with a ready heap keyed by position in the file: the earliest step
    // whose needs are all done runs first (stable), in O(n log n) whatever the shape of `needs`.
    // Who needs step j: the range [dependent_at[j], dependent_at[j + 1]) of dependent_list.
    std::vector<size_t> dependent_at(raw.size() + 1, 0);
    for (size_t j : dep_list) {
        ++dependent_at[j + 1];
    }
    for (size_t j = 0; j < raw.size(); ++j) {
        dependent_at[j + 1] += dependent_at[j];
    }
    std::vector<size_t> dependent_list(dep_list.size());
    {
        std::vector<size_t> next(dependent_at.begin(), dependent_at.end() - 1);
        for (size_t i = 0; i < raw.size(); ++i) {
            for (size_t j : deps(i)) {
                dependent_list[next[j]++] = i;
            }
        }
    }
    std::vector<size_t> order; // of pb.steps, by index in raw: moved there at the end
    order.reserve(raw.size());
    std::vector<size_t> waiting(raw.size(), 0); // needs not done yet
    std::vector<bool> done(raw.size(), false);
    for (Phase phase : {Phase::immediate, Phase::database, Phase::code, Phase::verify}) {
        std::vector<size_t> members;
        std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
        for (size_t i = 0; i < raw.size(); ++i) {
            if (!raw[i].is_finally && !raw[i].duplicate && steps[i].phase == phase) {
                members.push_back(i);
                waiting[i] = deps(i).size();
                if (waiting[i] == 0) {
                    ready.push(i);
                }
            }
        }
        size_t left = members.size();
        // `i` is done (marked by the caller): its dependents may become ready.
        auto release = [&](size_t i) {
            --left;
            for (size_t k = dependent_at[i]; k < dependent_at[i + 1]; ++k) {
                const size_t d = dependent_list[k];
                if (--waiting[d] == 0 && !done[d]) {
                    ready.push(d);
                }
            }
        };
        auto scan = members.begin(); // the first member that may not be done (done only grows)
        while (left > 0) {
            while (!ready.empty()) {
                const size_t i = ready.top();
                ready.pop();
                order.push_back(i);
                done[i] = true;
                release(i);
            }
            if (left == 0) {
                break;
            }
            // Every remaining step waits for another remaining one, so walking the first
            // unfinished need from any of them must come back to a step already on the path.
            while (done[*scan]) {
                ++scan;
            }
            std::vector<size_t> path{*scan};
            size_t next = 0;
            for (;;) {
                const auto d = deps(path.back());
                next = *std::find_if(d.begin(), d.end(), [&](size_t j) { return !done[j]; });
                if (contains(path, next)) {
                    break;
                }
                path.push_back(next);
            }
            std::vector<size_t> cycle(std::find(path.begin(), path.end(), next), path.end());
            std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
            std::string text;
            for (size_t j : cycle) {
                text += steps[j].id + " -> ";
            }
            text += steps[cycle.front()].id;
            const RawStep& first = raw[cycle.front()];
            const std::vector<std::string>& first_needs = steps[cycle.front()].needs;
            const std::string& second = steps[cycle.size() > 1 ? cycle[1] : cycle[0]].id;
            auto need = std::find(first_needs.begin(), first_needs.end(), second);
            const util::Location at =
                reader.where(first.needs_at[static_cast<size_t>(need - first_needs.begin())]);
            reader.error(at, first.subject, "needs form a cycle: " + text);
            // Mark the cycle done so the steps that wait on it, and other cycles, are still seen.
            for (size_t j : cycle) {
                done[j] = true;
            }
            for (size_t j : cycle) {
                release(j);
            }
        }
    }
    StepOrder out;
    for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i].is_finally && !raw[i].duplicate) {
            out.finally.push_back(i);
        }
    }
    for (size_t i : out.finally) {
        pb.finally.push_back(std::move(steps[i]));
    }
    bool in_file_order = pb.steps.empty();
    for (size_t k = 0; k < order.size() && in_file_order; ++k) {
        in_file_order = order[k] == k;
    }
    if (in_file_order) {
        // The common case (phases and needs written in their order): no step is moved — a
        // Step is ~640 bytes, and 20,000 of them copied were a tenth of loading.
        steps.resize(order.size());
        pb.steps = std::move(steps);
    } else {
        pb.steps.reserve(pb.steps.size() + order.size());
        for (size_t i : order) {
            pb.steps.push_back(std::move(steps[i]));
        }
    }
    out.steps = std::move(order);
    return out;
}

} // namespace rollback::playbook
