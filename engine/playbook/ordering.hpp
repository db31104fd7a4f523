// SPDX-License-Identifier: MIT
#pragma once

// Execution order of a playbook's steps: phases, then `needs`, then file order.

#include "playbook/model.hpp"
#include "playbook/toml_reader.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::playbook {

/// What ordering and its diagnostics need of a step as read from the file, beside the Step
/// itself (kept apart: the steps become the playbook's without a copy when read in order).
struct RawStep {
    bool is_finally = false;
    std::string subject;                  ///< `step "say"`, `finally "done"`, `step #3`
    tree::Position id_at;                 ///< the id's value (TomlReader::where makes it a place)
    std::vector<tree::Position> needs_at; ///< one per step.needs element
    bool phase_ok = true;                 ///< false when its phase was invalid (needs not checked)
    bool duplicate = false;               ///< a second definition of an id (left out of the order)
    bool clean = false;                   ///< read without a diagnostic
};

/// Step ids to the index of their first definition: one open-addressed table of views and
/// indices (a hash map with a node per id cost a tenth of loading 20,000 steps). The views must
/// outlive it.
class StepIndex {
  public:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    /// Room for `ids` ids.
    explicit StepIndex(std::size_t ids);
    /// The index `id` was added with, or npos.
    std::size_t find(std::string_view id) const;
    /// Adds `id` with index `i` unless it is there; returns the index it has (`i` when added).
    std::size_t add(std::string_view id, std::size_t i);

  private:
    struct Slot {
        std::string_view id;
        std::size_t index = npos;
    };
    std::size_t slot_of(std::string_view id) const;

    std::vector<Slot> m_slots;
    std::size_t m_mask = 0;
};

/// Which of the steps given each of pb.steps and pb.finally is (indices into them).
struct StepOrder {
    std::vector<std::size_t> steps;
    std::vector<std::size_t> finally;
};

/// Checks every `needs` (unknown id with did-you-mean, a later phase, a finally step, cycles
/// reported once each as "a -> b -> a" at the first step of the cycle in file order) and fills
/// `pb.steps` (phase order, then a stable topological order on `needs`) and `pb.finally`
/// (file order) with `steps` (raw[i] is what was read of steps[i]; `ids`: each id's first
/// definition, the one that is not a duplicate). When the file's order is the execution order
/// (the steps, then the finally steps), `steps` becomes pb.steps as it is.
StepOrder order_steps(TomlReader& reader, std::vector<Step>&& steps,
                      const std::vector<RawStep>& raw, const StepIndex& ids, Playbook& pb);

} // namespace rollback::playbook
