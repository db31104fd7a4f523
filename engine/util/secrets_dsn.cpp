// SPDX-License-Identifier: MIT
// util::mask_dsn: a PostgreSQL connection string's password masked and registered as a secret,
// in both of libpq's spellings (key=value, and the URI's user info or query).
#include "util/secrets.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace rollback::util {

namespace {

/// `text` with every %XX decoded (a malformed escape is kept as written), as libpq decodes the
/// parts of a connection URI.
std::string percent_decoded(std::string_view text) {
    auto hex = [](char c) {
        return c >= '0' && c <= '9'   ? c - '0'
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                      : -1;
    };
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 &&
            hex(text[i + 2]) >= 0) {
            out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

} // namespace

std::string mask_dsn(std::string_view dsn) {
    std::string out(dsn);
    // URI form (libpq "Connection URIs"): scheme://user:password@host/db?password=...&...
    // Both spellings of a password, as written and percent-decoded as libpq reads them.
    size_t scheme = out.find("://");
    if (scheme != std::string::npos) {
        const size_t query = out.find('?', scheme + 3);
        size_t at = out.find('@', scheme + 3);
        size_t colon = out.find(':', scheme + 3);
        if (at != std::string::npos && at < query && colon != std::string::npos && colon < at) {
            const std::string pw = out.substr(colon + 1, at - colon - 1);
            register_secret(pw);
            register_secret(percent_decoded(pw));
            out.replace(colon + 1, at - colon - 1, "***");
        }
        for (size_t p = out.find('?', scheme + 3); p != std::string::npos; p = out.find('&', p)) {
            ++p;
            const size_t end = std::min(out.find('&', p), out.size());
            const std::string_view param = std::string_view(out).substr(p, end - p);
            const size_t eq = param.find('=');
            if (eq == std::string_view::npos ||
                percent_decoded(param.substr(0, eq)) != "password") {
                continue;
            }
            const std::string pw(param.substr(eq + 1));
            register_secret(pw);
            register_secret(percent_decoded(pw));
            out.replace(p + eq + 1, pw.size(), "***");
        }
        return out;
    }
    // key=value form, read as libpq reads it: password=secret, password = 'se cret', a
    // backslash taking the next character, a quote left open running to the end.
    for (size_t pos = out.find("password"); pos != std::string::npos;
         pos = out.find("password", pos + 1)) {
        if (pos != 0 && !std::isspace(static_cast<unsigned char>(out[pos - 1]))) {
            continue;
        }
        size_t begin = pos + 8;
        while (begin < out.size() && std::isspace(static_cast<unsigned char>(out[begin]))) {
            ++begin;
        }
        if (begin >= out.size() || out[begin] != '=') {
            continue;
        }
        ++begin;
        while (begin < out.size() && std::isspace(static_cast<unsigned char>(out[begin]))) {
            ++begin;
        }
        const bool quoted = begin < out.size() && out[begin] == '\'';
        std::string pw;
        size_t end = begin + (quoted ? 1 : 0);
        for (; end < out.size(); ++end) {
            if (out[end] == '\\' && end + 1 < out.size()) {
                pw += out[++end];
            } else if (quoted ? out[end] == '\''
                              : std::isspace(static_cast<unsigned char>(out[end]))) {
                end += quoted ? 1 : 0;
                break;
            } else {
                pw += out[end];
            }
        }
        register_secret(pw);
        register_secret(out.substr(begin, end - begin)); // as written, quotes and escapes too
        out.replace(begin, end - begin, "***");
    }
    return out;
}

} // namespace rollback::util
