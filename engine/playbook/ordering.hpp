// SPDX-License-Identifier: MIT
#pragma once

// Execution order of a playbook's steps: phases, then `needs`, then file order.

#include "playbook/model.hpp"
#include "playbook/toml_reader.hpp"

#include <string>
#include <vector>

namespace rollback::playbook {

/// A step as read from the file, with what ordering and its diagnostics need.
struct RawStep {
    Step step;
    bool is_finally = false;
    std::string subject;                     ///< `step "say"`, `finally "done"`, `step #3`
    util::Location id_where;                 ///< the id's value
    std::vector<util::Location> needs_where; ///< one per step.needs element
    bool phase_ok = true;   ///< false when its phase was invalid (needs not checked)
    bool duplicate = false; ///< a second definition of an id (left out of the order)
};

/// Checks every `needs` (unknown id with did-you-mean, a later phase, a finally step, cycles
/// reported once each as "a -> b -> a" at the first step of the cycle in file order) and fills
/// `pb.steps` (phase order, then a stable topological order on `needs`) and `pb.finally`
/// (file order). The steps are moved out of `raw`.
void order_steps(TomlReader& reader, std::vector<RawStep>&& raw, Playbook& pb);

} // namespace rollback::playbook
