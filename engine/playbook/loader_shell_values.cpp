// SPDX-License-Identifier: MIT
// The route docs/playbook.md gives values into shell text — env = { N = "{{v}}" } read as "$N",
// or an argument after the command string read as "$1" — kept data: a shell string that
// evaluates such a variable as arithmetic, a name or a command is an error at the string.
#include "playbook/loader_impl.hpp"

#include <algorithm>

namespace rollback::playbook::detail {

void Loader::refuse_fed_values(const tree::Table& t, std::string_view subject) {
    auto refs = [&](std::string_view text) {
        std::vector<std::string> uses, ignored;
        m_subst->apply(text, uses, ignored);
        return uses.empty() ? std::string() : "{{" + uses.front() + "}}";
    };
    // Environment variables that hold a reference.
    std::vector<std::string> names;
    std::string env_ref;
    if (const tree::Table* env = t.get_table("env")) {
        for (auto&& [k, v] : *env) {
            if (v.is_string()) {
                if (std::string r = refs(v.string()); !r.empty()) {
                    names.emplace_back(k.str());
                    env_ref =
                        env_ref.empty() ? "env." + std::string(k.str()) + " (" + r + ")" : env_ref;
                }
            }
        }
    }
    auto check = [&](const tree::Node& at, std::string_view key, std::string_view script,
                     bool positional, const std::string& fed) {
        const std::string use = fed_value_use(script, names, positional);
        if (use.empty()) {
            return;
        }
        m_r.error(m_r.where(at), subject,
                  "key " + q(key) + ": a value handed to the shell (" + fed +
                      ") is evaluated as code in " + use + ": the value would run",
                  "use it only as an argument of a fixed command (\"$N\", \"$1\"); compare "
                  "numbers with [ \"$N\" -gt 0 ] after case $N in ''|*[!0-9]*) exit 2;; esac, "
                  "never in (( )), $(( )), [[ -eq ]], let, declare -i, a subscript, a name "
                  "(printf -v, read, [[ -v ]]) or the command position");
    };
    for (auto&& [k, v] : t) {
        const std::string key(k.str());
        if (key != "argv" && key != "probe" && encoding_of(key) != Encoding::argv) {
            continue;
        }
        if (v.is_string() && (key == "argv" || key == "probe")) {
            if (!names.empty()) {
                check(v, key, v.string(), false, env_ref);
            }
            continue;
        }
        const tree::Array* arr = v.as_array();
        if (arr == nullptr || !arr->is_homogeneous(tree::Type::string)) {
            continue;
        }
        std::vector<std::string> seen, raw_refs;
        for (const auto& item : *arr) {
            const std::string_view text = item.string();
            std::vector<std::string> uses, ignored;
            seen.push_back(m_subst->apply(text, uses, ignored));
            raw_refs.push_back(refs(text));
        }
        const ArgRoles roles = argument_roles(seen);
        for (size_t i = 0; i < arr->size(); ++i) {
            if (roles.role[i] != ArgRole::shell) {
                continue;
            }
            std::string fed = env_ref;
            for (size_t k2 = i + 1; k2 < arr->size() && fed.empty(); ++k2) {
                if (!raw_refs[k2].empty()) {
                    fed = "$" + std::to_string(k2 - i - 1) + " = " + raw_refs[k2];
                }
            }
            const bool positional =
                std::any_of(raw_refs.begin() + static_cast<long>(i) + 1, raw_refs.end(),
                            [](const std::string& r) { return !r.empty(); });
            if (positional || !names.empty()) {
                check(*arr->get(i), key, arr->get(i)->string(), positional, fed);
            }
        }
    }
}

} // namespace rollback::playbook::detail
