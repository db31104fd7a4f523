// SPDX-License-Identifier: MIT
// The two drawings of the HTML pages, as inline SVG: a condition's signal over time (evidence)
// and a run's steps over time (timeline). Plain SVG 1.1 that any browser draws without script.
#include "report/html.hpp"
#include "report/html_impl.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace rollback::report {

namespace detail {

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

std::string short_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

std::string clock_text(util::SystemTime t) {
    // "2026-12-05T13:43:15.153Z" → "13:43:15Z": the page's header gives the day.
    const std::string full = util::format_time(t);
    return full.substr(11, 8) + "Z";
}

} // namespace detail

using namespace detail;

std::string evidence_svg(const Evidence& e, util::SystemTime decided_at) {
    constexpr double W = 760, H = 240, L = 64, R = 16, T = 16, B = 36;
    using Ms = std::chrono::milliseconds;
    // x: the tick log's span, the window and the decision's instant included
    util::SystemTime t0 = decided_at, t1 = decided_at;
    for (const auto& p : e.series) {
        t0 = std::min(t0, p.time);
        t1 = std::max(t1, p.time);
    }
    if (e.window_start) {
        t0 = std::min(t0, *e.window_start);
    }
    if (t1 <= t0) {
        t1 = t0 + Ms(1000);
    }
    // y: from 0 (or the lowest value) to a little above the highest of values and lines
    double lo = 0, hi = 0;
    bool any = false;
    auto take = [&](std::optional<double> v) {
        if (v && std::isfinite(*v)) {
            lo = any ? std::min(lo, *v) : std::min(0.0, *v);
            hi = any ? std::max(hi, *v) : std::max(0.0, *v);
            any = true;
        }
    };
    for (const auto& p : e.series) {
        take(p.value);
    }
    take(e.threshold);
    take(e.baseline);
    take(e.observed);
    if (hi <= lo) {
        hi = lo + 1;
    }
    // In halves: hi - lo of values near the limits of a double (a source may print 1e308)
    // overflows, and the drawing would get "nan" coordinates.
    const double pad = (hi / 2 - lo / 2) * 0.2;
    hi = std::isfinite(hi + pad) ? hi + pad : std::numeric_limits<double>::max();
    const double half_range = hi / 2 - lo / 2;
    const double span = static_cast<double>(std::chrono::duration_cast<Ms>(t1 - t0).count());
    auto x = [&](util::SystemTime t) {
        return L + (W - L - R) *
                       static_cast<double>(std::chrono::duration_cast<Ms>(t - t0).count()) / span;
    };
    auto y = [&](double v) { return T + (H - T - B) * (1 - (v / 2 - lo / 2) / half_range); };

    std::string out = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                      num(W) + " " + num(H) + "\" role=\"img\" aria-label=\"" +
                      html_text(e.condition + ": " + e.signal + " over time") + "\">";
    out += "<rect x=\"" + num(L) + "\" y=\"" + num(T) + "\" width=\"" + num(W - L - R) +
           "\" height=\"" + num(H - T - B) + "\" class=\"plot\"/>";
    if (e.window_start && e.window_end) {
        out += "<rect class=\"window\" x=\"" + num(x(*e.window_start)) + "\" y=\"" + num(T) +
               "\" width=\"" + num(std::max(1.0, x(*e.window_end) - x(*e.window_start))) +
               "\" height=\"" + num(H - T - B) + "\"><title>judged window " +
               html_text(util::format_time(*e.window_start) + " .. " +
                         util::format_time(*e.window_end)) +
               "</title></rect>";
    }
    auto hline = [&](double v, const char* cls, const std::string& label) {
        out += "<line class=\"" + std::string(cls) + "\" x1=\"" + num(L) + "\" x2=\"" + num(W - R) +
               "\" y1=\"" + num(y(v)) + "\" y2=\"" + num(y(v)) + "\"/>";
        out += "<text class=\"" + std::string(cls) + "-label\" x=\"" + num(W - R - 4) + "\" y=\"" +
               num(y(v) - 4) + "\" text-anchor=\"end\">" + html_text(label) + "</text>";
    };
    if (e.threshold) {
        hline(*e.threshold, "threshold",
              e.comparator + " " + short_number(*e.threshold) + " " + e.unit);
    }
    if (e.baseline) {
        hline(*e.baseline, "baseline", "baseline " + short_number(*e.baseline) + " " + e.unit);
    }
    // the signal: one polyline per run of observed ticks (a gap breaks the line)
    std::string pts;
    auto flush = [&] {
        if (!pts.empty()) {
            out += "<polyline class=\"signal\" points=\"" + pts + "\"/>";
            pts.clear();
        }
    };
    for (const auto& p : e.series) {
        if (!p.value || !std::isfinite(*p.value)) {
            flush();
            continue;
        }
        pts += (pts.empty() ? "" : " ") + num(x(p.time)) + "," + num(y(*p.value));
        if (p.verdict == "firing" || p.verdict == "pending") {
            out += "<circle class=\"breach\" cx=\"" + num(x(p.time)) + "\" cy=\"" +
                   num(y(*p.value)) + "\" r=\"2.5\"/>";
        }
    }
    flush();
    out += "<line class=\"decided\" x1=\"" + num(x(decided_at)) + "\" x2=\"" + num(x(decided_at)) +
           "\" y1=\"" + num(T) + "\" y2=\"" + num(H - B) + "\"/>";
    if (e.observed && std::isfinite(*e.observed)) {
        out += "<circle class=\"observed\" cx=\"" + num(x(decided_at)) + "\" cy=\"" +
               num(y(*e.observed)) + "\" r=\"4\"><title>observed " +
               html_text(short_number(*e.observed) + " " + e.unit) + "</title></circle>";
    }
    // axes: the span's ends and the value range
    out += "<text class=\"axis\" x=\"" + num(L) + "\" y=\"" + num(H - 12) + "\">" + clock_text(t0) +
           "</text>";
    out += "<text class=\"axis\" x=\"" + num(W - R) + "\" y=\"" + num(H - 12) +
           "\" text-anchor=\"end\">" + clock_text(t1) + "</text>";
    const double dx = x(decided_at);
    const char* anchor = dx > W - 90 ? "end" : dx < L + 90 ? "start" : "middle";
    out += "<text class=\"axis\" x=\"" + num(dx) + "\" y=\"" + num(H - 2) + "\" text-anchor=\"" +
           anchor + "\">decision " + clock_text(decided_at) + "</text>";
    out += "<text class=\"axis\" x=\"" + num(L - 6) + "\" y=\"" + num(T + 10) +
           "\" text-anchor=\"end\">" + short_number(hi) + "</text>";
    out += "<text class=\"axis\" x=\"" + num(L - 6) + "\" y=\"" + num(H - B) +
           "\" text-anchor=\"end\">" + short_number(lo) + "</text>";
    return out + "</svg>";
}

std::string detail::timeline_svg(const std::vector<Bar>& bars, const std::vector<std::string>& rows,
                                 util::SystemTime t0, util::SystemTime t1) {
    using Ms = std::chrono::milliseconds;
    constexpr double W = 900, L = 170, R = 16, T = 8, row_h = 22, axis = 24;
    const double H = T + row_h * static_cast<double>(rows.size()) + axis;
    if (t1 <= t0) {
        t1 = t0 + Ms(1);
    }
    const double span = static_cast<double>(std::chrono::duration_cast<Ms>(t1 - t0).count());
    auto x = [&](util::SystemTime t) {
        return L + (W - L - R) *
                       static_cast<double>(std::chrono::duration_cast<Ms>(t - t0).count()) / span;
    };
    std::string out =
        "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + num(W) +
        " " + num(H) + "\" role=\"img\" aria-label=\"steps over time\">";
    for (size_t i = 0; i < rows.size(); ++i) {
        const double ry = T + row_h * static_cast<double>(i);
        out += "<text class=\"row\" x=\"" + num(L - 8) + "\" y=\"" + num(ry + 15) +
               "\" text-anchor=\"end\">" + html_text(rows[i]) + "</text>";
        out += "<line class=\"grid\" x1=\"" + num(L) + "\" x2=\"" + num(W - R) + "\" y1=\"" +
               num(ry + row_h) + "\" y2=\"" + num(ry + row_h) + "\"/>";
    }
    for (const auto& b : bars) {
        const double ry = T + row_h * static_cast<double>(b.row);
        const double bx = x(b.from);
        if (b.mark) {
            out += "<rect class=\"mark " + b.cls + "\" x=\"" + num(bx - 1.5) + "\" y=\"" +
                   num(ry + 4) + "\" width=\"3\" height=\"" + num(row_h - 8) + "\"><title>" +
                   html_text(b.title) + "</title></rect>";
            continue;
        }
        out += "<rect class=\"bar " + b.cls + "\" x=\"" + num(bx) + "\" y=\"" + num(ry + 4) +
               "\" width=\"" + num(std::max(2.0, x(b.to) - bx)) + "\" height=\"" + num(row_h - 8) +
               "\"><title>" + html_text(b.title) + "</title></rect>";
    }
    out += "<text class=\"axis\" x=\"" + num(L) + "\" y=\"" + num(H - 6) + "\">" + clock_text(t0) +
           "</text>";
    out += "<text class=\"axis\" x=\"" + num(W - R) + "\" y=\"" + num(H - 6) +
           "\" text-anchor=\"end\">" + clock_text(t1) + " (+" +
           util::format_duration(std::chrono::duration_cast<util::Millis>(t1 - t0)) + ")</text>";
    return out + "</svg>";
}

} // namespace rollback::report
