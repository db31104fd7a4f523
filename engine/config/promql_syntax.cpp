// SPDX-License-Identifier: MIT
#include "config/promql_syntax.hpp"

#include "config/promql_string.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace rollback::config::promql {

namespace {

bool ident_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}

bool ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}

} // namespace

std::optional<double> number_value(std::string_view s) {
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        if (!std::all_of(s.begin() + 2, s.end(),
                         [](unsigned char c) { return std::isxdigit(c) != 0; })) {
            return std::nullopt;
        }
        double v = 0; // as Go's ParseFloat reads a hex integer past 64 bits: rounded
        for (char c : s.substr(2)) {
            v = v * 16 +
                static_cast<double>(std::isdigit(static_cast<unsigned char>(c))
                                        ? c - '0'
                                        : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
        }
        return v;
    }
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

namespace {

bool is_number(std::string_view s) {
    return number_value(s).has_value();
}

/// 5m, 1h30m, 250ms: one or more number-unit pairs (in any order: duration_ms() judges it).
bool duration_shape(std::string_view s) {
    std::size_t i = 0;
    bool any = false;
    while (i < s.size()) {
        const std::size_t digits = i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
            ++i;
        }
        if (i == digits) {
            return false;
        }
        if (s.substr(i, 2) == "ms") {
            i += 2;
        } else if (i < s.size() && std::string_view("smhdwy").find(s[i]) != std::string::npos) {
            ++i;
        } else {
            return false;
        }
        any = true;
    }
    return any;
}

} // namespace

std::optional<std::uint64_t> duration_ms(std::string_view s, std::string* why) {
    // model.ParseDuration: ^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$,
    // and at most 2^63-1 nanoseconds (Go's time.Duration) in all.
    static constexpr std::string_view k_units[] = {"y", "w", "d", "h", "m", "s", "ms"};
    static constexpr std::uint64_t k_unit_ms[] = {
        31'536'000'000, 604'800'000, 86'400'000, 3'600'000, 60'000, 1'000, 1};
    constexpr std::uint64_t k_max_ns = 9'223'372'036'854'775'807ULL;
    const auto refuse = [&](std::string text) -> std::optional<std::uint64_t> {
        if (why != nullptr) {
            *why = std::move(text);
        }
        return std::nullopt;
    };
    const std::string invalid = "not a valid duration string: \"" + std::string(s) + "\"";
    std::uint64_t total_ns = 0;
    std::size_t next_unit = 0;
    std::size_t i = 0;
    if (s.empty()) {
        return refuse(invalid);
    }
    while (i < s.size()) {
        const std::size_t digits = i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
            ++i;
        }
        const std::string_view number = s.substr(digits, i - digits);
        const std::string_view unit = s.substr(i, 2) == "ms" ? s.substr(i, 2) : s.substr(i, 1);
        i += unit.size();
        std::size_t u = next_unit;
        while (u < std::size(k_units) && k_units[u] != unit) {
            ++u;
        }
        if (number.empty() || u == std::size(k_units)) {
            return refuse(invalid); // no number, no unit, or a unit out of order or repeated
        }
        next_unit = u + 1;
        const std::uint64_t unit_ns = k_unit_ms[u] * 1'000'000;
        std::uint64_t n = 0;
        for (char c : number) {
            if (n > k_max_ns / 10) {
                return refuse("duration out of range");
            }
            n = n * 10 + static_cast<std::uint64_t>(c - '0');
        }
        if (n > k_max_ns / unit_ns || total_ns + n * unit_ns > k_max_ns) {
            return refuse("duration out of range");
        }
        total_ns += n * unit_ns;
    }
    return total_ns / 1'000'000;
}

std::vector<Token> lex(std::string_view q) {
    std::vector<Token> out;
    std::size_t i = 0;
    const std::size_t n = q.size();
    int brackets = 0;
    while (i < n) {
        const char c = q[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
            continue;
        }
        if (c == '#') { // a comment runs to the end of its line
            while (i < n && q[i] != '\n') {
                ++i;
            }
            continue;
        }
        const std::size_t start = i;
        if (c == '"' || c == '\'' || c == '`') {
            std::string value = read_string(q, start, i);
            out.push_back(
                {Tok::string, std::string(q.substr(start, i - start)), start, std::move(value)});
            continue;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) ||
            (c == '.' && i + 1 < n && std::isdigit(static_cast<unsigned char>(q[i + 1])))) {
            const bool hex = c == '0' && i + 1 < n && (q[i + 1] == 'x' || q[i + 1] == 'X');
            while (i < n &&
                   (std::isalnum(static_cast<unsigned char>(q[i])) || q[i] == '.' || q[i] == '_')) {
                if (!hex && (q[i] == 'e' || q[i] == 'E') && i + 2 < n &&
                    (q[i + 1] == '+' || q[i + 1] == '-') &&
                    std::isdigit(static_cast<unsigned char>(q[i + 2]))) {
                    i += 2; // 1e-3
                }
                ++i;
            }
            const std::string text(q.substr(start, i - start));
            std::string why;
            if (is_number(text)) {
                out.push_back({Tok::number, text, start});
            } else if (duration_shape(text) && !duration_ms(text, &why)) {
                throw Problem{why, start};
            } else if (duration_shape(text)) {
                out.push_back({Tok::duration, text, start});
            } else {
                throw Problem{"bad number or duration syntax: \"" + text + "\"", start};
            }
            continue;
        }
        // In brackets a ':' separates a subquery's range from its step ([5m:1m]); elsewhere it
        // may start a metric name (:node_cpu:rate5m).
        if (ident_start(c) && !(c == ':' && brackets > 0)) {
            while (i < n && ident_char(q[i])) {
                ++i;
            }
            out.push_back({Tok::ident, std::string(q.substr(start, i - start)), start});
            continue;
        }
        static constexpr std::string_view k_two[] = {"==", "!=", "<=", ">=", "=~", "!~"};
        if (std::find(std::begin(k_two), std::end(k_two), q.substr(i, 2)) != std::end(k_two)) {
            out.push_back({Tok::op, std::string(q.substr(i, 2)), start});
            i += 2;
            continue;
        }
        Tok kind = Tok::op;
        switch (c) {
        case '(':
            kind = Tok::lparen;
            break;
        case ')':
            kind = Tok::rparen;
            break;
        case '{':
            kind = Tok::lbrace;
            break;
        case '}':
            kind = Tok::rbrace;
            break;
        case '[':
            kind = Tok::lbracket;
            ++brackets;
            break;
        case ']':
            kind = Tok::rbracket;
            brackets = brackets > 0 ? brackets - 1 : 0;
            break;
        case ',':
            kind = Tok::comma;
            break;
        case ':':
            kind = Tok::colon;
            break;
        case '@':
            kind = Tok::at;
            break;
        default:
            if (std::string_view("+-*/%^<>=").find(c) == std::string_view::npos) {
                throw Problem{std::string("unexpected character \"") + c + "\"", start};
            }
        }
        out.push_back({kind, std::string(1, c), start});
        ++i;
    }
    out.push_back({Tok::end, "", n});
    return out;
}

const std::vector<Signature>& functions() {
    using T = PromqlType;
    const T v = T::instant_vector, m = T::range_vector, s = T::scalar, str = T::string;
    static const std::vector<Signature> table = [&] {
        std::vector<Signature> f;
        for (std::string_view name : {"abs",
                                      "absent",
                                      "acos",
                                      "acosh",
                                      "asin",
                                      "asinh",
                                      "atan",
                                      "atanh",
                                      "ceil",
                                      "cos",
                                      "cosh",
                                      "deg",
                                      "exp",
                                      "floor",
                                      "histogram_avg",
                                      "histogram_count",
                                      "histogram_sum",
                                      "histogram_stddev",
                                      "histogram_stdvar",
                                      "ln",
                                      "log10",
                                      "log2",
                                      "rad",
                                      "sgn",
                                      "sin",
                                      "sinh",
                                      "sort",
                                      "sort_desc",
                                      "sqrt",
                                      "tan",
                                      "tanh",
                                      "timestamp"}) {
            f.push_back({name, v, {v}});
        }
        for (std::string_view name :
             {"absent_over_time", "avg_over_time", "changes", "count_over_time", "delta", "deriv",
              "idelta", "increase", "irate", "last_over_time", "mad_over_time", "max_over_time",
              "min_over_time", "present_over_time", "rate", "resets", "stddev_over_time",
              "stdvar_over_time", "sum_over_time"}) {
            f.push_back({name, v, {m}});
        }
        for (std::string_view name : {"days_in_month", "day_of_month", "day_of_week", "day_of_year",
                                      "hour", "minute", "month", "year"}) {
            f.push_back({name, v, {v}, 1});
        }
        f.push_back({"clamp", v, {v, s, s}});
        f.push_back({"clamp_max", v, {v, s}});
        f.push_back({"clamp_min", v, {v, s}});
        f.push_back({"double_exponential_smoothing", v, {m, s, s}});
        f.push_back({"holt_winters", v, {m, s, s}});
        f.push_back({"histogram_fraction", v, {s, s, v}});
        f.push_back({"histogram_quantile", v, {s, v}});
        f.push_back({"label_join", v, {v, str, str, str}, -1});
        f.push_back({"label_replace", v, {v, str, str, str, str}});
        f.push_back({"pi", s, {}});
        f.push_back({"predict_linear", v, {m, s}});
        f.push_back({"quantile_over_time", v, {s, m}});
        f.push_back({"round", v, {v, s}, 1});
        f.push_back({"scalar", s, {v}});
        f.push_back({"sort_by_label", v, {v, str}, -1});
        f.push_back({"sort_by_label_desc", v, {v, str}, -1});
        f.push_back({"time", s, {}});
        f.push_back({"vector", v, {s}});
        return f;
    }();
    return table;
}

} // namespace rollback::config::promql
