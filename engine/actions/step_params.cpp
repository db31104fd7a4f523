// SPDX-License-Identifier: MIT
#include "actions/step_params.hpp"

#include "util/strings.hpp"

namespace rollback::actions {

std::string step_subject(const playbook::Step& step) {
    return "step " + util::quoted(step.id);
}

const boost::json::value* member(const boost::json::value* table, std::string_view key) {
    if (table == nullptr || !table->is_object()) {
        return nullptr;
    }
    return table->as_object().if_contains(key);
}

const boost::json::value* StepParams::raw(std::string_view key) const {
    return m_step.params.if_contains(key);
}

std::vector<std::string> StepParams::sql_params(const std::string& path) const {
    auto it = m_step.sql_params.find(path);
    return it == m_step.sql_params.end() ? std::vector<std::string>{} : it->second;
}

util::Location StepParams::where(std::string_view key) const {
    auto it = m_step.param_where.find(std::string(key));
    return it != m_step.param_where.end() ? it->second : m_step.where;
}

void StepParams::error(std::string_view key, std::string problem, std::string hint) {
    std::string text =
        key.empty() ? std::move(problem) : "key " + util::quoted(key) + ": " + std::move(problem);
    m_diagnostics.push_back({where(key), step_subject(m_step), std::move(text), std::move(hint)});
}

void StepParams::type_error(std::string_view key, std::string_view expected) {
    error(key, "expected " + std::string(expected));
}

std::optional<std::string> StepParams::string(std::string_view key) {
    const auto* v = raw(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_string()) {
        type_error(key, "a string");
        return std::nullopt;
    }
    return std::string(v->as_string());
}

std::optional<std::int64_t> StepParams::integer(std::string_view key) {
    const auto* v = raw(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_int64()) {
        type_error(key, "an integer");
        return std::nullopt;
    }
    return v->as_int64();
}

std::optional<bool> StepParams::boolean(std::string_view key) {
    const auto* v = raw(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_bool()) {
        type_error(key, "true or false");
        return std::nullopt;
    }
    return v->as_bool();
}

std::optional<util::Millis> StepParams::duration(std::string_view key) {
    const auto* v = raw(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_string()) {
        if (auto d = util::parse_duration(v->as_string())) {
            return d;
        }
    }
    type_error(key, "a duration such as \"500ms\", \"30s\" or \"2m\"");
    return std::nullopt;
}

std::optional<std::vector<std::string>> StepParams::strings(std::string_view key) {
    const auto* v = raw(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    std::vector<std::string> out;
    if (v->is_array()) {
        for (const auto& e : v->as_array()) {
            if (!e.is_string()) {
                type_error(key, "an array of strings");
                return std::nullopt;
            }
            out.emplace_back(e.as_string());
        }
        return out;
    }
    type_error(key, "an array of strings");
    return std::nullopt;
}

std::optional<std::vector<std::int64_t>> StepParams::integers(std::string_view key) {
    const auto* v = raw(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_int64()) {
        return std::vector<std::int64_t>{v->as_int64()};
    }
    if (v->is_array()) {
        std::vector<std::int64_t> out;
        for (const auto& e : v->as_array()) {
            if (!e.is_int64()) {
                type_error(key, "an integer or an array of integers");
                return std::nullopt;
            }
            out.push_back(e.as_int64());
        }
        return out;
    }
    type_error(key, "an integer or an array of integers");
    return std::nullopt;
}

} // namespace rollback::actions
