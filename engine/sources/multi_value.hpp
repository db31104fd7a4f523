// SPDX-License-Identifier: MIT
#pragma once

// nginx's multi-value variables, in one place. When nginx contacts several upstream servers for
// one request (proxy_next_upstream), $upstream_addr, $upstream_status, $upstream_response_time and
// their siblings hold one value per attempt, separated by ", " ("0.900, 0.800, 0.700"); after an
// internal redirect to another upstream group (X-Accel-Redirect, error_page) the groups are
// separated by " : " ("-, 1.600 : 0.200"). An attempt that got no answer is "-". Values never
// contain a space or a comma; an address may contain ':' ("unix:/tmp/sock", "10.0.0.1:80").
// docs/config.md says what the engine takes from them.

#include <array>
#include <cstddef>
#include <string_view>

namespace rollback::sources {

/// True for the nginx variables that may hold one value per upstream attempt.
inline bool is_multi_value_variable(std::string_view name) {
    static constexpr std::array<std::string_view, 8> k_names = {
        "upstream_addr",           "upstream_status",      "upstream_response_time",
        "upstream_connect_time",   "upstream_header_time", "upstream_response_length",
        "upstream_bytes_received", "upstream_bytes_sent"};
    for (auto n : k_names) {
        if (n == name) {
            return true;
        }
    }
    return false;
}

/// True when the byte at `p` (in [begin, end)) belongs to a ", " or " : " separator between the
/// values of a multi-value variable: a field delimiter found there does not end the field.
inline bool at_multi_value_separator(const char* begin, const char* end, const char* p) {
    switch (*p) {
    case ',':
        return p + 1 < end && p[1] == ' ';
    case ':':
        return p > begin && p[-1] == ' ' && p + 1 < end && p[1] == ' ';
    case ' ':
        return (p > begin && p[-1] == ',') || (end - p > 2 && p[1] == ':' && p[2] == ' ') ||
               (p - begin >= 2 && p[-1] == ':' && p[-2] == ' ');
    default:
        return false;
    }
}

/// Calls `f(value)` for each value of a multi-value text, in order ("-" included); a single
/// value is one call. Stops and returns false when `f` does, or when the text is not values
/// joined by ", " and " : " (an empty value, a stray space).
template <class F>
inline bool for_each_value(std::string_view text, F&& f) {
    size_t i = 0;
    while (true) {
        size_t j = i;
        while (j < text.size() && text[j] != ',' && text[j] != ' ') {
            ++j;
        }
        if (j == i || !f(text.substr(i, j - i))) {
            return false;
        }
        if (j == text.size()) {
            return true;
        }
        if (text.compare(j, 2, ", ") == 0) {
            i = j + 2;
        } else if (text.compare(j, 3, " : ") == 0) {
            i = j + 3;
        } else {
            return false;
        }
    }
}

} // namespace rollback::sources
