// SPDX-License-Identifier: MIT
#pragma once

// Internal to substitute.cpp: where a {{variable}} stands in a libpq connection string (the
// `dsn` of sql, sql_assert and pg_restore), and how its value is written there so that it stays
// the one parameter value it was written as (libpq docs, "Connection Strings").

#include "util/encode.hpp"

#include <cctype>
#include <string>
#include <string_view>

namespace rollback::playbook::detail {

/// How a value is written at one place of a connection string, or why it cannot be.
struct DsnPlace {
    enum Write { refuse, kv_quoted, kv_in_quotes, kv_escaped, uri_encoded };
    Write write = refuse;
    std::string key;     ///< the parameter the value belongs to ("dbname", "host", "user", ...)
    std::string problem; ///< refuse: why, completing "{{v}} ..."
};

inline bool dsn_space(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// libpq's URI designators; its test is case-sensitive (strncmp), and so is this one.
inline size_t dsn_uri_prefix(std::string_view text) {
    for (std::string_view p :
         {std::string_view("postgresql://"), std::string_view("postgres://")}) {
        if (text.substr(0, p.size()) == p) {
            return p.size();
        }
    }
    return 0;
}

// key=value form: `before` is the connection string up to the reference, `after` what follows
// it (other references as placeholders). Follows libpq's conninfo_parse state by state.
inline DsnPlace dsn_kv_place(std::string_view before, std::string_view after) {
    enum { between, key, after_key, value_start, unquoted, quoted } state = between;
    bool escaped = false; // the last character was a backslash inside a value
    std::string key_name;
    for (char c : before) {
        if (escaped) {
            escaped = false;
            continue;
        }
        switch (state) {
        case between:
            if (!dsn_space(c)) {
                key_name.assign(1, c);
                state = c == '=' ? value_start : key;
            }
            break;
        case key:
            if (c == '=') {
                state = value_start;
            } else if (dsn_space(c)) {
                state = after_key;
            } else {
                key_name += c;
            }
            break;
        case after_key:
            state = c == '=' ? value_start : key; // not '=': libpq's "missing =" error
            break;
        case value_start:
            if (c == '\'') {
                state = quoted;
            } else if (!dsn_space(c)) {
                state = unquoted;
                escaped = c == '\\';
            }
            break;
        case unquoted:
            if (dsn_space(c)) {
                state = between;
            } else {
                escaped = c == '\\';
            }
            break;
        case quoted:
            if (c == '\'') {
                state = between;
            } else {
                escaped = c == '\\';
            }
            break;
        }
    }
    DsnPlace p;
    p.key = key_name;
    if (state == between || state == key || state == after_key) {
        p.problem = "where a connection string takes a parameter name: a value can only be a "
                    "parameter's value (write name={{...}})";
    } else if (escaped) {
        p.problem = "right after a backslash in the connection string: the backslash would take "
                    "the value's first character";
    } else if (state == quoted) {
        p.write = DsnPlace::kv_in_quotes;
    } else if (state == unquoted) {
        p.write = DsnPlace::kv_escaped;
    } else if (after.empty() || dsn_space(after.front())) {
        p.write = DsnPlace::kv_quoted; // the whole value: 'v'
    } else if (after.front() == '\'') {
        p.problem =
            "directly before a quote: whether the value is quoted would depend on the value";
    } else {
        p.write = DsnPlace::kv_escaped;
    }
    return p;
}

// URI form (after the designator at `prefix`): `before` the URI up to the reference, `after` what
// follows it. The part is found as libpq finds it: credentials up to an '@' met before any '/',
// then the host list up to '/' or '?', the database name up to '?', then name=value&... pairs.
inline DsnPlace dsn_uri_place(std::string_view before, std::string_view after, size_t prefix) {
    const std::string all = std::string(before) + "x" + std::string(after);
    const size_t at = before.size();
    DsnPlace p;
    p.write = DsnPlace::uri_encoded;
    size_t hosts = prefix;
    if (size_t cred = all.find_first_of("@/", prefix);
        cred != std::string::npos && all[cred] == '@') {
        if (at < cred) {
            p.key = before.find(':', prefix) == std::string_view::npos ? "user" : "password";
            return p;
        }
        hosts = cred + 1;
    }
    const size_t hosts_end = all.find_first_of("/?", hosts);
    if (at < hosts_end) {
        p.key = "host"; // or its port: both lists, split at commas after percent-decoding
        return p;
    }
    const size_t query = all.find('?', hosts_end);
    if (all[hosts_end] == '/' && at < query) {
        p.key = "dbname";
        return p;
    }
    const size_t pair = before.find_last_of("?&");
    const size_t eq = before.find('=', pair + 1);
    if (eq == std::string_view::npos) {
        p.write = DsnPlace::refuse;
        p.problem = "in a parameter name of the connection URI: a value can only be a "
                    "parameter's value (write ?name={{...}})";
        return p;
    }
    p.key = std::string(before.substr(pair + 1, eq - pair - 1));
    return p;
}

/// Where a reference stands in a connection string: `before` is the text before it (already
/// substituted), `after` the literal text after it.
inline DsnPlace dsn_place(std::string_view before, std::string_view after) {
    if (size_t prefix = dsn_uri_prefix(before); prefix != 0) {
        return dsn_uri_place(before, after, prefix);
    }
    for (std::string_view p :
         {std::string_view("postgresql://"), std::string_view("postgres://")}) {
        if (!before.empty() && before.size() < p.size() && p.substr(0, before.size()) == before) {
            DsnPlace refused;
            refused.problem = "inside the connection URI's scheme";
            return refused;
        }
    }
    return dsn_kv_place(before, after);
}

/// `value` written as `place` says (never called for DsnPlace::refuse).
inline std::string dsn_write(const DsnPlace& place, std::string_view value) {
    if (place.write == DsnPlace::uri_encoded) {
        return util::percent_encode(value);
    }
    std::string out;
    for (char c : value) {
        // A backslash takes the next character literally, in and out of quotes (conninfo_parse).
        if (c == '\\' || c == '\'' || (place.write == DsnPlace::kv_escaped && dsn_space(c))) {
            out += '\\';
        }
        out += c;
    }
    return place.write == DsnPlace::kv_quoted ? "'" + out + "'" : out;
}

/// Why `value` cannot be the value of `key` at all, or empty. host, hostaddr and port are
/// comma-separated lists (also after percent-decoding), and options is split again by the server
/// at spaces into command-line options: no quoting makes a value one entry there.
inline std::string dsn_value_problem(const std::string& key, std::string_view value) {
    if ((key == "host" || key == "hostaddr" || key == "port") &&
        value.find(',') != std::string_view::npos) {
        return "is the value of " + key +
               ", a comma-separated list: the value holds a comma, which would make it several";
    }
    if (key == "options") {
        return "is in options, which the server splits into command-line options: a value "
               "cannot be kept one value there (set the parameter in the playbook's text)";
    }
    return {};
}

} // namespace rollback::playbook::detail
