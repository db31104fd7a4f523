// SPDX-License-Identifier: MIT
#include "report/progress_bar.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace rollback::report {

namespace {

/// A whole number at the start of `s` (at most 18 digits); advances `s` past it.
std::optional<uint64_t> number(std::string_view& s) {
    uint64_t v = 0;
    const char* end = s.data() + std::min<size_t>(s.size(), 18);
    auto [p, ec] = std::from_chars(s.data(), end, v);
    if (ec != std::errc() || p == s.data()) {
        return std::nullopt;
    }
    s.remove_prefix(static_cast<size_t>(p - s.data()));
    return v;
}

} // namespace

std::optional<std::string> progress_bar(std::string_view line, size_t cols) {
    const size_t colon = line.find(": ");
    if (colon == std::string_view::npos || colon == 0) {
        return std::nullopt;
    }
    const std::string_view label = line.substr(0, colon);
    std::string_view rest = line.substr(colon + 2);
    const std::string_view counts_start = rest;
    auto done = number(rest);
    if (!done || rest.empty() || rest.front() != '/') {
        return std::nullopt;
    }
    rest.remove_prefix(1);
    auto total = number(rest);
    if (!total || *total == 0 || *done > *total ||
        (!rest.empty() && rest.front() != ' ' && rest.front() != ',')) {
        return std::nullopt;
    }
    const std::string_view after = counts_start; // "DONE/TOTAL REST", as the step wrote it
    const unsigned percent = static_cast<unsigned>(*done * 100 / *total);
    std::string pct = std::to_string(percent) + "%";
    pct.insert(0, 4 - std::min<size_t>(pct.size(), 4), ' ');
    // LABEL [bar] pct after, at least 10 cells; narrower (an 80-column terminal beside the step's
    // id, state and time): the label goes first (the step is the row's id), then the bar shrinks
    // down to 5 cells. The counts and what follows them are always kept whole.
    constexpr size_t k_max_cells = 30;
    struct Form {
        bool label;
        size_t min_cells;
    };
    std::string out;
    for (const Form f : {Form{true, 10}, Form{false, 5}}) {
        const size_t fixed =
            (f.label ? label.size() + 1 : 0) + 2 + 1 + pct.size() + 1 + after.size();
        if (fixed + f.min_cells > cols) {
            continue;
        }
        const size_t cells = std::min(k_max_cells, cols - fixed);
        const size_t filled = static_cast<size_t>(*done * cells / *total);
        if (f.label) {
            out = std::string(label) + " ";
        }
        out += "[";
        out.append(filled, '#');
        out.append(cells - filled, '.');
        out += "] " + pct + " ";
        out += after;
        return out;
    }
    return std::nullopt;
}

} // namespace rollback::report
