// SPDX-License-Identifier: MIT
#include "playbook/toml_reader.hpp"

#include "util/strings.hpp"

#include <algorithm>

namespace rollback::playbook {

std::string_view type_name(toml::node_type t) {
    switch (t) {
    case toml::node_type::string:
        return "a string";
    case toml::node_type::integer:
        return "an integer";
    case toml::node_type::floating_point:
        return "a float";
    case toml::node_type::boolean:
        return "a boolean";
    case toml::node_type::date:
        return "a date";
    case toml::node_type::time:
        return "a time";
    case toml::node_type::date_time:
        return "a date-time";
    case toml::node_type::array:
        return "an array";
    case toml::node_type::table:
        return "a table";
    case toml::node_type::none:
        break;
    }
    return "nothing";
}

TomlReader::TomlReader(std::string display_path) : m_path(std::move(display_path)) {}

std::optional<toml::table> TomlReader::parse(std::string_view text) {
    try {
        return toml::parse(text, m_path);
    } catch (const toml::parse_error& e) {
        // Errors at end of input can point one past the last line; keep them on a real line.
        util::Location at = where(e.source());
        at.line = std::max(1, at.line);
        at.column = std::max(1, at.column);
        error(at, "syntax", std::string(e.description()));
        return std::nullopt;
    }
}

util::Location TomlReader::where(const toml::source_region& r) const {
    return {m_path, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

util::Location TomlReader::key_where(const toml::table& table, std::string_view key) const {
    auto it = table.find(key);
    return it == table.end() ? where(table) : where(it->first);
}

void TomlReader::error(util::Location at, std::string_view subject, std::string problem,
                       std::string hint) {
    m_diagnostics.push_back(
        {std::move(at), std::string(subject), std::move(problem), std::move(hint)});
}

bool TomlReader::check_keys(const toml::table& table, std::string_view subject,
                            const std::vector<std::string>& allowed) {
    bool all_known = true;
    for (auto&& [k, v] : table) {
        if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) {
            continue;
        }
        all_known = false;
        std::string problem = "unknown key " + util::quoted(k.str());
        if (auto guess = util::closest_match(k.str(), allowed); !guess.empty()) {
            problem += " (did you mean " + util::quoted(guess) + "?)";
        }
        error(where(k), subject, std::move(problem));
    }
    return all_known;
}

void TomlReader::type_error(const toml::node& n, std::string_view key, std::string_view subject,
                            std::string_view expected) {
    error(where(n), subject,
          "key " + util::quoted(key) + ": expected " + std::string(expected) + ", got " +
              std::string(type_name(n.type())));
}

std::optional<std::string> TomlReader::get_string(const toml::table& t, std::string_view key,
                                                  std::string_view subject) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    if (n->is_string()) {
        return n->as_string()->get();
    }
    type_error(*n, key, subject, "a string");
    return std::nullopt;
}

std::optional<int64_t> TomlReader::get_int(const toml::table& t, std::string_view key,
                                           std::string_view subject, int64_t min, int64_t max) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    if (!n->is_integer()) {
        type_error(*n, key, subject, "an integer");
        return std::nullopt;
    }
    int64_t v = n->as_integer()->get();
    if (v < min || v > max) {
        error(where(*n), subject,
              "key " + util::quoted(key) + ": " + std::to_string(v) + " is out of range (" +
                  std::to_string(min) + ".." + std::to_string(max) + ")");
        return std::nullopt;
    }
    return v;
}

std::optional<bool> TomlReader::get_bool(const toml::table& t, std::string_view key,
                                         std::string_view subject) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    if (!n->is_boolean()) {
        type_error(*n, key, subject, "a boolean");
        return std::nullopt;
    }
    return n->as_boolean()->get();
}

std::optional<util::Millis> TomlReader::get_duration(const toml::table& t, std::string_view key,
                                                     std::string_view subject) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    if (!n->is_string()) {
        type_error(*n, key, subject, "a duration string like \"30s\"");
        return std::nullopt;
    }
    const std::string& text = n->as_string()->get();
    if (auto d = util::parse_duration(text)) {
        return d;
    }
    error(where(*n), subject,
          "key " + util::quoted(key) + ": invalid duration " + util::quoted(text),
          "write a number and a unit: \"250ms\", \"30s\", \"5m\", \"1h30m\"");
    return std::nullopt;
}

std::optional<std::vector<std::string>>
TomlReader::get_string_array(const toml::table& t, std::string_view key, std::string_view subject) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    const toml::array* arr = n->as_array();
    if (arr == nullptr) {
        type_error(*n, key, subject, "an array of strings");
        return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (size_t i = 0; i < arr->size(); ++i) {
        const toml::node& e = *arr->get(i);
        if (!e.is_string()) {
            error(where(e), subject,
                  "key " + util::quoted(key) + ": expected an array of strings, element " +
                      std::to_string(i + 1) + " is " + std::string(type_name(e.type())));
            ok = false;
            continue;
        }
        out.push_back(e.as_string()->get());
    }
    if (!ok) {
        return std::nullopt;
    }
    return out;
}

const toml::table* TomlReader::get_table(const toml::table& t, std::string_view key,
                                         std::string_view subject) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
        return nullptr;
    }
    if (!n->is_table()) {
        type_error(*n, key, subject, "a table");
        return nullptr;
    }
    return n->as_table();
}

bool TomlReader::require(const toml::table& t, std::string_view key, std::string_view subject,
                         util::Location at) {
    if (t.contains(key)) {
        return true;
    }
    error(std::move(at), subject, "missing required key " + util::quoted(key));
    return false;
}

void TomlReader::throw_if_errors() const {
    if (!m_diagnostics.empty()) {
        throw util::InvalidInput(m_diagnostics);
    }
}

} // namespace rollback::playbook
