// SPDX-License-Identifier: MIT
#include "playbook/when.hpp"

#include <cctype>
#include <stdexcept>
#include <vector>

namespace rollback::playbook {
namespace {

const std::vector<std::string> k_fields = {"severity", "condition", "trigger", "reason"};

struct Parser {
    std::string_view text;
    const WhenFields* fields = nullptr; // null: only check the grammar
    size_t pos = 0;

    [[noreturn]] void fail(const std::string& problem) const { throw WhenError{problem, pos}; }

    void skip_space() {
        while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) {
            ++pos;
        }
    }
    bool at_word(std::string_view w) {
        skip_space();
        if (text.substr(pos, w.size()) != w) {
            return false;
        }
        size_t end = pos + w.size();
        return end == text.size() ||
               !(std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_');
    }
    std::string word() {
        skip_space();
        size_t start = pos;
        while (pos < text.size() &&
               (std::isalnum(static_cast<unsigned char>(text[pos])) || text[pos] == '_')) {
            ++pos;
        }
        return std::string(text.substr(start, pos - start));
    }

    bool parse_or() {
        bool v = parse_and();
        while (at_word("or")) {
            pos += 2;
            bool rhs = parse_and();
            v = v || rhs;
        }
        return v;
    }
    bool parse_and() {
        bool v = parse_term();
        while (at_word("and")) {
            pos += 3;
            bool rhs = parse_term();
            v = v && rhs;
        }
        return v;
    }
    bool parse_term() {
        skip_space();
        if (at_word("not")) {
            pos += 3;
            return !parse_term();
        }
        if (pos < text.size() && text[pos] == '(') {
            ++pos;
            bool v = parse_or();
            skip_space();
            if (pos >= text.size() || text[pos] != ')') {
                fail("expected ')'");
            }
            ++pos;
            return v;
        }
        size_t field_pos = pos;
        std::string field = word();
        if (field.empty()) {
            fail(pos >= text.size() ? "expected a field (severity, condition, trigger, reason)"
                                    : "unexpected character '" + std::string(1, text[pos]) + "'");
        }
        bool known = false;
        for (const auto& f : k_fields) {
            known = known || f == field;
        }
        if (!known) {
            pos = field_pos;
            fail("unknown field \"" + field + "\" (fields: severity, condition, trigger, reason)");
        }
        skip_space();
        bool equal;
        if (text.substr(pos, 2) == "==") {
            equal = true;
        } else if (text.substr(pos, 2) == "!=") {
            equal = false;
        } else {
            fail("expected == or !=");
        }
        pos += 2;
        skip_space();
        if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"')) {
            fail("expected a quoted value, e.g. 'critical'");
        }
        char quote = text[pos];
        size_t end = text.find(quote, pos + 1);
        if (end == std::string_view::npos) {
            fail("unterminated quoted value");
        }
        std::string_view value = text.substr(pos + 1, end - pos - 1);
        pos = end + 1;
        if (fields == nullptr) {
            return true;
        }
        auto it = fields->find(field);
        std::string_view actual =
            it == fields->end() ? std::string_view() : std::string_view(it->second);
        return (actual == value) == equal;
    }

    bool parse_all() {
        skip_space();
        if (pos == text.size()) {
            return true;
        }
        bool v = parse_or();
        skip_space();
        if (pos != text.size()) {
            fail("expected 'and' or 'or'");
        }
        return v;
    }
};

} // namespace

std::optional<WhenError> check_when(std::string_view expr) {
    try {
        Parser{expr, nullptr}.parse_all();
        return std::nullopt;
    } catch (const WhenError& e) {
        return e;
    }
}

bool evaluate_when(std::string_view expr, const WhenFields& fields) {
    try {
        return Parser{expr, &fields}.parse_all();
    } catch (const WhenError&) {
        return false;
    }
}

} // namespace rollback::playbook
