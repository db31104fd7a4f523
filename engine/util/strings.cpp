// SPDX-License-Identifier: MIT
#include "util/strings.hpp"

#include "util/encode.hpp"

#include <algorithm>
#include <cstdio>

namespace rollback::util {

std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> out;
    if (text.empty()) {
        return out;
    }
    size_t start = 0;
    while (true) {
        size_t pos = text.find(sep, start);
        out.emplace_back(text.substr(start, pos == std::string_view::npos ? std::string_view::npos
                                                                          : pos - start));
        if (pos == std::string_view::npos) {
            break;
        }
        start = pos + 1;
    }
    return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) {
            out += sep;
        }
        out += parts[i];
    }
    return out;
}

std::string_view trim(std::string_view text) {
    const char* ws = " \t\r\n";
    size_t b = text.find_first_not_of(ws);
    if (b == std::string_view::npos) {
        return {};
    }
    size_t e = text.find_last_not_of(ws);
    return text.substr(b, e - b + 1);
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
    if (from.empty()) {
        return text;
    }
    size_t pos = 0;
    while ((pos = text.find(from, pos)) != std::string::npos) {
        text.replace(pos, from.size(), to);
        pos += to.size();
    }
    return text;
}

std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\r':
            out += "\\r";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
                out += buf;
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

std::string tail(std::string_view text, size_t max_bytes) {
    if (text.size() <= max_bytes) {
        return std::string(text);
    }
    // Never from inside a UTF-8 character: its continuation bytes would be invalid UTF-8.
    std::string_view t = text.substr(utf8_boundary(text, text.size() - max_bytes));
    size_t nl = t.find('\n');
    if (nl != std::string_view::npos && nl < t.size() / 4) {
        t = t.substr(nl + 1);
    }
    return std::string(t);
}

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) {
        prev[j] = j;
    }
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

} // namespace

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
    size_t best = 4;
    std::string out;
    for (const auto& c : candidates) {
        size_t d = edit_distance(word, c);
        if (d < best && d < std::max<size_t>(word.size(), 2)) {
            best = d;
            out = c;
        }
    }
    return out;
}

} // namespace rollback::util
