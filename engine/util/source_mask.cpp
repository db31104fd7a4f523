// SPDX-License-Identifier: MIT
#include "util/source_mask.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace rollback::util {

namespace {

constexpr std::string_view k_mask = "***";

bool blank(char c) {
    return c == ' ' || c == '\t';
}

// `shown` built from `line` where `hidden[i]` says character i is replaced; each run of hidden
// characters becomes one k_mask. The column follows the character it pointed at (or the mask
// that replaced it).
std::string apply_mask(std::string_view line, const std::vector<bool>& hidden, int& column) {
    std::string out;
    const size_t want = static_cast<size_t>(std::max(1, column)) - 1;
    bool moved = false;
    for (size_t i = 0; i < line.size(); ++i) {
        if (i == want) {
            column = static_cast<int>(out.size()) + 1;
            moved = true;
        }
        if (!hidden[i]) {
            out += line[i];
        } else if (i == 0 || !hidden[i - 1]) {
            out += k_mask;
        } else if (i == want) {
            column = static_cast<int>(out.size() - k_mask.size()) + 1; // on the mask
        }
    }
    if (!moved) {
        column = static_cast<int>(out.size()) + 1 +
                 static_cast<int>(want > line.size() ? want - line.size() : 0);
    }
    return out;
}

} // namespace

std::string dotenv_line_masked(std::string_view line, int& column) {
    size_t i = 0;
    while (i < line.size() && blank(line[i])) {
        ++i;
    }
    if (line.substr(i, 7) == "export " || line.substr(i, 7) == "export\t") {
        i += 7;
        while (i < line.size() && blank(line[i])) {
            ++i;
        }
    }
    // The name is shown only when it is one (a letter or _, then letters, digits, _ or -) and
    // something follows it: a line of one word, or a "name" holding other characters
    // (`Zq8+Secret==`), may be a value itself.
    const size_t name = i;
    while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) ||
                               line[i] == '_' || line[i] == '-')) {
        ++i;
    }
    const bool named = i > name && !std::isdigit(static_cast<unsigned char>(line[name])) &&
                       line[name] != '-' && i < line.size() && (line[i] == '=' || blank(line[i]));
    if (!named) {
        i = name;
    }
    while (named && i < line.size() && blank(line[i])) {
        ++i;
    }
    if (named && i < line.size() && line[i] == '=') {
        ++i;
        while (i < line.size() && blank(line[i])) {
            ++i;
        }
    }
    if (named && i < line.size() && (line[i] == '"' || line[i] == '\'')) {
        ++i;
    }
    std::vector<bool> hidden(line.size(), false);
    std::fill(hidden.begin() + static_cast<std::ptrdiff_t>(i), hidden.end(), true);
    return apply_mask(line, hidden, column);
}

std::string toml_line_masked(std::string_view text, int line, int& column) {
    enum { code, comment, basic, literal, ml_basic, ml_literal } state = code;
    int at = 1;
    size_t line_start = 0;
    std::vector<bool> hidden;
    for (size_t i = 0; i <= text.size(); ++i) {
        const char c = i < text.size() ? text[i] : '\n';
        if (at == line && hidden.size() < i - line_start) {
            hidden.resize(i - line_start, false);
        }
        auto hide = [&] {
            if (at == line) {
                hidden.push_back(true);
            }
        };
        auto show = [&] {
            if (at == line) {
                hidden.push_back(false);
            }
        };
        if (c == '\n') {
            if (at == line) {
                std::string_view src = text.substr(line_start, i - line_start);
                if (!src.empty() && src.back() == '\r') {
                    src.remove_suffix(1);
                }
                hidden.resize(src.size(), false);
                return apply_mask(src, hidden, column);
            }
            if (state == comment || state == basic || state == literal) {
                state = code; // a single-line string ends at the line (toml++ reports it)
            }
            ++at;
            line_start = i + 1;
            continue;
        }
        std::string_view rest = text.substr(i);
        switch (state) {
        case code:
            show();
            if (c == '#') {
                state = comment;
            } else if (rest.substr(0, 3) == "\"\"\"" || rest.substr(0, 3) == "'''") {
                state = c == '"' ? ml_basic : ml_literal;
                show();
                show();
                i += 2;
            } else if (c == '"') {
                state = basic;
            } else if (c == '\'') {
                state = literal;
            }
            break;
        case comment:
            hide();
            break;
        case basic:
        case ml_basic:
            if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') {
                hide();
                hide();
                ++i;
            } else if (state == basic && c == '"') {
                show();
                state = code;
            } else if (state == ml_basic && rest.substr(0, 3) == "\"\"\"") {
                show();
                show();
                show();
                i += 2;
                state = code;
            } else {
                hide();
            }
            break;
        case literal:
        case ml_literal:
            if (state == literal && c == '\'') {
                show();
                state = code;
            } else if (state == ml_literal && rest.substr(0, 3) == "'''") {
                show();
                show();
                show();
                i += 2;
                state = code;
            } else {
                hide();
            }
            break;
        }
    }
    return {};
}

std::string url_userinfo_masked(std::string_view line, int& column) {
    std::vector<bool> hidden(line.size(), false);
    bool any = false;
    for (size_t scheme = line.find("://"); scheme != std::string_view::npos;
         scheme = line.find("://", scheme + 3)) {
        // The authority ends at the path, query or fragment, or where the URL's text ends in
        // the line (whitespace, a quote, a bracket).
        const size_t from = scheme + 3;
        size_t end = from;
        while (end < line.size() &&
               std::string_view("/?#\"' \t<>[]{}`").find(line[end]) == std::string_view::npos) {
            ++end;
        }
        const size_t at = line.substr(from, end - from).rfind('@');
        if (at == std::string_view::npos) {
            continue;
        }
        // user:password@ hides the password; a lone user@ may be a token (https://TOKEN@host).
        const size_t colon = line.substr(from, at).find(':');
        const size_t secret = colon == std::string_view::npos ? from : from + colon + 1;
        for (size_t i = secret; i < from + at; ++i) {
            hidden[i] = true;
            any = true;
        }
    }
    return any ? apply_mask(line, hidden, column) : std::string(line);
}

} // namespace rollback::util
