// SPDX-License-Identifier: MIT
#pragma once

// Execution order of a playbook's steps: phases, then `needs`, then file order.

#include "playbook/model.hpp"
#include "playbook/toml_reader.hpp"

#include <string>
#include <vector>

namespace rollback::playbook {

/// What ordering and its diagnostics need of a step as read from the file, beside the Step
/// itself (kept apart: the steps become the playbook's without a copy when read in order).
struct RawStep {
    bool is_finally = false;
    std::string subject;                     ///< `step "say"`, `finally "done"`, `step #3`
    util::Location id_where;                 ///< the id's value
    std::vector<util::Location> needs_where; ///< one per step.needs element
    bool phase_ok = true;   ///< false when its phase was invalid (needs not checked)
    bool duplicate = false; ///< a second definition of an id (left out of the order)
    bool clean = false;     ///< read without a diagnostic
};

/// Which of the steps given each of pb.steps and pb.finally is (indices into them).
struct StepOrder {
    std::vector<std::size_t> steps;
    std::vector<std::size_t> finally;
};

/// Checks every `needs` (unknown id with did-you-mean, a later phase, a finally step, cycles
/// reported once each as "a -> b -> a" at the first step of the cycle in file order) and fills
/// `pb.steps` (phase order, then a stable topological order on `needs`) and `pb.finally`
/// (file order) with `steps` (raw[i] is what was read of steps[i]). When the file's order is
/// the execution order (the steps, then the finally steps), `steps` becomes pb.steps as it is.
StepOrder order_steps(TomlReader& reader, std::vector<Step>&& steps,
                      const std::vector<RawStep>& raw, Playbook& pb);

} // namespace rollback::playbook
