// SPDX-License-Identifier: MIT
#include "playbook/model.hpp"

namespace rollback::playbook {

std::string_view to_string(Phase p) {
    switch (p) {
    case Phase::immediate:
        return "immediate";
    case Phase::database:
        return "database";
    case Phase::code:
        return "code";
    case Phase::verify:
        return "verify";
    case Phase::finally:
        return "finally";
    }
    return "unknown";
}

std::optional<Phase> parse_phase(std::string_view name) {
    for (Phase p :
         {Phase::immediate, Phase::database, Phase::code, Phase::verify, Phase::finally}) {
        if (to_string(p) == name) {
            return p;
        }
    }
    return std::nullopt;
}

std::string_view to_string(OnFailure f) {
    return f == OnFailure::abort ? "abort" : "continue";
}

const Step* Playbook::find_step(std::string_view id) const {
    for (const auto* list : {&steps, &finally}) {
        for (const Step& s : *list) {
            if (s.id == id) {
                return &s;
            }
        }
    }
    return nullptr;
}

} // namespace rollback::playbook
