// SPDX-License-Identifier: MIT
#include "util/secrets.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

namespace rollback::util {
namespace {

std::mutex g_mutex;
std::vector<std::string> g_secrets; // longest first, so a secret containing another masks whole

} // namespace

void register_secret(std::string_view value) {
    if (value.size() < 3) {
        return;
    }
    std::lock_guard lock(g_mutex);
    if (std::find(g_secrets.begin(), g_secrets.end(), value) != g_secrets.end()) {
        return;
    }
    g_secrets.emplace_back(value);
    std::sort(g_secrets.begin(), g_secrets.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

std::string mask_secrets(std::string_view text) {
    std::lock_guard lock(g_mutex);
    std::string out(text);
    for (const auto& s : g_secrets) {
        out = replace_all(std::move(out), s, "***");
    }
    return out;
}

void clear_secrets() {
    std::lock_guard lock(g_mutex);
    g_secrets.clear();
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
