// SPDX-License-Identifier: MIT
// Context-aware substitution of {{variables}}: a value stays a value in SQL, JSON, a URL or a
// header, and is refused in shell text (docs/playbook.md, "Variables").
#include "playbook/variables.hpp"

#include "playbook/substitute_dsn.hpp"
#include "playbook/substitute_sql.hpp"

#include "util/encode.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace rollback::playbook {

namespace {

/// A value that makes an argument begin with `|` or `!` — the whole element, or an option's
/// value (`-o{{v}}`, `--output={{v}}`) — or end with `|`: psql -o, strace -o, ed FILE, perl's
/// two-argument open (which trims spaces first) and awk's getline read such a name as a
/// command to run. Empty when the value may stand there.
std::string pipe_name_problem(std::string_view before, std::string_view value, bool ends) {
    const bool option_value = before.empty() || before.back() == '=' ||
                              (before.size() >= 2 && before[0] == '-' && before[1] != '-' &&
                               std::all_of(before.begin() + 1, before.end(),
                                           [](unsigned char c) { return std::isalnum(c) != 0; }));
    const size_t first = value.find_first_not_of(" \t\r\n\f\v");
    const size_t last = value.find_last_not_of(" \t\r\n\f\v");
    if (first == std::string_view::npos) {
        return "";
    }
    if (option_value && (value[first] == '|' || value[first] == '!')) {
        return std::string("begins with '") + value[first] +
               "' where it begins an argument or an option's value: programs read such a name "
               "as a command to run (psql -o, strace -o, ed, perl's open); write a fixed prefix "
               "before it (\"./{{v}}\", \"/srv/out/{{v}}\")";
    }
    if (ends && value[last] == '|') {
        return "ends with '|' where it ends an argument: perl's open reads such a name as a "
               "command to run; write a fixed suffix after it";
    }
    return "";
}

/// What makes a service name from a value select more than the one service it names:
/// systemctl expands glob patterns in unit names (systemctl(1), "PARAMETER SYNTAX"),
/// supervisorctl reads `GROUP:`, `GROUP:*` and `all` as many programs; an empty value leaves
/// the rest of the name (`shop:{{svc}}` is the group `shop:`).
std::string service_name_problem(std::string_view value) {
    if (value.empty()) {
        return "is empty: the service name would be what is left of it (`shop:` is supervisor's "
               "whole group shop); a service name takes a non-empty value";
    }
    if (value == "all") {
        return "is \"all\": supervisorctl reads it as every program";
    }
    if (const size_t bad = value.find_first_of("*?[]: \t\r\n"); bad != std::string_view::npos) {
        const char c = value[bad];
        return std::string("holds ") +
               (c == ':' ? "':' (supervisor's GROUP:NAME syntax: `shop:` is every program of "
                           "the group)"
                : c == ' ' || c == '\t' || c == '\r' || c == '\n'
                    ? "whitespace (supervisorctl splits its command line again)"
                    : "'" + std::string(1, c) +
                          "' (a glob pattern: systemctl and supervisorctl would act on every "
                          "matching service)") +
               "; a service name from a value names one service";
    }
    return "";
}

} // namespace

std::string_view to_string(Encoding e) {
    switch (e) {
    case Encoding::plain:
        return "plain";
    case Encoding::shell:
        return "shell";
    case Encoding::sql:
        return "sql";
    case Encoding::url:
        return "url";
    case Encoding::header:
        return "header";
    case Encoding::json:
        return "json";
    case Encoding::form:
        return "form";
    case Encoding::argv:
        return "argv";
    case Encoding::dsn:
        return "dsn";
    case Encoding::operand:
        return "operand";
    case Encoding::service_name:
        return "service_name";
    }
    return "plain";
}

namespace {

using detail::SqlState;

// Inside or outside a JSON string, after the literal JSON written so far.
class JsonState {
  public:
    void advance(std::string_view text) {
        for (size_t i = 0; i < text.size(); ++i) {
            if (m_in_string && text[i] == '\\') {
                ++i;
            } else if (text[i] == '"') {
                m_in_string = !m_in_string;
            }
        }
    }
    std::string encode(std::string_view value) const {
        if (m_in_string) {
            return util::json_escape(value);
        }
        return is_json_number(value) ? std::string(value) : "\"" + util::json_escape(value) + "\"";
    }

  private:
    static bool is_json_number(std::string_view v) {
        size_t i = 0;
        auto digits = [&] {
            size_t from = i;
            while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) {
                ++i;
            }
            return i > from;
        };
        if (i < v.size() && v[i] == '-') {
            ++i;
        }
        if (i < v.size() && v[i] == '0') {
            ++i;
        } else if (!digits()) {
            return false;
        }
        if (i < v.size() && v[i] == '.') {
            ++i;
            if (!digits()) {
                return false;
            }
        }
        if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
            ++i;
            if (i < v.size() && (v[i] == '+' || v[i] == '-')) {
                ++i;
            }
            if (!digits()) {
                return false;
            }
        }
        return i == v.size();
    }
    bool m_in_string = false;
};

bool has_any(std::string_view value, std::string_view chars) {
    return value.find_first_of(chars) != std::string_view::npos;
}

// The text after a reference, each further reference replaced by one letter: what shapes the
// place of a value (a quote, a space, an '@') is the literal text.
std::string literal_after(std::string_view text, size_t pos) {
    std::string out;
    while (pos < text.size()) {
        size_t open = text.find("{{", pos);
        size_t close = open == std::string_view::npos ? open : text.find("}}", open + 2);
        if (close == std::string_view::npos) {
            out.append(text.substr(pos));
            break;
        }
        out.append(text.substr(pos, open - pos));
        out += 'x';
        pos = close + 2;
    }
    return out;
}

// A value placed in a URL path, by where it landed in the substituted text.
struct UrlValue {
    size_t begin = 0;
    size_t end = 0;
    std::string ref;
};

std::string percent_decoded(std::string_view text) {
    auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) && hex(text[i + 2])) {
            out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

// ".." or "." when a piece of `segment` between slashes (or backslashes, a slash to some
// servers) is one, else empty.
std::string dot_piece(const std::string& segment) {
    std::string found;
    size_t from = 0;
    for (;;) {
        size_t to = segment.find_first_of("/\\", from);
        std::string piece = segment.substr(from, to == std::string::npos ? to : to - from);
        if (piece == "..") {
            return piece;
        }
        if (piece == ".") {
            found = piece;
        }
        if (to == std::string::npos) {
            return found;
        }
        from = to + 1;
    }
}

// RFC 3986 §5.2.4: every resolver, proxy and most frameworks remove "." and ".." path segments
// (after decoding %2E, §6.2.2.2), and "//" is no segment of its own: a value that makes a whole
// segment one of them moves the request to another resource. The check is on the substituted
// segment, so "{{a}}{{b}}" with a = b = "." is caught too.
void check_url_segments(const std::string& url, const std::vector<UrlValue>& values,
                        std::vector<std::string>& problems) {
    size_t begin = url.find("://");
    begin = begin == std::string::npos ? 0 : url.find_first_of("/?#", begin + 3);
    if (begin == std::string::npos || url[begin] != '/') {
        return;
    }
    size_t end = url.find_first_of("?#", begin);
    end = end == std::string::npos ? url.size() : end;
    for (size_t seg = begin + 1; seg <= end;) {
        size_t stop = std::min(url.find('/', seg), end);
        std::vector<std::string> refs;
        for (const auto& v : values) {
            if (v.begin >= seg && v.begin <= stop &&
                std::find(refs.begin(), refs.end(), v.ref) == refs.end()) {
                refs.push_back(v.ref);
            }
        }
        // Decoded whole: nginx and others decode %2E and %2F before removing dot segments, so a
        // value "../admin" (sent as ..%2Fadmin) climbs as well.
        const std::string decoded = percent_decoded(std::string_view(url).substr(seg, stop - seg));
        std::string bad = decoded.empty() ? "" : dot_piece(decoded);
        if (!refs.empty() && (decoded.empty() || !bad.empty())) {
            // Never the segment itself when it is more than a dot segment: it holds a value.
            const std::string what =
                decoded.empty() ? std::string("an empty URL path segment (//), which URL "
                                              "resolvers and proxies merge with its neighbour")
                : decoded == bad
                    ? "the URL path segment " + util::quoted(bad) +
                          ", which URL resolvers and "
                          "proxies remove" +
                          (bad == ".." ? " with the segment before it" : "")
                    : "a URL path segment holding " + util::quoted(bad) +
                          " between slashes (sent as %2F, which servers decode before they "
                          "remove " +
                          util::quoted(bad) + (bad == ".." ? " with the segment before it)" : ")");
            problems.push_back("the value of " + util::join(refs, " and ") + " makes " + what +
                               " (RFC 3986 §5.2.4): the request would address another resource");
        }
        seg = stop + 1;
    }
}

} // namespace

std::string shell_text_hint(const std::string& ref) {
    return "pass it through the environment: env = { V = \"" + ref +
           "\" } and \"$V\" in the script (or as an argument after the command string: "
           "sh -c '... \"$1\"' sh \"" +
           ref + "\")";
}

Substituter::Substituter(std::map<std::string, std::string> values) : m_values(std::move(values)) {
    for (const auto& [name, _] : m_values) {
        m_names.push_back(name);
    }
}

std::string Substituter::apply(std::string_view text, std::vector<std::string>& uses,
                               std::vector<std::string>& problems) const {
    return apply(text, Encoding::plain, uses, problems).text;
}

Substitution Substituter::apply(std::string_view text, Encoding encoding,
                                std::vector<std::string>& uses,
                                std::vector<std::string>& problems) const {
    Substitution out;
    SqlState sql;
    JsonState json;
    std::vector<std::string> sql_names; // the variable of $1, $2, ...
    std::vector<UrlValue> url_values;   // where each value landed in a URL
    size_t pos = 0;
    for (;;) {
        size_t open = text.find("{{", pos);
        size_t close = open == std::string_view::npos ? open : text.find("}}", open + 2);
        std::string_view literal =
            text.substr(pos, close == std::string_view::npos ? std::string_view::npos : open - pos);
        sql.advance(literal, out.text);
        json.advance(literal);
        out.text.append(literal);
        if (close == std::string_view::npos) {
            if (!url_values.empty()) {
                check_url_segments(out.text, url_values, problems);
            }
            return out;
        }
        std::string_view inner = text.substr(open + 2, close - open - 2);
        std::string name(util::trim(inner));
        pos = close + 2;
        auto it = m_values.find(name);
        if (it == m_values.end()) {
            if (!is_variable_name(name)) {
                problems.push_back("invalid variable reference " +
                                   util::quoted(text.substr(open, close + 2 - open)) +
                                   " (write {{name}})");
            } else {
                std::string problem = "undefined variable " + util::quoted(name);
                if (auto guess = util::closest_match(name, m_names); !guess.empty()) {
                    problem += " (did you mean " + util::quoted(guess) + "?)";
                }
                problems.push_back(problem);
            }
            continue;
        }
        if (std::find(uses.begin(), uses.end(), name) == uses.end()) {
            uses.push_back(name);
        }
        const std::string& value = it->second;
        const std::string ref = "{{" + name + "}}";
        auto refuse_nul = [&](std::string_view what) {
            if (value.find('\0') != std::string::npos) {
                problems.push_back("the value of " + ref + " contains a NUL byte, which " +
                                   std::string(what) + " cannot carry");
                return true;
            }
            return false;
        };
        switch (encoding) {
        case Encoding::plain:
            if (!refuse_nul("a program argument, environment value or path")) {
                out.text += value;
            }
            break;
        case Encoding::argv: // one element of an argv array, read as data
            if (refuse_nul("a program argument")) {
                break;
            }
            if (auto why = pipe_name_problem(out.text, value, pos >= text.size()); !why.empty()) {
                problems.push_back("the value of " + ref + " " + why);
                break;
            }
            out.text += value;
            break;
        case Encoding::operand:
            if (!refuse_nul("a program argument")) {
                out.text += value;
            }
            break;
        case Encoding::service_name:
            if (refuse_nul("a program argument")) {
                break;
            }
            if (std::find(m_unknown.begin(), m_unknown.end(), name) == m_unknown.end()) {
                if (auto why = service_name_problem(value); !why.empty()) {
                    problems.push_back("the value of " + ref + " " + why);
                    break;
                }
            }
            out.text += value;
            break;
        case Encoding::shell:
            // Never a value in shell text: no quoting keeps it data everywhere a shell can put
            // it (arithmetic, variable names, traps, backquotes, nested command strings).
            problems.push_back(ref + " in shell text: " + std::string(k_shell_text_refusal) + "; " +
                               shell_text_hint(ref));
            break;
        case Encoding::url:
            if (open == 0) {
                // The base URL ("{{shop_url}}/health/"): a URL itself, checked whole later.
                if (has_any(value, std::string_view(" \t\r\n\0", 5))) {
                    problems.push_back("the value of " + ref +
                                       " begins the URL and contains whitespace, a line break "
                                       "or NUL; a base URL cannot");
                } else {
                    out.text += value;
                }
            } else {
                const size_t at = out.text.size();
                out.text += util::percent_encode(value);
                if (std::find(m_unknown.begin(), m_unknown.end(), name) == m_unknown.end()) {
                    url_values.push_back({at, out.text.size(), ref});
                }
            }
            break;
        case Encoding::header:
            if (has_any(value, std::string_view("\r\n\0", 3))) {
                problems.push_back("the value of " + ref +
                                   " contains a line break (CR or LF) or NUL, which would end "
                                   "the header; a header value cannot carry it");
            } else {
                out.text += value;
            }
            break;
        case Encoding::json:
            out.text += json.encode(value);
            break;
        case Encoding::form:
            out.text += util::percent_encode(value);
            break;
        case Encoding::dsn:
            if (refuse_nul("a connection string")) {
                break;
            }
            if (open == 0) {
                out.text += value; // the base DSN ("{{database_url}}"): a DSN itself
                break;
            }
            if (auto place = detail::dsn_place(out.text, literal_after(text, pos));
                !place.problem.empty()) {
                problems.push_back(ref + " " + place.problem);
            } else if (auto why = detail::dsn_value_problem(place.key, value); !why.empty()) {
                problems.push_back("the value of " + ref + " " + why);
            } else {
                out.text += detail::dsn_write(place, value);
            }
            break;
        case Encoding::sql: {
            if (refuse_nul("a SQL parameter")) {
                break;
            }
            auto where = sql.where();
            if (where == SqlState::string) {
                // '{{v}}' alone in its literal: the literal is the parameter.
                bool alone = sql.string_start() == out.text.size() && pos < text.size() &&
                             text[pos] == '\'' && (pos + 1 >= text.size() || text[pos + 1] != '\'');
                if (!alone) {
                    problems.push_back(ref +
                                       " inside a SQL string literal: a value is a bound "
                                       "parameter, never text in a literal; write " +
                                       ref + " alone (or '" + ref +
                                       "'), and build text with || ('prefix-' || " + ref + ")");
                    break;
                }
                out.text.pop_back(); // the opening quote
                ++pos;               // the closing quote
                sql.leave_string();
            } else if (where != SqlState::code) {
                problems.push_back(
                    ref +
                    std::string(where == SqlState::ident     ? " inside a quoted identifier"
                                : where == SqlState::estring ? " inside an E'...' string literal"
                                : where == SqlState::dollar  ? " inside a dollar-quoted string"
                                                             : " inside a SQL comment") +
                    ": a value can only be a bound parameter, where SQL takes a value");
                break;
            }
            auto n = std::find(sql_names.begin(), sql_names.end(), name);
            if (n == sql_names.end()) {
                sql_names.push_back(name);
                out.params.push_back(value);
                n = sql_names.end() - 1;
            }
            out.text += "$" + std::to_string(n - sql_names.begin() + 1);
            break;
        }
        }
    }
}

} // namespace rollback::playbook
