// SPDX-License-Identifier: MIT
#include "util/secrets.hpp"

#include "util/encode.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

namespace rollback::util {
namespace {

std::mutex g_mutex;
std::vector<std::string> g_secrets; // as registered
std::vector<std::string> g_forms;   // every form of every secret, lower case, longest first

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = lower(c);
    }
    return out;
}

// Masks `text` from the start; stops before the first match that starts at or after `limit`
// (a match starting before it is always complete when limit <= size - (longest form - 1)).
// Returns the number of bytes of `text` consumed into `out`. Caller holds g_mutex.
size_t mask_locked(std::string_view text, size_t limit, std::string& out) {
    if (g_forms.empty()) {
        size_t n = std::min(limit, text.size());
        out.append(text.substr(0, n));
        return n;
    }
    const std::string low = to_lower(text);
    std::vector<size_t> next(g_forms.size(), 0);
    for (size_t k = 0; k < g_forms.size(); ++k) {
        next[k] = low.find(g_forms[k]);
    }
    size_t i = 0;
    for (;;) {
        // The leftmost match; at equal positions the longest form (g_forms is longest first).
        size_t best = std::string::npos;
        size_t best_len = 0;
        for (size_t k = 0; k < g_forms.size(); ++k) {
            if (next[k] != std::string::npos && next[k] < i) {
                next[k] = low.find(g_forms[k], i);
            }
            if (next[k] < best) {
                best = next[k];
                best_len = g_forms[k].size();
            }
        }
        if (best == std::string::npos || best >= limit) {
            size_t end = std::max(i, std::min(limit, text.size()));
            out.append(text.substr(i, end - i));
            return end;
        }
        out.append(text.substr(i, best - i));
        out += "***";
        i = best + best_len;
    }
}

} // namespace

std::vector<std::string> secret_forms(std::string_view value) {
    std::vector<std::string> forms;
    auto add = [&](std::string form) {
        form = to_lower(form);
        if (form.size() >= 3 && std::find(forms.begin(), forms.end(), form) == forms.end()) {
            forms.push_back(std::move(form));
        }
    };
    const std::string v(value);
    add(v);
    std::string url = percent_encode(value);
    add(url);
    add(replace_all(url, "%20", "+")); // application/x-www-form-urlencoded
    // encodeURI and Python's quote() keep "/" (and encodeURI the other reserved characters).
    add(replace_all(url, "%2F", "/"));
    std::string uri = url;
    for (const char* kept :
         {"%3B", "%2C", "%2F", "%3F", "%3A", "%40", "%26", "%3D", "%2B", "%24", "%23"}) {
        const char c = static_cast<char>(std::stoi(std::string(kept + 1), nullptr, 16));
        uri = replace_all(uri, kept, std::string(1, c));
    }
    add(uri);
    const std::string json = json_escape(value);
    add(json);
    add(replace_all(json, "/", "\\/")); // PHP's json_encode escapes "/"
    add(replace_all(v, "'", "'\\''"));
    add(replace_all(v, "'", "''"));
    // Python's repr and most languages' string literals: \ and \' escaped.
    add(replace_all(replace_all(v, "\\", "\\\\"), "'", "\\'"));
    if (v.find('\n') != std::string::npos) {
        // A multi-line secret (a key, a certificate) printed with its line breaks changed, or
        // one line at a time.
        const std::string lf = replace_all(v, "\r\n", "\n");
        for (const char* sep : {" ", "\r", "\r\n", "", "\\n"}) {
            add(replace_all(lf, "\n", sep));
        }
        for (const auto& line : split(lf, '\n')) {
            if (line.size() >= 8) {
                add(std::string(line));
            }
        }
    }
    return forms;
}

void register_secret(std::string_view value) {
    if (value.size() < 3) {
        return;
    }
    std::lock_guard lock(g_mutex);
    if (std::find(g_secrets.begin(), g_secrets.end(), value) != g_secrets.end()) {
        return;
    }
    g_secrets.emplace_back(value);
    for (auto& form : secret_forms(value)) {
        if (std::find(g_forms.begin(), g_forms.end(), form) == g_forms.end()) {
            g_forms.push_back(std::move(form));
        }
    }
    std::stable_sort(g_forms.begin(), g_forms.end(),
                     [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

std::string mask_secrets(std::string_view text) {
    std::lock_guard lock(g_mutex);
    std::string out;
    mask_locked(text, text.size(), out);
    return out;
}

std::string SecretMasker::feed(std::string_view chunk) {
    m_pending.append(chunk);
    std::lock_guard lock(g_mutex);
    size_t hold = g_forms.empty() ? 0 : g_forms.front().size() - 1;
    size_t limit = m_pending.size() > hold ? m_pending.size() - hold : 0;
    std::string out;
    size_t used = mask_locked(m_pending, limit, out);
    m_pending.erase(0, used);
    return out;
}

std::string SecretMasker::finish() {
    std::lock_guard lock(g_mutex);
    std::string out;
    mask_locked(m_pending, m_pending.size(), out);
    m_pending.clear();
    return out;
}

std::string terminal_text(std::string_view text) {
    return visible_controls(mask_secrets(text));
}

void clear_secrets() {
    std::lock_guard lock(g_mutex);
    g_secrets.clear();
    g_forms.clear();
}

std::string mask_dsn(std::string_view dsn) {
    std::string out(dsn);
    // URI form: scheme://user:password@host
    size_t scheme = out.find("://");
    if (scheme != std::string::npos) {
        size_t at = out.find('@', scheme + 3);
        size_t colon = out.find(':', scheme + 3);
        if (at != std::string::npos && colon != std::string::npos && colon < at) {
            register_secret(out.substr(colon + 1, at - colon - 1));
            out.replace(colon + 1, at - colon - 1, "***");
        }
        return out;
    }
    // key=value form: password=secret or password='se cret'
    size_t pos = out.find("password=");
    if (pos != std::string::npos && (pos == 0 || out[pos - 1] == ' ')) {
        size_t begin = pos + 9;
        size_t end = begin;
        if (end < out.size() && out[end] == '\'') {
            end = out.find('\'', begin + 1);
            end = end == std::string::npos ? out.size() : end + 1;
        } else {
            end = out.find(' ', begin);
            end = end == std::string::npos ? out.size() : end;
        }
        std::string pw = out.substr(begin, end - begin);
        if (pw.size() >= 2 && pw.front() == '\'') {
            register_secret(pw.substr(1, pw.size() - 2));
        } else {
            register_secret(pw);
        }
        out.replace(begin, end - begin, "***");
    }
    return out;
}

} // namespace rollback::util
