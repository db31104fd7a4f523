// SPDX-License-Identifier: MIT
// LogFormat::compile: a log_format string (or a named format) into the field list the parser
// walks. Runs once per source; the per-line parser is in access_log.cpp.
#include "sources/access_log.hpp"

#include "sources/multi_value.hpp"
#include "util/error.hpp"

#include <cstring>

namespace rollback::sources {

namespace {

constexpr std::string_view k_combined =
    "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
    "\"$http_referer\" \"$http_user_agent\"";

} // namespace

LogFormat::Literal LogFormat::Literal::of(std::string text) {
    Literal lit;
    if (!text.empty() && text.size() <= 8) {
        char word[8] = {}, mask[8] = {};
        std::memcpy(word, text.data(), text.size());
        std::memset(mask, 0xff, text.size());
        std::memcpy(&lit.word, word, 8);
        std::memcpy(&lit.mask, mask, 8);
    }
    lit.text = std::move(text);
    return lit;
}

LogFormat LogFormat::compile(std::string_view spec) {
    LogFormat f;
    f.m_spec = std::string(spec);
    std::string text;
    if (spec == "combined") {
        text = std::string(k_combined);
    } else if (spec == "combined_request_time") {
        text = std::string(k_combined) + " $request_time";
    } else if (spec == "combined_request_time_us") {
        // Apache's `LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\" %D"`:
        // %D is the request time in microseconds, not nginx's seconds.
        text = std::string(k_combined) + " $request_time_us";
    } else {
        text = std::string(spec);
    }
    std::string literal;
    size_t i = 0;
    bool have_time = false, have_status = false;
    while (i < text.size()) {
        if (text[i] != '$') {
            literal += text[i++];
            continue;
        }
        size_t j = i + 1;
        bool braced = j < text.size() && text[j] == '{';
        if (braced) {
            ++j;
        }
        size_t start = j;
        while (j < text.size() &&
               (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_')) {
            ++j;
        }
        std::string name = text.substr(start, j - start);
        if (braced) {
            if (j >= text.size() || text[j] != '}') {
                throw util::Error("log format: unterminated ${ at offset " + std::to_string(i));
            }
            ++j;
        }
        if (name.empty()) {
            throw util::Error("log format: '$' without a variable name at offset " +
                              std::to_string(i));
        }
        if (!f.m_fields.empty() && literal.empty()) {
            throw util::Error("log format: $" + name +
                              " directly follows another variable; fields need a separator");
        }
        Field fld;
        fld.before = Literal::of(literal);
        fld.quoted = !literal.empty() && literal.back() == '"';
        fld.multi = is_multi_value_variable(name);
        literal.clear();
        if (name == "time_local") {
            fld.var = Var::time_local;
        } else if (name == "time_iso8601") {
            fld.var = Var::time_iso8601;
        } else if (name == "msec") {
            fld.var = Var::msec;
        } else if (name == "status") {
            fld.var = Var::status;
        } else if (name == "request_time") {
            fld.var = Var::request_time;
        } else if (name == "request_time_us") {
            fld.var = Var::request_time_us;
        } else if (name == "upstream_response_time") {
            fld.var = Var::upstream_response_time;
        }
        have_time = have_time || fld.var == Var::time_local || fld.var == Var::time_iso8601 ||
                    fld.var == Var::msec;
        have_status = have_status || fld.var == Var::status;
        if (fld.var == Var::request_time || fld.var == Var::request_time_us ||
            (fld.var == Var::upstream_response_time && f.m_latency_var < 0)) {
            f.m_latency_var = static_cast<int>(f.m_fields.size());
        }
        f.m_fields.push_back(std::move(fld));
        i = j;
    }
    f.m_trailer = Literal::of(literal);
    if (!have_time) {
        throw util::Error("log format " + std::string(spec) +
                          ": no time variable ($time_local, $time_iso8601 or $msec)");
    }
    if (!have_status) {
        throw util::Error("log format " + std::string(spec) + ": no $status variable");
    }
    // Parse left to right up to the last needed field; a needed last field separated by one
    // character is read backwards from the end of the line, skipping long fields (user agent).
    const int n = static_cast<int>(f.m_fields.size());
    int last_needed = -1;
    for (int k = 0; k < n; ++k) {
        if (f.m_fields[static_cast<size_t>(k)].var != Var::other) {
            last_needed = k;
        }
    }
    const Field& last = f.m_fields.back();
    f.m_tail = last_needed == n - 1 && n >= 2 && f.m_trailer.text.empty() &&
               last.before.text.size() == 1 && !last.quoted;
    int forward_to = -1;
    for (int k = 0; k < (f.m_tail ? n - 1 : n); ++k) {
        if (f.m_fields[static_cast<size_t>(k)].var != Var::other) {
            forward_to = k;
        }
    }
    // Fields after the last one the engine uses are not read at all: faster, and a truncated
    // user agent (seen in real logs) does not cost the line.
    f.m_forward = f.m_tail ? forward_to + 1 : last_needed + 1;
    return f;
}

} // namespace rollback::sources
