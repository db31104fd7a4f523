// SPDX-License-Identifier: MIT
#include "util/duration.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace rollback::util {

std::optional<Millis> parse_duration(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    double total_ms = 0;
    size_t i = 0;
    while (i < text.size()) {
        size_t start = i;
        bool dot = false;
        while (i < text.size() &&
               (std::isdigit(static_cast<unsigned char>(text[i])) || (text[i] == '.' && !dot))) {
            dot = dot || text[i] == '.';
            ++i;
        }
        if (i == start || (i - start == 1 && dot)) {
            return std::nullopt;
        }
        double number = std::stod(std::string(text.substr(start, i - start)));
        size_t unit_start = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) {
            ++i;
        }
        std::string_view unit = text.substr(unit_start, i - unit_start);
        double scale = 0;
        if (unit == "ms") {
            scale = 1;
        } else if (unit == "s") {
            scale = 1000;
        } else if (unit == "m") {
            scale = 60'000;
        } else if (unit == "h") {
            scale = 3'600'000;
        } else if (unit == "d") {
            scale = 86'400'000;
        } else {
            return std::nullopt;
        }
        total_ms += number * scale;
    }
    // At most k_max_duration: a time a step, a gate or a window reaches from now must stay
    // within what the clock holds (util::k_max_year); ten years is beyond every real use.
    if (!std::isfinite(total_ms) || total_ms > static_cast<double>(k_max_duration.count())) {
        return std::nullopt;
    }
    return Millis(static_cast<long long>(std::llround(total_ms)));
}

namespace {

/// `n` in decimal, then `unit`.
std::string number_and(long long n, std::string_view unit) {
    char buf[32];
    const auto end = std::to_chars(buf, buf + sizeof buf, n).ptr;
    std::string out(buf, end);
    out += unit;
    return out;
}

} // namespace

std::string format_duration(Millis d) {
    // Integers throughout: a long run's report writes two durations a record, and snprintf's
    // "%.1f" was a tenth of its time. The text is what "%lldms", "%llds" and "%.1fs" of
    // ms / 1000.0 wrote (test_util_duration.cpp compares every millisecond up to two minutes).
    const long long ms = d.count();
    if (ms < 1000) {
        return number_and(ms, "ms");
    }
    if (ms < 60'000) {
        if (ms % 1000 == 0) {
            return number_and(ms / 1000, "s");
        }
        if (ms % 100 == 50) {
            // Half a tenth: "%.1f" rounds the double nearest ms / 1000, which is a little above
            // or below the half (or on it: then to even). snprintf decides, as it did.
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
            return buf;
        }
        const long long tenths = ms / 100 + (ms % 100 > 50 ? 1 : 0);
        std::string out = number_and(tenths / 10, ".");
        out += static_cast<char>('0' + tenths % 10);
        out += 's';
        return out;
    }
    long long s = ms / 1000;
    long long h = s / 3600;
    long long m = (s % 3600) / 60;
    long long sec = s % 60;
    std::string out;
    if (h > 0) {
        out += std::to_string(h) + "h";
    }
    if (m > 0) {
        out += std::to_string(m) + "m";
    }
    if (sec > 0) {
        out += std::to_string(sec) + "s";
    }
    return out;
}

} // namespace rollback::util
