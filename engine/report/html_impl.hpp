// SPDX-License-Identifier: MIT
#pragma once

// Internal to report/: what html.cpp and html_charts.cpp share.

#include "util/duration.hpp"
#include "util/time.hpp"

#include <string>
#include <vector>

namespace rollback::report::detail {

/// One bar (an attempt: from..to) or mark (a hook call: at `from`) of the run timeline.
struct Bar {
    size_t row = 0;
    util::SystemTime from, to;
    std::string cls;   ///< CSS class: the outcome (succeeded, failed, running, hook, ...)
    std::string title; ///< the tooltip: what happened
    bool mark = false;
};

std::string num(double v);          ///< for SVG coordinates
std::string short_number(double v); ///< for labels: 4 significant digits
std::string clock_text(util::SystemTime t);

/// The run's steps over time: `rows` labels top to bottom, `bars` on them, between t0 and t1.
std::string timeline_svg(const std::vector<Bar>& bars, const std::vector<std::string>& rows,
                         util::SystemTime t0, util::SystemTime t1);

} // namespace rollback::report::detail
